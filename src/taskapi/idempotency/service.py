"""Claiming a key, replaying a stored response, storing the first one."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.core.errors import Conflict, UnprocessableEntity
from taskapi.core.models import utcnow
from taskapi.idempotency import repository

KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: str


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = orjson.dumps([method, path, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def claim(
    session: AsyncSession, user_id: uuid.UUID, key: str, request_fingerprint: str
) -> StoredResponse | None:
    """None when this request owns the key now; the first response when it is a retry."""
    now = utcnow()
    await repository.delete_expired(session, user_id, now)
    inserted = await repository.insert_if_absent(
        session,
        {
            "user_id": user_id,
            "key": key,
            "fingerprint": request_fingerprint,
            "created_at": now,
            "expires_at": now + KEY_LIFETIME,
        },
    )
    if inserted:
        return None
    record = await repository.get(session, user_id, key)
    if record is None:  # the other holder failed and rolled back in between: rare; retry
        raise Conflict("A request with this Idempotency-Key is in progress; retry")
    if record.fingerprint != request_fingerprint:
        raise UnprocessableEntity(
            "This Idempotency-Key was used with a different request body",
            loc=("header", "Idempotency-Key"),
            type_="idempotency_key_reused",
        )
    if record.status_code is None or record.response_body is None:
        raise Conflict("A request with this Idempotency-Key is in progress; retry")
    return StoredResponse(record.status_code, record.response_body)


async def store(
    session: AsyncSession, user_id: uuid.UUID, key: str, status_code: int, body: str
) -> None:
    await repository.store_response(session, user_id, key, status_code, body)
