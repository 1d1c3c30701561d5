"""Fixtures for the database-fault tests: a PostgreSQL cluster of their own.

The fault tests stop and restart PostgreSQL, so they never touch the session's
shared cluster (``postgres_server``): other tests keep running undisturbed. Without
PostgreSQL binaries they are skipped loudly; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from taskapi.core.migrate import upgrade
from tests import servers
from tests.conftest import IN_CI, _skip_reasons


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[servers.PostgresServer]:
    """A migrated throwaway cluster for this module alone (restarting it is fine)."""
    try:
        # synchronous_commit stays on: a crash (immediate shutdown) must not lose a
        # commit the database acknowledged, or "no acknowledged write lost" means nothing.
        server = servers.start_postgres(settings={"synchronous_commit": "on"})
    except servers.ServerUnavailable as exc:
        reason = f"database-fault tests cannot run: {exc.reason}"
        if IN_CI:
            pytest.fail(reason + " (mandatory in CI)", pytrace=False)
        if reason not in _skip_reasons:
            _skip_reasons.append(reason)
        pytest.skip(reason)
    try:
        upgrade(server.url(driver="asyncpg"))
        yield server
    finally:
        server.stop()


@pytest.fixture
async def running_postgres(own_postgres: servers.PostgresServer) -> servers.PostgresServer:
    """The module's cluster, started again if an earlier test left it stopped."""
    if not own_postgres.is_running:
        await asyncio.to_thread(own_postgres.start_again)
    return own_postgres
