from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from taskapi.core.models import UTCDateTime, utcnow

TAG_MAX_LENGTH = 50


def tag_key(name: str) -> str:
    """What makes two tag names the same: case-insensitive (Unicode case folding)."""
    return name.strip().casefold()


class Tag(SQLModel, table=True):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("user_id", "name_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    # As first typed (or as renamed); ``name_key`` is what is unique per user.
    name: str = Field(max_length=TAG_MAX_LENGTH)
    # Case folding can lengthen a name ("ß" → "ss"): room for that.
    name_key: str = Field(max_length=TAG_MAX_LENGTH * 3)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TaskTag(SQLModel, table=True):
    """A tag on a task. Carries ``user_id`` so every query can stay owner-scoped."""

    __tablename__ = "task_tags"
    __table_args__ = (Index("ix_task_tags_tag_id_task_id", "tag_id", "task_id"),)

    task_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    tag_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
