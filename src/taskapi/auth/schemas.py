from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from taskapi.core.schemas import RequestModel


class LoginRequest(RequestModel):
    # Not validated as an address: a malformed one is simply wrong credentials.
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires.")
