from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from taskapi.core.models import UTCDateTime, utcnow

EMAIL_MAX_LENGTH = 320
DISPLAY_NAME_MAX_LENGTH = 100
SUBJECT_MAX_LENGTH = 255


class User(SQLModel, table=True):
    __tablename__ = "users"
    # An external identity is (issuer, subject): two issuers may use the same subject.
    __table_args__ = (UniqueConstraint("auth_issuer", "auth_subject"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # As the user typed it (or as the issuer's token says; may be absent there).
    email: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH)
    # Lower-cased e-mail of a built-in account, unique. NULL for external accounts: an
    # issuer's claim about an address must never take over a built-in account.
    email_key: str | None = Field(default=None, max_length=EMAIL_MAX_LENGTH, unique=True)
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX_LENGTH)
    # None for accounts that only sign in through an external issuer.
    password_hash: str | None = Field(default=None, max_length=255)
    auth_issuer: str | None = Field(default=None, max_length=SUBJECT_MAX_LENGTH)
    auth_subject: str | None = Field(default=None, max_length=SUBJECT_MAX_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_external(self) -> bool:
        return self.auth_issuer is not None


class DeletedIdentity(SQLModel, table=True):
    """An external account that was deleted: its tokens issued before then stay refused,
    instead of silently provisioning a new, empty account."""

    __tablename__ = "deleted_identities"

    auth_issuer: str = Field(primary_key=True, max_length=SUBJECT_MAX_LENGTH)
    auth_subject: str = Field(primary_key=True, max_length=SUBJECT_MAX_LENGTH)
    deleted_at: datetime = Field(sa_type=UTCDateTime)
