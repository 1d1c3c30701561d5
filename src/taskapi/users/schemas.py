from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints

from taskapi.core.schemas import NOT_BLANK_PATTERN, RequestModel, ResponseModel
from taskapi.users.models import DISPLAY_NAME_MAX_LENGTH, EMAIL_MAX_LENGTH

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be only whitespace")
    return value


NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"{PASSWORD_MIN_LENGTH}–{PASSWORD_MAX_LENGTH} characters.",
    ),
    AfterValidator(_not_blank),
]
DisplayName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        pattern=NOT_BLANK_PATTERN,
    ),
]


def _valid_email(value: str) -> str:
    # Test and documentation domains (example.com, *.test) are fine for a task list.
    try:
        return validate_email(
            value, check_deliverability=False, test_environment=True, globally_deliverable=False
        ).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc


Email = Annotated[
    str,
    Field(max_length=EMAIL_MAX_LENGTH, json_schema_extra={"format": "email"}),
    AfterValidator(_valid_email),
]


class UserCreate(RequestModel):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class UserUpdate(RequestModel):
    display_name: DisplayName | None = Field(
        default=None, description="A new display name; null clears it."
    )


class PasswordChange(RequestModel):
    current_password: str = Field(max_length=1024)
    new_password: NewPassword


class AccountDeletion(RequestModel):
    password: str | None = Field(
        default=None,
        max_length=1024,
        description="The account's current password (required unless the account signs in "
        "through an external issuer).",
    )


class UserRead(ResponseModel):
    id: uuid.UUID
    email: str | None = Field(description="Null only for an external account whose token has none.")
    display_name: str | None
    created_at: datetime
