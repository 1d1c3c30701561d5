"""Whole client sessions through PgBouncer in transaction mode, many at once, repeated.

Every statement the API runs is issued several times from concurrent users, so it lands
on different server connections: a prepared statement (or any session state) that
outlives its transaction breaks these tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskapi.app import create_app
from taskapi.core.db import uses_pooler
from tests import servers
from tests.conftest import client_for
from tests.factories import SignedInUser, create_task, signed_in_user
from tests.pooler.conftest import POOLER_DATABASE, PoolerUrls, pooled_settings
from tests.search.helpers import (
    ALL_SORTS,
    TASKS,
    expected_order,
    get_task,
    listed_ids,
    patch_task,
    tag_counts,
    tag_url,
    task_url,
    walk_pages,
)

USERS = 6
ROUNDS = 2


@pytest.fixture
async def pooled_app(pooler_urls: PoolerUrls, app: FastAPI) -> AsyncIterator[FastAPI]:
    """A pooled app with a bigger pool; ``app`` (unused) empties the tables afterwards."""
    application = create_app(pooled_settings(pooler_urls, database_pool_size=10))
    yield application
    await application.state.database.dispose()


def test_settings_send_migrations_direct_and_pooling_is_chosen_by_setting(
    pooler_urls: PoolerUrls,
) -> None:
    settings = pooled_settings(pooler_urls)
    assert settings.migration_url == pooler_urls.direct
    assert settings.database_url == pooler_urls.pooled
    # Our PgBouncer is on a random port: only the setting says "pooler" ...
    assert uses_pooler(pooler_urls.pooled, True)
    assert not uses_pooler(pooler_urls.pooled, None)
    # ... and the setting wins over the URL's hints either way.
    assert not uses_pooler("postgresql+asyncpg://u@db.example:6432/app", False)
    assert not uses_pooler("postgresql+asyncpg://u@ep-x-pooler.neon.tech/app", False)
    assert uses_pooler("postgresql+asyncpg://u@ep-x-pooler.neon.tech/app", None)
    assert uses_pooler("postgresql+asyncpg://u@db.example:6432/app", None)


async def test_readyz_through_the_pooler(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["database"] == "ok"


async def one_session(client: httpx.AsyncClient, round_: int) -> None:
    """Register, sign in, refresh, and use most of the API once, checking each answer."""
    user = await signed_in_user(client)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text
    user.access_token = refreshed.json()["access_token"]
    me = await client.get("/api/v1/users/me", headers=user.headers)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id

    seed: list[dict[str, Any]] = [
        {"title": "banana bread", "priority": "low", "tags": ["Kitchen", "shop"]},
        {"title": "apple pie", "priority": "urgent", "due_at": "2030-01-02T00:00:00Z"},
        {"title": "cherry jam", "priority": "high", "tags": ["kitchen"]},
        {"title": "date syrup", "due_at": "2030-01-01T00:00:00Z", "tags": ["pantry"]},
        {"title": "elder tea", "priority": "medium", "description": f"round {round_}"},
    ]
    tasks = [await create_task(client, user, **fields) for fields in seed]
    tasks[0] = await patch_task(client, user, tasks[0]["id"], description="touched")
    for sort in ALL_SORTS:
        expected = expected_order(tasks, sort)
        assert await listed_ids(client, user, sort=sort) == expected, sort
        assert await walk_pages(client, user, {"sort": sort}, limit=2) == expected, sort

    found = await listed_ids(client, user, q="jam")
    assert found == [tasks[2]["id"]]
    assert await listed_ids(client, user, tag="KITCHEN", sort="title") == [
        tasks[0]["id"],
        tasks[2]["id"],
    ]

    renamed = await client.patch(tag_url("shop"), json={"name": "store"}, headers=user.headers)
    assert renamed.status_code == 200, renamed.text
    merged = await client.patch(tag_url("pantry"), json={"name": "Kitchen"}, headers=user.headers)
    assert merged.status_code == 200, merged.text
    assert await tag_counts(client, user) == [("Kitchen", 3), ("store", 1)]

    key = f"key-{uuid.uuid4()}"
    body = {"title": "pay rent", "tags": ["money"]}
    headers = {**user.headers, "Idempotency-Key": key}
    same_key = await asyncio.gather(
        *(client.post(TASKS, json=body, headers=headers) for _ in range(4))
    )
    statuses = {response.status_code for response in same_key}
    assert statuses <= {201, 409}, [response.text for response in same_key]
    assert len({r.json()["id"] for r in same_key if r.status_code == 201}) == 1

    recurring = await create_task(
        client, user, title="water plants", recurrence="weekly", due_at="2030-01-01T09:00:00Z"
    )
    done = await client.post(task_url(recurring["id"]) + "/complete", headers=user.headers)
    assert done.status_code == 200, done.text
    successor = done.json()["next"]
    assert successor is not None
    assert (await get_task(client, user, successor["id"]))["due_at"] == "2030-01-08T09:00:00Z"

    deleted = await client.delete(task_url(tasks[4]["id"]), headers=user.headers)
    assert deleted.status_code == 204, deleted.text
    gone = await client.get(task_url(tasks[4]["id"]), headers=user.headers)
    assert gone.status_code == 404
    assert len(await walk_pages(client, user, {"status": "all"}, limit=3)) == 7


async def test_concurrent_sessions_repeatedly_through_the_pooler(
    pooled_app: FastAPI,
    postgres_server: servers.PostgresServer,
) -> None:
    async with client_for(pooled_app) as client:
        for round_ in range(ROUNDS):
            await asyncio.gather(*(one_session(client, round_) for _ in range(USERS)))

    # The traffic really was spread over several server connections.
    backends = await asyncio.to_thread(
        postgres_server.execute,
        "SELECT count(*) FROM pg_stat_activity "  # noqa: S608
        f"WHERE datname = '{POOLER_DATABASE}' AND backend_type = 'client backend'",
    )
    assert int(backends) >= 2


async def test_concurrent_requests_of_one_user_see_each_others_writes(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    created = await asyncio.gather(
        *(client.post(TASKS, json={"title": f"t{n}"}, headers=alice.headers) for n in range(20))
    )
    assert [response.status_code for response in created] == [201] * 20
    ids = {response.json()["id"] for response in created}
    for _ in range(3):
        pages = await asyncio.gather(
            *(walk_pages(client, alice, {"sort": sort}, limit=7) for sort in ALL_SORTS)
        )
        for page in pages:
            assert set(page) == ids
            assert len(page) == len(ids)
