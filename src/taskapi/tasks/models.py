from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, Index, Integer, Uuid
from sqlmodel import Field, SQLModel

from taskapi.core.models import EnumText, RankedEnum, UTCDateTime, utcnow

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000


class Priority(enum.StrEnum):
    """Declaration order is the sort order: none < low < medium < high < urgent."""

    none = "none"
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class Recurrence(enum.StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    yearly = "yearly"


# Shared by the field and the mapper so the ORM knows which column is the version.
_version_column = Column("version", Integer, nullable=False, default=1)


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        # One index per sort key, each ending in id: keyset pages are index range scans.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_due_at_id", "user_id", "due_at", "id"),
        Index("ix_tasks_user_id_priority_id", "user_id", "priority", "id"),
        Index("ix_tasks_user_id_title_id", "user_id", "title", "id"),
    )
    # The ORM adds "WHERE version = <loaded>" to every UPDATE and bumps it: the
    # optimistic-concurrency check behind If-Match costs no extra query.
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": _version_column}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    title: str = Field(max_length=TITLE_MAX_LENGTH)
    description: str = Field(default="", max_length=DESCRIPTION_MAX_LENGTH)
    completed: bool = Field(default=False)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    priority: Priority = Field(default=Priority.none, sa_type=RankedEnum(Priority))
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recurrence: Recurrence | None = Field(default=None, sa_type=EnumText(Recurrence, 10))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The occurrence that completing this recurring task created, so that completing
    # it again (after a reopen) does not create a second one.
    next_task_id: uuid.UUID | None = Field(default=None)
    version: int = Field(default=1, sa_column=_version_column)
