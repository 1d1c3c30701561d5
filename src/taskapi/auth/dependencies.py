"""Who is calling: the bearer token turned into a ``User``, or 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from taskapi.auth.authenticator import Authenticator, Principal
from taskapi.auth.guard import LoginGuard
from taskapi.auth.service import TokenService
from taskapi.core.clientip import client_address
from taskapi.core.deps import SessionDep
from taskapi.core.errors import Unauthorized
from taskapi.core.ratelimit import RateLimiter
from taskapi.core.security import PasswordHasher
from taskapi.users import repository as user_repository
from taskapi.users.models import User

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)

# Two declarations of the same header: the password flow drives Swagger UI's
# Authorize dialog, the plain bearer scheme documents "send any valid token".
_oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
_bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /auth/login.")


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


async def get_token_service(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


async def get_principal(
    session: SessionDep,
    authenticator: AuthenticatorDep,
    token: Annotated[str | None, Depends(_oauth2_scheme)],
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", error=None)
    return await authenticator.authenticate(session, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_client_address(request: Request) -> str:
    return client_address(request, request.app.state.trusted_networks)


ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


async def get_login_guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


LoginGuardDep = Annotated[LoginGuard, Depends(get_login_guard)]


async def limit_sign_in_requests(
    request: Request, response: Response, address: ClientAddress, limiter: RateLimiterDep
) -> None:
    """TASKAPI_RATE_LIMIT_AUTH per client address on register, login, token and refresh."""
    item = request.app.state.auth_limit
    if item is None:
        return
    usage = await limiter.hit(item, "auth", address, fail_open=False, exact=True)
    if usage is not None:
        response.headers.update(usage.headers)
        usage.raise_if_exceeded()


SignInRateLimit = Depends(limit_sign_in_requests)


async def get_caller(
    principal: CurrentPrincipal, request: Request, response: Response, limiter: RateLimiterDep
) -> Principal:
    """The caller, counted against TASKAPI_RATE_LIMIT_API (per user; fails open)."""
    request.state.user_id = str(principal.user_id)  # for the access log
    item = request.app.state.api_limit
    if item is not None:
        usage = await limiter.hit(item, "api", str(principal.user_id), fail_open=True)
        if usage is not None:
            response.headers.update(usage.headers)
            usage.raise_if_exceeded()
    return principal


CurrentCaller = Annotated[Principal, Depends(get_caller)]


async def get_current_user(caller: CurrentCaller, session: SessionDep) -> User:
    """The caller's full account row (only the account routes need it)."""
    user = await user_repository.get(session, caller.user_id)
    if user is None:
        raise Unauthorized("The account no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
