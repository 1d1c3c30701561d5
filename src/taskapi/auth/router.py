"""Built-in accounts: register, login (JSON and OAuth2 form), refresh, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, status

from taskapi.auth import service
from taskapi.auth.dependencies import (
    ClientAddress,
    CurrentCaller,
    HasherDep,
    LoginGuardDep,
    SignInRateLimit,
    TokenServiceDep,
)
from taskapi.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.core.schemas import NO_NUL_PATTERN
from taskapi.users import service as user_service
from taskapi.users.schemas import UserCreate, UserRead

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    dependencies=[SignInRateLimit, JsonBody],
    responses=problem_responses(409, 413, 415, 422, 429),
)
async def register(data: UserCreate, session: SessionDep, hasher: HasherDep) -> object:
    """Create an account."""
    return await user_service.register(session, hasher, data)


@router.post(
    "/login",
    response_model=TokenPair,
    dependencies=[SignInRateLimit, JsonBody],
    responses=problem_responses(401, 413, 415, 422, 429),
)
async def login(
    data: LoginRequest,
    session: SessionDep,
    hasher: HasherDep,
    tokens: TokenServiceDep,
    guard: LoginGuardDep,
    address: ClientAddress,
) -> TokenPair:
    """Sign in with e-mail and password; returns an access and a refresh token."""
    credentials = (data.email, data.password)
    return await service.login(session, hasher, tokens, guard, credentials, address)


@router.post(
    "/token",
    response_model=TokenPair,
    dependencies=[SignInRateLimit],
    responses=problem_responses(401, 413, 422, 429),
)
async def token(
    username: Annotated[
        str, Form(min_length=1, max_length=320, pattern=NO_NUL_PATTERN, description="The e-mail.")
    ],
    password: Annotated[str, Form(min_length=1, max_length=1024, pattern=NO_NUL_PATTERN)],
    session: SessionDep,
    hasher: HasherDep,
    tokens: TokenServiceDep,
    guard: LoginGuardDep,
    address: ClientAddress,
) -> TokenPair:
    """Sign in with the OAuth2 password form (what Swagger UI's Authorize button sends)."""
    return await service.login(session, hasher, tokens, guard, (username, password), address)


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[SignInRateLimit, JsonBody],
    responses=problem_responses(401, 413, 415, 422, 429),
)
async def refresh(data: RefreshRequest, session: SessionDep, tokens: TokenServiceDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent."""
    return await service.refresh(session, tokens, data.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[JsonBody],
    responses=problem_responses(401, 413, 415, 422),
)
async def logout(data: RefreshRequest, user: CurrentCaller, session: SessionDep) -> Response:
    """End the login session of this refresh token (needs the access token too)."""
    await service.logout(session, user, data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
