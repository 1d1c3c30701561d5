"""PostgreSQL restarts or goes away under concurrent load.

Requests during the outage get 503 problem+json with Retry-After (never a 500), /readyz
is 503 while the database is down and 200 after, the service recovers by itself within
seconds of the database coming back, and no acknowledged (201) write is lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from taskapi.app import create_app
from tests import servers
from tests.conftest import client_for, make_settings
from tests.factories import SignedInUser, signed_in_user
from tests.faults.load import WriteLoad, unavailable_problem

RECOVERY_SECONDS = 10.0
WORKERS = 8


@pytest.fixture
async def client(running_postgres: servers.PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(running_postgres.url(), database_pool_timeout=2))
    try:
        async with client_for(app) as http:
            yield http
    finally:
        await app.state.database.dispose()


@pytest.fixture
async def user(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


def stored_task_ids(server: servers.PostgresServer, user: SignedInUser) -> set[str]:
    out = server.execute(f"SELECT id FROM tasks WHERE user_id = '{user.id}'")  # noqa: S608
    return {line.strip() for line in out.splitlines() if line.strip()}


async def assert_no_acknowledged_write_lost(
    client: httpx.AsyncClient,
    server: servers.PostgresServer,
    user: SignedInUser,
    load: WriteLoad,
) -> None:
    acknowledged = load.acknowledged
    assert len(acknowledged) == len(set(acknowledged)), "one id acknowledged twice"
    stored = await asyncio.to_thread(stored_task_ids, server, user)
    lost = set(acknowledged) - stored
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged writes were lost"
    # And the API agrees (a sample: one GET per acknowledged write would be slow).
    for task_id in acknowledged[:: max(1, len(acknowledged) // 20)]:
        response = await client.get(f"/api/v1/tasks/{task_id}", headers=user.headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("fast", id="fast-shutdown"),
        # Crash-like: backends are killed, the next start runs crash recovery (a longer
        # "the database system is starting up" window).
        pytest.param("immediate", id="crash"),
    ],
)
async def test_restart_under_load_gives_503s_then_recovers_without_losing_writes(
    client: httpx.AsyncClient,
    user: SignedInUser,
    running_postgres: servers.PostgresServer,
    mode: servers.ShutdownMode,
) -> None:
    load = WriteLoad(client, user, workers=WORKERS)
    load.start()
    try:
        await load.wait_for_successes(3 * WORKERS, after=0.0, timeout=30)
        went_down = time.monotonic()
        await asyncio.to_thread(running_postgres.restart, mode)  # same data, same port
        came_back = time.monotonic()
        recovered = await load.wait_for_successes(1, after=came_back, timeout=RECOVERY_SECONDS)
        await load.wait_for_successes(3 * WORKERS, after=recovered, timeout=RECOVERY_SECONDS)
    finally:
        await load.stop()

    assert not load.bad_answers(), load.bad_answers()[:5]
    assert all(o.status in (201, 503) for o in load.outcomes)
    in_flight = [o for o in load.outcomes if o.started < came_back and o.ended > went_down]
    assert in_flight, "no request overlapped the restart: the test proved nothing"
    assert recovered - came_back < RECOVERY_SECONDS
    # Recovered for good: the last writes of every worker succeeded.
    assert all(o.status == 201 for o in load.outcomes[-WORKERS:])
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    await assert_no_acknowledged_write_lost(client, running_postgres, user, load)


async def test_outage_gives_503s_and_readyz_503_until_the_database_is_back(
    client: httpx.AsyncClient, user: SignedInUser, running_postgres: servers.PostgresServer
) -> None:
    load = WriteLoad(client, user, workers=WORKERS // 2)
    load.start()
    readiness_while_down: list[httpx.Response] = []
    try:
        await load.wait_for_successes(2 * WORKERS, after=0.0, timeout=30)
        await asyncio.to_thread(running_postgres.stop_server_only)
        down_since = time.monotonic()
        while time.monotonic() - down_since < 2.0:
            readiness_while_down.append(await client.get("/readyz"))
            await asyncio.sleep(0.2)
        down_until = time.monotonic()
        await asyncio.to_thread(running_postgres.start_again)
        came_back = time.monotonic()

        ready_at = None
        while time.monotonic() - came_back < RECOVERY_SECONDS:
            response = await client.get("/readyz")
            if response.status_code == 200:
                ready_at = time.monotonic()
                break
            assert unavailable_problem(response) is None, unavailable_problem(response)
            await asyncio.sleep(0.1)
        assert ready_at is not None, f"/readyz not 200 within {RECOVERY_SECONDS:.0f}s"
        recovered = await load.wait_for_successes(1, after=came_back, timeout=RECOVERY_SECONDS)
        await load.wait_for_successes(2 * WORKERS, after=recovered, timeout=RECOVERY_SECONDS)
    finally:
        await load.stop()

    assert len(readiness_while_down) >= 5
    for response in readiness_while_down:
        assert unavailable_problem(response) is None, unavailable_problem(response)
    during = [o for o in load.outcomes if o.started >= down_since and o.ended <= down_until]
    assert len(during) >= 4, "the workers sent (almost) nothing during the outage"
    assert {o.status for o in during} == {503}
    assert not load.bad_answers(), load.bad_answers()[:5]
    assert all(o.status in (201, 503) for o in load.outcomes)
    assert all(o.status == 201 for o in load.outcomes[-(WORKERS // 2) :])
    await assert_no_acknowledged_write_lost(client, running_postgres, user, load)
