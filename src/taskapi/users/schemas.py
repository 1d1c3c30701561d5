from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from taskapi.core.schemas import RequestModel, ResponseModel
from taskapi.users.models import DISPLAY_NAME_MAX_LENGTH

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
    StringConstraints(strip_whitespace=True, min_length=1, max_length=DISPLAY_NAME_MAX_LENGTH),
]


class UserCreate(RequestModel):
    email: EmailStr = Field(max_length=320)
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
