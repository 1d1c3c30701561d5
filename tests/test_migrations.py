"""The migrations are the schema: they must match the models and run both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from taskapi.core.migrate import alembic_config, include_object
from taskapi.db_models import metadata
from tests import servers
from tests.conftest import IN_CI


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert differences == []


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _round_trip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert {"users", "tasks", "tags", "task_tags", "idempotency_keys"} <= _tables(url)
    command.downgrade(config, "base")
    assert _tables(url) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert "tasks" in _tables(url)


def test_sqlite_migrations_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'round-trip.db'}")


def test_postgres_migrations_downgrade_and_upgrade_again() -> None:
    try:
        server = servers.start_postgres(dbname="round_trip")
    except servers.ServerUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is mandatory in CI: {exc.reason}")
        pytest.skip(f"PostgreSQL tests cannot run: {exc.reason}")
    try:
        _round_trip(server.url(driver="asyncpg"))
    finally:
        server.stop()


def test_sqlite_table_rebuild_keeps_child_rows(tmp_path: Path) -> None:
    """Altering `users` rebuilds it on SQLite; with foreign keys on, that would cascade-delete
    every task. Data written before the upgrade must survive it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'keep.db'}"
    config = alembic_config(url)
    command.upgrade(config, "99da502a733b")  # before the users table is altered

    async def seed_and_count(seed: bool) -> int:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                if seed:
                    await connection.exec_driver_sql(
                        "INSERT INTO users (id, email, email_key, created_at, updated_at) "
                        "VALUES ('0123456789abcdef0123456789abcdef', 'a@b.c', 'a@b.c', "
                        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    )
                    await connection.exec_driver_sql(
                        "INSERT INTO tasks (id, user_id, title, description, completed, "
                        "priority, created_at, updated_at, version) VALUES "
                        "('fedcba9876543210fedcba9876543210', '0123456789abcdef0123456789abcdef',"
                        " 't', '', 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
                    )
                count = await connection.exec_driver_sql("SELECT count(*) FROM tasks")
                return int(count.scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(seed_and_count(seed=True)) == 1
    command.upgrade(config, "head")
    assert asyncio.run(seed_and_count(seed=False)) == 1
