"""Fixtures for interop tests against a real Better Auth server (tests/interop/better_auth.py).

Without Node/npm the Better Auth tests are skipped loudly (a red line in the
terminal summary); with ``CI=true`` they fail instead.  A failing ``npm ci`` or a
server that does not start is always an error, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop.better_auth import (
    START_TIMEOUT,
    BetterAuthServer,
    StartBetterAuth,
    ensure_installed,
    npm_available,
    start_better_auth,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_skip_reasons: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _skip_reasons:
        terminalreporter.write_sep("!", f"SKIPPED: {reason}", red=True, bold=True)


@pytest.fixture(scope="session")
def better_auth_installed() -> None:
    """Node/npm present and ``npm ci`` done (skip, or fail in CI, otherwise)."""
    reason = npm_available()
    if reason is not None:
        message = f"Better Auth interop tests cannot run: {reason}"
        if IN_CI:
            pytest.fail(message + " (mandatory in CI)", pytrace=False)
        _skip_reasons.append(message)
        pytest.skip(message)
    ensure_installed()


@pytest.fixture(scope="session")
def better_auth_server(better_auth_installed: None) -> Iterator[BetterAuthServer]:
    """One Better Auth server for the whole session, default configuration."""
    with start_better_auth() as server:
        yield server


@pytest.fixture
def start_better_auth_server(better_auth_installed: None) -> Iterator[StartBetterAuth]:
    """Start extra Better Auth servers (kwargs = environment); stopped after the test."""
    started: list[BetterAuthServer] = []

    def start(
        *, port: int | None = None, timeout: float = START_TIMEOUT, **env: str | int | float
    ) -> BetterAuthServer:
        server = start_better_auth(port=port, timeout=timeout, **env)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()
