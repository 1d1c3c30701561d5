"""Who is calling: the bearer token turned into a ``User``, or 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from taskapi.auth.authenticator import Authenticator, Principal
from taskapi.auth.service import TokenService
from taskapi.core.deps import SessionDep
from taskapi.core.errors import Unauthorized
from taskapi.core.security import PasswordHasher
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


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


async def get_principal(
    session: SessionDep,
    authenticator: Annotated[Authenticator, Depends(get_authenticator)],
    token: Annotated[str | None, Depends(_oauth2_scheme)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", error=None)
    return await authenticator.authenticate(session, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]
