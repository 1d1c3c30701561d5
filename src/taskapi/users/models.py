from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from taskapi.core.models import UTCDateTime, utcnow

EMAIL_MAX_LENGTH = 320
DISPLAY_NAME_MAX_LENGTH = 100


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # As the user typed it; ``email_key`` (lower-cased) is what makes it unique.
    email: str = Field(max_length=EMAIL_MAX_LENGTH)
    email_key: str = Field(max_length=EMAIL_MAX_LENGTH, unique=True)
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX_LENGTH)
    # None for accounts that only sign in through an external issuer.
    password_hash: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
