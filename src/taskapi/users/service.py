"""Business rules of accounts: registration, profile, password, deletion."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.auth import service as auth_service
from taskapi.auth.errors import InvalidCredentials
from taskapi.core.models import utcnow
from taskapi.core.security import PasswordHasher
from taskapi.users import repository
from taskapi.users.errors import EmailTaken
from taskapi.users.models import User
from taskapi.users.schemas import AccountDeletion, PasswordChange, UserCreate, UserUpdate


async def register(session: AsyncSession, hasher: PasswordHasher, data: UserCreate) -> User:
    if await repository.get_by_email(session, data.email) is not None:
        raise EmailTaken()
    user = User(
        email=data.email,
        email_key=repository.email_key(data.email),
        display_name=data.display_name,
        password_hash=await hasher.hash(data.password),
    )
    try:
        async with session.begin_nested():  # a concurrent twin may win the unique index
            await repository.add(session, user)
    except IntegrityError as exc:
        raise EmailTaken() from exc
    return user


async def update_profile(session: AsyncSession, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = utcnow()
        await session.flush()
    return user


async def _require_password(hasher: PasswordHasher, user: User, password: str) -> None:
    valid, _ = await hasher.verify(password, user.password_hash)
    if not valid:
        raise InvalidCredentials("The password is not correct")


async def change_password(
    session: AsyncSession, hasher: PasswordHasher, user: User, data: PasswordChange
) -> None:
    await _require_password(hasher, user, data.current_password)
    user.password_hash = await hasher.hash(data.new_password)
    user.updated_at = utcnow()
    await session.flush()
    await auth_service.revoke_all_sessions(session, user)


async def delete_account(
    session: AsyncSession, hasher: PasswordHasher, user: User, data: AccountDeletion
) -> None:
    await _require_password(hasher, user, data.password)
    await repository.delete_by_id(session, user.id)
