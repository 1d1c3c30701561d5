"""Alembic environment: runs migrations on the async engine the service itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from taskapi.core.config import Settings
from taskapi.core.db import create_engine
from taskapi.core.migrate import include_object
from taskapi.db_models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Migrations run with foreign keys off (see core.db); prove nothing broke.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")


async def _run_async() -> None:
    settings = Settings()
    url = config.attributes.get("database_url") or settings.migration_url
    engine = create_engine(settings, url=url, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
asyncio.run(_run_async())
