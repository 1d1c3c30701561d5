from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictBool, StringConstraints, field_validator

from taskapi.core.schemas import RequestModel, ResponseModel, UTCTimestamp
from taskapi.tasks.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Priority, Recurrence

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH),
    Field(description=f"1–{TITLE_MAX_LENGTH} characters after trimming surrounding whitespace."),
]


def _null_is_empty(value: object) -> object:
    return "" if value is None else value


Description = Annotated[
    str,
    BeforeValidator(_null_is_empty),
    Field(
        max_length=DESCRIPTION_MAX_LENGTH,
        description=f'Up to {DESCRIPTION_MAX_LENGTH:,} characters; null is stored as "".',
        json_schema_extra={"type": ["string", "null"]},
    ),
]


class TaskWrite(RequestModel):
    """Fields a client may set on create and on full replacement (PUT)."""

    title: Title
    description: Description = ""
    completed: StrictBool = False
    priority: Priority = Priority.none
    due_at: UTCTimestamp | None = None
    recurrence: Recurrence | None = None


class TaskCreate(TaskWrite):
    pass


class TaskReplace(TaskWrite):
    """PUT: every field not given returns to its default."""


class TaskUpdate(RequestModel):
    """PATCH: only the fields given change; ``due_at``/``recurrence`` null clears them."""

    title: Title | None = None
    description: Description | None = None
    completed: StrictBool | None = None
    priority: Priority | None = None
    due_at: UTCTimestamp | None = None
    recurrence: Recurrence | None = None

    @field_validator("title", "completed", "priority", mode="before")
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
