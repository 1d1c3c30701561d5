"""Test harness: every integration test runs against real SQLite and real PostgreSQL.

- ``backend`` is parametrized over both databases. PostgreSQL is a throwaway cluster
  started once per session (tests/servers.py). Without PostgreSQL binaries the
  PostgreSQL half is skipped loudly; with ``CI=true`` it fails instead.
- Each backend's schema is built by running the Alembic migrations, so every run
  tests the migrations too.
- After each test the tables are emptied, so tests are independent of order.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from taskapi.app import create_app
from taskapi.core.config import Settings
from taskapi.core.migrate import upgrade
from tests import servers
from tests.factories import SignedInUser, signed_in_user

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET = "test-signing-key-" + "x" * 32
TABLES = (
    "task_tags",
    "tags",
    "tasks",
    "idempotency_keys",
    "refresh_tokens",
    "deleted_identities",
    "users",
)
_skip_reasons: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _skip_reasons:
        terminalreporter.write_sep("!", f"SKIPPED: {reason}", red=True, bold=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.PostgresServer]:
    try:
        server = servers.PostgresServer().start()
    except servers.ServerUnavailable as exc:
        reason = f"PostgreSQL tests cannot run: {exc.reason}"
        if IN_CI:
            pytest.fail(reason + " (mandatory in CI)", pytrace=False)
        _skip_reasons.append(reason)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


def _migrate(url: str) -> None:
    upgrade(url)


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "taskapi.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(_migrate, url)
    return url


@pytest.fixture(scope="session")
async def postgres_url(postgres_server: servers.PostgresServer) -> str:
    url = postgres_server.url(driver="asyncpg")
    await asyncio.to_thread(_migrate, url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "sqlite" and request.node.get_closest_marker("postgres_only"):
        pytest.skip("PostgreSQL-only test")
    if name == "postgres" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("SQLite-only test")
    return name


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str) -> str:
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        # Cheap hashing keeps the suite fast; production cost is tested separately.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        "database_pool_size": 5,
        # Every test request comes from one address: limits are off unless a test
        # (tests/security) turns them on.
        "rate_limit_auth": "0",
        "rate_limit_api": "0",
        "login_failure_limit": "0",
        "login_failure_limit_account": "0",
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings.model_validate(values)


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def settings_factory(database_url: str) -> SettingsFactory:
    """Settings for the backend under test, with overrides (tests/pooler swaps this one)."""
    return lambda **overrides: make_settings(database_url, **overrides)


@pytest.fixture
def settings(settings_factory: SettingsFactory) -> Settings:
    return settings_factory()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def app_factory(settings_factory: SettingsFactory) -> AsyncIterator[AppFactory]:
    """Build extra apps with overridden settings; they are disposed after the test."""
    built: list[FastAPI] = []

    def build(**overrides: Any) -> FastAPI:
        app = create_app(settings_factory(**overrides))
        built.append(app)
        return app

    yield build
    for app in built:
        await app.state.database.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await _empty_tables(application)
    await application.state.database.dispose()


async def _empty_tables(app: FastAPI) -> None:
    engine = app.state.database.engine
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
        else:
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


@pytest.fixture
def unique_email() -> Callable[[], str]:
    return lambda: f"user-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture
async def raw_engine(database_url: str) -> AsyncIterator[Any]:
    """A separate engine for tests that inspect the database directly."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()
