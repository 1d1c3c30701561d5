"""Who is calling: the bearer token turned into a ``User``, or 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

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

# The two ways Swagger UI and clients may send the token, declared in the OpenAPI
# document for every route that depends on ``get_caller`` (app.py): the password flow
# drives the Authorize dialog, the plain bearer scheme says "send any valid token".
# They are not dependencies themselves: each dependency node costs every request.
SECURITY_SCHEMES: dict[str, dict[str, object]] = {
    "OAuth2PasswordBearer": {
        "type": "oauth2",
        "flows": {"password": {"scopes": {}, "tokenUrl": TOKEN_URL}},
    },
    "HTTPBearer": {
        "type": "http",
        "description": "An access token from /auth/login.",
        "scheme": "bearer",
    },
}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


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


async def get_caller(request: Request) -> Principal:
    """The caller, counted against TASKAPI_RATE_LIMIT_API (per user; fails open), or 401.

    One dependency with no sub-dependencies: this runs on every request. The rate-limit
    headers go to the response through the request state (``ResponseHeadersMiddleware``),
    so they are sent whichever way the route builds its response.
    """
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("Not authenticated: send 'Authorization: Bearer <token>'", error=None)
    state = request.app.state
    principal: Principal = await state.authenticator.authenticate(token)
    user_id = str(principal.user_id)
    request.state.user_id = user_id  # for the access log
    item = state.api_limit
    if item is not None:
        limiter: RateLimiter = state.rate_limiter
        usage = await limiter.hit(item, "api", user_id, fail_open=True)
        if usage is not None:
            request.state.response_headers = usage.headers
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
