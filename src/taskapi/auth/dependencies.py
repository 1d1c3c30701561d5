"""Who is calling: the bearer token turned into a ``User``, or 401."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from taskapi.auth.service import TokenService
from taskapi.core.deps import SessionDep
from taskapi.core.errors import Unauthorized
from taskapi.core.security import PasswordHasher, TokenError
from taskapi.users import repository as user_repository
from taskapi.users.models import User

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)

# Two declarations of the same header: the password flow drives Swagger UI's
# Authorize dialog, the plain bearer scheme documents "send any valid token".
_oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login.")


def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


def get_token_service(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]


async def get_current_user(
    session: SessionDep,
    tokens: TokenServiceDep,
    token: Annotated[str | None, Depends(_oauth2_scheme)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> User:
    if not token:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", error=None)
    try:
        claims = tokens.codec.verify(token)
        user_id = uuid.UUID(claims.subject)
    except (TokenError, ValueError) as exc:
        detail = str(exc) if isinstance(exc, TokenError) else "The access token is not valid"
        raise Unauthorized(detail) from exc
    user = await user_repository.get(session, user_id)
    if user is None:  # deleted since the token was issued
        raise Unauthorized("The account no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
