"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from taskapi.auth.dependencies import AuthenticatorDep, CurrentUser, HasherDep
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.users import service
from taskapi.users.models import User
from taskapi.users.schemas import AccountDeletion, PasswordChange, UserRead, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("/me", response_model=UserRead, responses=problem_responses(401))
async def read_me(user: CurrentUser) -> User:
    """The signed-in user."""
    return user


@router.patch(
    "/me",
    response_model=UserRead,
    dependencies=[JsonBody],
    responses=problem_responses(401, 413, 415, 422),
)
async def update_me(data: UserUpdate, user: CurrentUser, session: SessionDep) -> User:
    """Change the display name."""
    return await service.update_profile(session, user, data)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[JsonBody],
    responses=problem_responses(401, 413, 415, 422),
)
async def change_password(
    data: PasswordChange, user: CurrentUser, session: SessionDep, hasher: HasherDep
) -> Response:
    """Change the password; every refresh token of the user is revoked."""
    await service.change_password(session, hasher, user, data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=[JsonBody],
    responses=problem_responses(401, 413, 415, 422),
)
async def delete_me(
    data: AccountDeletion,
    user: CurrentUser,
    session: SessionDep,
    hasher: HasherDep,
    authenticator: AuthenticatorDep,
) -> Response:
    """Delete the account and all its data (needs the password)."""
    await service.delete_account(session, hasher, user, data)
    authenticator.forget(user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
