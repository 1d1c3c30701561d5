"""All SQL about users."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from taskapi.core.sql import upsert_insert
from taskapi.users.models import DeletedIdentity, User


def email_key(email: str) -> str:
    """The uniqueness key of an address: addresses are unique regardless of case."""
    return email.strip().lower()


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def exists(session: AsyncSession, user_id: uuid.UUID) -> bool:
    result = await session.execute(select(col(User.id)).where(col(User.id) == user_id))
    return result.first() is not None


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email_key) == email_key(email)))
    return result.scalar_one_or_none()


async def get_by_identity(session: AsyncSession, issuer: str, subject: str) -> User | None:
    result = await session.execute(
        select(User).where(col(User.auth_issuer) == issuer, col(User.auth_subject) == subject)
    )
    return result.scalar_one_or_none()


async def add_identity_if_absent(session: AsyncSession, user: User) -> None:
    """Insert an external account unless a concurrent request already did (race-safe)."""
    await session.execute(
        upsert_insert(session, User)
        .values(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            auth_issuer=user.auth_issuer,
            auth_subject=user.auth_subject,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        .on_conflict_do_nothing()
    )


async def add(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def delete_by_id(session: AsyncSession, user_id: uuid.UUID) -> None:
    # Tasks and refresh tokens go with it through ON DELETE CASCADE.
    await session.execute(delete(User).where(col(User.id) == user_id))


async def deletion_time(session: AsyncSession, issuer: str, subject: str) -> datetime | None:
    result = await session.execute(
        select(col(DeletedIdentity.deleted_at)).where(
            col(DeletedIdentity.auth_issuer) == issuer,
            col(DeletedIdentity.auth_subject) == subject,
        )
    )
    return result.scalar_one_or_none()


async def record_deletion(session: AsyncSession, issuer: str, subject: str, at: datetime) -> None:
    await forget_deletion(session, issuer, subject)
    session.add(DeletedIdentity(auth_issuer=issuer, auth_subject=subject, deleted_at=at))
    await session.flush()


async def forget_deletion(session: AsyncSession, issuer: str, subject: str) -> None:
    await session.execute(
        delete(DeletedIdentity).where(
            col(DeletedIdentity.auth_issuer) == issuer,
            col(DeletedIdentity.auth_subject) == subject,
        )
    )
