from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from taskapi.core.schemas import NOT_BLANK_PATTERN, RequestModel
from taskapi.tags.models import TAG_MAX_LENGTH

TagName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TAG_MAX_LENGTH, pattern=NOT_BLANK_PATTERN
    ),
    Field(description=f"1–{TAG_MAX_LENGTH} characters after trimming; case-insensitive."),
]


class TagRead(BaseModel):
    name: str


class TagSummary(BaseModel):
    name: str
    task_count: int


class TagRename(RequestModel):
    name: TagName = Field(description="The new name; an existing tag's name merges the two.")
