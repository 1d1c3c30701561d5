"""Behind a transaction-mode PgBouncer WITHOUT pooler mode (``database_pooler`` false, or
unset on a port that does not look like a pooler): the app is misconfigured. What must
still hold is that it fails cleanly -- problem+json errors, no leaked SQL -- and never
silently: nothing written that was not acknowledged, nothing acknowledged lost, nothing
read back that is not what was written (a named prepared statement run on the wrong
server connection could execute another query).

Two PgBouncers: the session's, with Debian's defaults (it refuses the startup
parameters the app sends without pooler mode), and a lenient one that ignores them (so
the prepared statements themselves are exercised).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapi.app import create_app
from tests import servers
from tests.conftest import client_for, make_settings
from tests.factories import SignedInUser
from tests.pooler.conftest import POOLER_DATABASE, PoolerUrls, start_pgbouncer_or_skip

PROBLEM_MEDIA_TYPE = "application/problem+json"
LEAK_MARKERS = ("Traceback", "sqlalchemy", "asyncpg", "SELECT", "INSERT", "prepared statement")
WORKERS = 6
ROUNDS = 8

not_in_pooler_mode = pytest.mark.parametrize(
    "pooler_setting",
    [pytest.param(False, id="pooler-false"), pytest.param(None, id="pooler-unset")],
)


@pytest.fixture(scope="module")
def lenient_pgbouncer(
    postgres_server: servers.PostgresServer,
) -> Iterator[servers.PgBouncerServer]:
    server = start_pgbouncer_or_skip(
        postgres_server,
        default_pool_size=4,
        settings={
            "min_pool_size": "4",
            "ignore_startup_parameters": "plan_cache_mode,statement_timeout",
        },
    )
    try:
        yield server
    finally:
        server.stop()


def unpooled_app(url: str, pooler_setting: bool | None) -> FastAPI:
    return create_app(make_settings(url, database_pooler=pooler_setting))


@pytest.fixture
async def strict_unpooled(
    pgbouncer_server: servers.PgBouncerServer,
    pooler_urls: PoolerUrls,
    pooler_setting: bool | None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = unpooled_app(pgbouncer_server.url(dbname=POOLER_DATABASE), pooler_setting)
    async with client_for(app) as http:
        yield http
    await app.state.database.dispose()


@pytest.fixture
async def lenient_unpooled(
    lenient_pgbouncer: servers.PgBouncerServer,
    pooler_urls: PoolerUrls,
    pooler_setting: bool | None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = unpooled_app(lenient_pgbouncer.url(dbname=POOLER_DATABASE), pooler_setting)
    async with client_for(app) as http:
        yield http
    await app.state.database.dispose()


def clean_failure(response: httpx.Response) -> str | None:
    """None if ``response`` is a 5xx problem+json that leaks nothing."""
    if response.status_code < 500:
        return f"status {response.status_code}: {response.text[:200]}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type != PROBLEM_MEDIA_TYPE:
        return f"{response.status_code} with content-type {media_type!r}"
    for marker in LEAK_MARKERS:
        if marker in response.text:
            return f"{response.status_code} leaking {marker!r}"
    if response.status_code == 503 and not response.headers.get("retry-after"):
        return "503 without Retry-After"
    return None


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


@not_in_pooler_mode
@pytest.mark.usefixtures("app")  # its teardown empties the tables
async def test_refused_startup_parameters_fail_every_request_cleanly(
    strict_unpooled: httpx.AsyncClient, alice: SignedInUser, raw_engine: AsyncEngine
) -> None:
    register = await strict_unpooled.post(
        "/api/v1/auth/register",
        json={"email": "unpooled@example.com", "password": "correct horse battery"},
    )
    create = await strict_unpooled.post("/api/v1/tasks", json={"title": "x"}, headers=alice.headers)
    listing = await strict_unpooled.get("/api/v1/tasks", headers=alice.headers)
    ready = await strict_unpooled.get("/readyz")
    for response in (register, create, listing, ready):
        assert clean_failure(response) is None, clean_failure(response)
    assert ready.status_code == 503
    users = await scalar(
        raw_engine, "SELECT count(*) FROM users WHERE email = :e", e="unpooled@example.com"
    )
    assert users == 0
    tasks = await scalar(raw_engine, "SELECT count(*) FROM tasks WHERE user_id = :u", u=alice.id)
    assert tasks == 0


@not_in_pooler_mode
@pytest.mark.usefixtures("app")
async def test_prepared_statements_across_server_connections_never_fail_silently(
    lenient_unpooled: httpx.AsyncClient,
    alice: SignedInUser,
    raw_engine: AsyncEngine,
) -> None:
    client = lenient_unpooled
    acknowledged: dict[str, str] = {}
    failures: list[str] = []
    wrong: list[str] = []

    async def worker(number: int) -> None:
        for round_ in range(ROUNDS):
            title = f"w{number} r{round_}"
            created = await client.post(
                "/api/v1/tasks", json={"title": title}, headers=alice.headers
            )
            if created.status_code == 201:
                acknowledged[created.json()["id"]] = title
            else:
                failures.append(clean_failure(created) or "")
            for task_id, expected in list(acknowledged.items())[-2:]:
                got = await client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers)
                if got.status_code == 200:
                    if got.json()["title"] != expected or got.json()["id"] != task_id:
                        wrong.append(f"GET {task_id}: {got.text[:200]}")
                else:
                    failures.append(clean_failure(got) or "")
            listing = await client.get("/api/v1/tasks", headers=alice.headers)
            if listing.status_code == 200:
                for item in listing.json()["items"]:
                    if item["id"] in acknowledged and acknowledged[item["id"]] != item["title"]:
                        wrong.append(f"listed {item['id']}: {item['title']}")
            else:
                failures.append(clean_failure(listing) or "")

    await asyncio.gather(*(worker(n) for n in range(WORKERS)))
    assert not wrong, wrong[:5]
    unclean = [failure for failure in failures if failure]
    assert not unclean, unclean[:5]
    async with raw_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT CAST(id AS text), title FROM tasks WHERE user_id = :u"), {"u": alice.id}
        )
        stored = {row[0]: row[1] for row in rows}
    # Nothing acknowledged is lost, nothing unacknowledged was kept, titles are intact.
    assert stored == acknowledged
