from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from taskapi.core.schemas import NOT_BLANK_PATTERN, RequestModel, ResponseModel, UTCTimestamp
from taskapi.tags.models import tag_key
from taskapi.tags.schemas import TagName
from taskapi.tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Priority, Recurrence

Title = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=TITLE_MAX_LENGTH,
        pattern=NOT_BLANK_PATTERN,
    ),
    Field(description=f"1–{TITLE_MAX_LENGTH} characters after trimming surrounding whitespace."),
]


def _null_is_empty(value: object) -> object:
    return "" if value is None else value


Description = Annotated[
    str,
    BeforeValidator(_null_is_empty),
    StringConstraints(max_length=DESCRIPTION_MAX_LENGTH),
    Field(
        description=f'Up to {DESCRIPTION_MAX_LENGTH:,} characters; null is stored as "".',
        json_schema_extra={"type": ["string", "null"]},
    ),
]


MAX_TAGS_PER_TASK = 20


def _merge_tags(names: list[str]) -> list[str]:
    """Merge names that differ only in case (the first spelling wins), then cap the count."""
    merged: dict[str, str] = {}
    for name in names:
        merged.setdefault(tag_key(name), name)
    if len(merged) > MAX_TAGS_PER_TASK:
        raise ValueError(f"at most {MAX_TAGS_PER_TASK} different tags per task")
    return list(merged.values())


Tags = Annotated[
    list[TagName],
    Field(
        max_length=200,
        description=f"Up to {MAX_TAGS_PER_TASK} tag names; duplicates (ignoring case) are merged.",
    ),
    AfterValidator(_merge_tags),
]


class TaskWrite(RequestModel):
    """Fields a client may set on create and on full replacement (PUT)."""

    title: Title
    description: Description = ""
    completed: StrictBool = False
    priority: Priority = Priority.none
    due_at: UTCTimestamp | None = None
    recurrence: Recurrence | None = None
    tags: Tags = Field(default_factory=list)


class TaskCreate(TaskWrite):
    pass


class TaskReplace(TaskWrite):
    """PUT: every field not given returns to its default."""


class TaskUpdate(RequestModel):
    """PATCH: only the fields given change; ``due_at``/``recurrence`` null clears them."""

    # `| SkipJsonSchema[None]`: absent means "unchanged", but null is refused, and the
    # OpenAPI document must not call these fields nullable.
    title: Title | SkipJsonSchema[None] = None
    description: Description = ""  # null is stored as "", like on create
    completed: StrictBool | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    due_at: UTCTimestamp | None = None
    recurrence: Recurrence | None = None
    tags: Tags | SkipJsonSchema[None] = None

    @field_validator("title", "completed", "priority", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TaskRead(ResponseModel):
    id: uuid.UUID
    title: str
    description: str
    completed: bool
    completed_at: datetime | None
    priority: Priority
    due_at: datetime | None
    tags: list[str] = Field(description="Tag names, alphabetical (ignoring case).")
    recurrence: Recurrence | None
    created_at: datetime
    updated_at: datetime
    version: int


class TaskPage(ResponseModel):
    items: list[TaskRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class TaskCompletion(TaskRead):
    next: TaskRead | None = Field(
        default=None,
        description="For a recurring task with a due date: the next occurrence it created.",
    )
