"""All SQL about users."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from taskapi.users.models import User


def email_key(email: str) -> str:
    """The uniqueness key of an address: addresses are unique regardless of case."""
    return email.strip().lower()


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email_key) == email_key(email)))
    return result.scalar_one_or_none()


async def add(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def delete_by_id(session: AsyncSession, user_id: uuid.UUID) -> None:
    # Tasks and refresh tokens go with it through ON DELETE CASCADE.
    await session.execute(delete(User).where(col(User.id) == user_id))
