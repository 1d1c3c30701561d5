"""All SQL about idempotency records."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from taskapi.core.sql import upsert_insert
from taskapi.idempotency.models import IdempotencyRecord


async def delete_expired(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.expires_at) <= now
        )
    )


async def insert_if_absent(session: AsyncSession, record: dict[str, object]) -> bool:
    """Insert the record unless the (user, key) exists; True if this call inserted it.

    On PostgreSQL a concurrent uncommitted insert of the same key makes this wait for
    that transaction: afterwards the winner's row is visible (or gone, if it failed).
    """
    result = await session.execute(
        upsert_insert(session, IdempotencyRecord)
        .values(record)
        .on_conflict_do_nothing()
        .returning(col(IdempotencyRecord.key))
    )
    return result.first() is not None


async def get(session: AsyncSession, user_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
    result = await session.execute(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key
        )
    )
    return result.scalar_one_or_none()


async def store_response(
    session: AsyncSession, user_id: uuid.UUID, key: str, status_code: int, body: str
) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key)
        .values(status_code=status_code, response_body=body)
    )
