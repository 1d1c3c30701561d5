"""The hot path's runners (core/rawsql.py) against a real PostgreSQL: URL options, commits,
concurrent creates, and how its database errors are answered."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from taskapi.app import create_app
from taskapi.core.errors import is_transaction_conflict, is_unavailable_database_error
from taskapi.core.models import utcnow
from taskapi.core.rawsql import SqlAlchemyRunner
from taskapi.tasks import repository
from tests.conftest import client_for, make_settings
from tests.factories import create_task, signed_in_user

TASKS = "/api/v1/tasks"


@pytest.mark.postgres_only
@pytest.mark.usefixtures("app")  # its teardown empties the tables
async def test_url_options_reach_the_hot_pool(database_url: str) -> None:
    """?ssl=… is an asyncpg keyword, as SQLAlchemy's dialect reads the URL; passed on as
    a server setting it made every hot request fail."""
    app = create_app(make_settings(database_url + "?ssl=disable"))
    try:
        async with client_for(app) as client:
            user = await signed_in_user(client)
            task = await create_task(client, user, title="over the hot pool", tags=["x"])
            got = await client.get(f"{TASKS}/{task['id']}", headers=user.headers)
            listed = await client.get(TASKS, headers=user.headers)
            ready = await client.get("/readyz")
    finally:
        await app.state.database.dispose()
    assert (got.status_code, listed.status_code, ready.status_code) == (200, 200, 200)
    assert got.json()["tags"] == ["x"]


@pytest.mark.postgres_only
@pytest.mark.usefixtures("app")
async def test_the_sqlalchemy_runner_commits_what_it_writes(
    database_url: str, client: httpx.AsyncClient
) -> None:
    """psycopg URLs and transaction poolers run the create through SQLAlchemy without
    autocommit: the statement must still be committed."""
    user = await signed_in_user(client)
    engine = create_async_engine(database_url)
    try:
        runner = SqlAlchemyRunner(engine)
        task_id = uuid.uuid4()
        values = {
            "id": task_id,
            "user_id": uuid.UUID(user.id),
            "title": "written by the runner",
            "description": "",
            "completed": False,
            "completed_at": None,
            "priority": "none",
            "due_at": None,
            "recurrence": None,
            "created_at": None,
            "updated_at": None,
        }
        values["created_at"] = values["updated_at"] = utcnow()
        assert await repository.insert_with_tags(runner, values, ["b", "A"]) == ["A", "b"]
        async with engine.connect() as other:
            found = await other.scalar(
                text("SELECT count(*) FROM tasks WHERE id = :id"), {"id": task_id}
            )
    finally:
        await engine.dispose()
    assert found == 1


@pytest.mark.usefixtures("app")
async def test_concurrent_creates_naming_the_same_tags_in_any_order_all_succeed(
    client: httpx.AsyncClient,
) -> None:
    """Tag rows are locked in one order: opposite orders used to deadlock (a 500)."""
    user = await signed_in_user(client)
    names = [f"tag-{n:02d}" for n in range(12)]
    await create_task(client, user, title="seed", tags=names)
    for round_ in range(6):
        answers = await asyncio.gather(
            *(
                client.post(
                    TASKS,
                    json={
                        "title": f"r{round_} c{n}",
                        "tags": names if n % 2 else list(reversed(names)),
                    },
                    headers=user.headers,
                )
                for n in range(8)
            )
        )
        assert [answer.status_code for answer in answers] == [201] * 8


def test_deadlocks_and_serialization_failures_are_conflicts_not_crashes() -> None:
    assert is_transaction_conflict(asyncpg.DeadlockDetectedError("deadlock detected"))
    assert is_transaction_conflict(asyncpg.SerializationError("could not serialize"))
    assert not is_transaction_conflict(asyncpg.UniqueViolationError("duplicate"))
    assert is_unavailable_database_error(asyncpg.InterfaceError("connection is closed"))
    assert not is_unavailable_database_error(asyncpg.InterfaceError("bad argument count"))
