from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field, SQLModel

from taskapi.core.models import UTCDateTime, utcnow

KEY_MAX_LENGTH = 255


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a request made with an Idempotency-Key, per user and key."""

    __tablename__ = "idempotency_keys"

    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    key: str = Field(primary_key=True, max_length=KEY_MAX_LENGTH)
    # SHA-256 of the request (method, path, canonical body): same key + other body = 422.
    fingerprint: str = Field(max_length=64)
    status_code: int | None = Field(default=None)
    response_body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
