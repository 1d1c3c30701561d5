"""The API through PgBouncer in transaction mode, as behind Neon's pooled endpoint.

A private PgBouncer (tests/servers.py) sits in front of the session's PostgreSQL
cluster, in a database of its own (``taskapi_pooler``), so TRUNCATEs here and in the
other suites never meet. The app's ``database_url`` is the pooler with
``database_pooler=True``; migrations use ``database_direct_url`` (the cluster itself),
through ``Settings.migration_url``, as an operator would (docs: TASKAPI_DATABASE_DIRECT_URL).

``server_round_robin`` and ``min_pool_size`` make PgBouncer hand consecutive
transactions to different server connections, so session state that wrongly outlives a
transaction (named prepared statements above all) fails here instead of passing by luck.

The fixtures below override the root conftest's for every test collected under
tests/pooler, including test functions imported from the other suites.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from taskapi.core.config import Settings
from taskapi.core.migrate import upgrade
from tests import servers
from tests.conftest import IN_CI, SettingsFactory, _skip_reasons, make_settings

POOLER_DATABASE = "taskapi_pooler"
SERVER_CONNECTIONS = 4


@dataclass(frozen=True)
class PoolerUrls:
    pooled: str  # the app's database_url: through PgBouncer
    direct: str  # database_direct_url: the cluster itself, for migrations and checks


def pooled_settings(urls: PoolerUrls, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_direct_url": urls.direct, "database_pooler": True}
    values.update(overrides)
    return make_settings(urls.pooled, **values)


def start_pgbouncer_or_skip(
    upstream: servers.PostgresServer, **kwargs: Any
) -> servers.PgBouncerServer:
    try:
        return servers.start_pgbouncer(upstream, "transaction", **kwargs)
    except servers.ServerUnavailable as exc:
        reason = f"PgBouncer tests cannot run: {exc.reason}"
        if IN_CI:
            pytest.fail(reason + " (mandatory in CI)", pytrace=False)
        if reason not in _skip_reasons:
            _skip_reasons.append(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pgbouncer_server(
    postgres_server: servers.PostgresServer,
) -> Iterator[servers.PgBouncerServer]:
    server = start_pgbouncer_or_skip(
        postgres_server,
        default_pool_size=SERVER_CONNECTIONS,
        settings={"min_pool_size": str(SERVER_CONNECTIONS)},
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def pooler_urls(
    postgres_server: servers.PostgresServer, pgbouncer_server: servers.PgBouncerServer
) -> PoolerUrls:
    await asyncio.to_thread(postgres_server.create_database, POOLER_DATABASE)
    urls = PoolerUrls(
        pooled=pgbouncer_server.url(dbname=POOLER_DATABASE),
        direct=postgres_server.url(dbname=POOLER_DATABASE),
    )
    settings = pooled_settings(urls)
    assert settings.migration_url == urls.direct
    await asyncio.to_thread(upgrade, settings.migration_url)
    return urls


# -- the root conftest's fixtures, pointed at the pooler -----------------------


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("SQLite-only test")
    return "postgres"


@pytest.fixture
def database_url(pooler_urls: PoolerUrls) -> str:
    return pooler_urls.pooled


@pytest.fixture
def settings_factory(pooler_urls: PoolerUrls) -> SettingsFactory:
    return lambda **overrides: pooled_settings(pooler_urls, **overrides)


@pytest.fixture
async def raw_engine(pooler_urls: PoolerUrls) -> AsyncIterator[AsyncEngine]:
    """Direct to the cluster: inspecting the database is not the app's traffic."""
    engine = create_async_engine(pooler_urls.direct)
    yield engine
    await engine.dispose()
