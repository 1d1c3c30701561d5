"""Fixtures for the security tests: a real Redis server, and app building that cleans up.

Redis is a throwaway ``redis-server`` (tests/servers.py). Without the binary the Redis
tests are skipped loudly; with ``CI=true`` they fail instead (as PostgreSQL does).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi import FastAPI

from tests import servers
from tests.conftest import IN_CI, AppFactory, _skip_reasons


def _start_redis_or_skip() -> servers.RedisServer:
    try:
        return servers.start_redis()
    except servers.ServerUnavailable as exc:
        reason = f"Redis tests cannot run: {exc.reason}"
        if IN_CI:
            pytest.fail(reason + " (mandatory in CI)", pytrace=False)
        if reason not in _skip_reasons:
            _skip_reasons.append(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RedisServer]:
    server = _start_redis_or_skip()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: servers.RedisServer) -> str:
    """The shared server's URL, emptied first: counters never leak between tests."""
    with redis.Redis.from_url(redis_server.url) as connection:
        connection.flushall()
    return redis_server.url


@pytest.fixture
def own_redis() -> Iterator[servers.RedisServer]:
    """A Redis server of this test alone, for tests that stop and restart it."""
    server = _start_redis_or_skip()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_app(app: FastAPI, app_factory: AppFactory) -> AppFactory:
    """``app_factory``; asking for ``app`` too empties the tables after the test."""
    return app_factory
