"""A request that cannot get a database connection in time is a 503, never a 500.

The pool is one connection, no overflow, a 0.5 s wait; the test holds that connection
(an open transaction), as a burst of slow requests would. SQLite is left out: its
engine does not take the pool settings (one file, its own locking).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from taskapi.core.rawsql import PostgresRunner
from tests.conftest import AppFactory, client_for
from tests.factories import create_task, signed_in_user
from tests.faults.load import unavailable_problem

pytestmark = pytest.mark.postgres_only

POOL = {"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 0.5}


async def assert_unavailable(response: httpx.Response) -> None:
    problem = unavailable_problem(response)
    assert problem is None, problem


@pytest.mark.usefixtures("app")  # its teardown empties the tables
async def test_exhausted_pool_is_503_and_then_works_again(app_factory: AppFactory) -> None:
    app: FastAPI = app_factory(**POOL, auth_cache_seconds=0)
    async with client_for(app) as client:
        user = await signed_in_user(client)
        task = await create_task(client, user, title="before")

        async with app.state.database.engine.connect() as held:
            await held.execute(text("SELECT 1"))  # the only connection, mid-transaction
            responses = [
                await client.post("/api/v1/tasks", json={"title": "x"}, headers=user.headers),
                await client.get(f"/api/v1/tasks/{task['id']}", headers=user.headers),
                await client.get("/api/v1/tasks", headers=user.headers),
                await client.get("/readyz"),
            ]
            for response in responses:
                await assert_unavailable(response)

        after = await client.post("/api/v1/tasks", json={"title": "after"}, headers=user.headers)
        assert after.status_code == 201, after.text
        listed = await client.get("/api/v1/tasks", headers=user.headers)
        assert listed.status_code == 200, listed.text
        assert sorted(item["title"] for item in listed.json()["items"]) == ["after", "before"]
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.usefixtures("app")
async def test_slow_requests_holding_the_pool_make_others_503_not_500(
    app_factory: AppFactory,
) -> None:
    """Concurrent requests queue for the one connection; those that wait too long get
    503, and once the pool is free every request succeeds again."""
    app: FastAPI = app_factory(**POOL, auth_cache_seconds=0)
    async with client_for(app) as client:
        user = await signed_in_user(client)

        async def hold_for(seconds: float) -> None:
            async with app.state.database.engine.connect() as connection:
                await connection.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})

        holder = asyncio.create_task(hold_for(1.5))
        await asyncio.sleep(0.2)  # the holder has the connection now
        burst = await asyncio.gather(
            *(
                client.post("/api/v1/tasks", json={"title": f"t{n}"}, headers=user.headers)
                for n in range(5)
            )
        )
        await holder
        for response in burst:
            await assert_unavailable(response)

        again = await asyncio.gather(
            *(
                client.post("/api/v1/tasks", json={"title": f"u{n}"}, headers=user.headers)
                for n in range(5)
            )
        )
        assert [response.status_code for response in again] == [201] * 5


@pytest.mark.usefixtures("app")
async def test_exhausted_hot_pool_is_503_and_then_works_again(app_factory: AppFactory) -> None:
    """The asyncpg pool of the hot path (core/rawsql.py) times out the same way."""
    app: FastAPI = app_factory(**POOL)
    runner = app.state.database.runner
    assert isinstance(runner, PostgresRunner)
    async with client_for(app) as client:
        user = await signed_in_user(client)
        task = await create_task(client, user, title="before")

        async with (await runner.pool()).acquire():  # its only connection
            responses = [
                await client.post("/api/v1/tasks", json={"title": "x"}, headers=user.headers),
                await client.get(f"/api/v1/tasks/{task['id']}", headers=user.headers),
                await client.get("/api/v1/tasks", headers=user.headers),
            ]
            for response in responses:
                await assert_unavailable(response)

        after = await client.post("/api/v1/tasks", json={"title": "after"}, headers=user.headers)
        assert after.status_code == 201, after.text
        listed = await client.get("/api/v1/tasks", headers=user.headers)
        assert sorted(item["title"] for item in listed.json()["items"]) == ["after", "before"]
