"""Dialect-aware statement helpers shared by repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    bind = session.bind
    if bind is None:
        raise RuntimeError("session is not bound to an engine")
    return bind.dialect.name


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which offers ``on_conflict_do_nothing()`` on both backends."""
    module: Any = postgresql if dialect_name(session) == "postgresql" else sqlite
    return module.insert(table)
