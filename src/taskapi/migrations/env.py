"""Alembic environment: runs migrations on the async engine the service itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from taskapi.core.config import Settings
from taskapi.core.db import create_engine
from taskapi.db_models import metadata

config = context.config


# Search objects that live only in migrations (one backend each): not model drift.
_MIGRATION_ONLY = {"search_vector", "tasks_fts"}


def _include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (name in _MIGRATION_ONLY or (name or "").startswith("tasks_fts_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    settings = Settings()
    url = config.attributes.get("database_url") or settings.migration_url
    engine = create_engine(settings, url=url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
asyncio.run(_run_async())
