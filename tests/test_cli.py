"""`taskapi` as an operator runs it: a real process, a real port, stopped by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import find_free_port

TASKAPI = [sys.executable, "-m", "taskapi.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKAPI_")}
    env.update(
        TASKAPI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        TASKAPI_PASSWORD_HASH_MEMORY_KIB="1024",
        TASKAPI_PASSWORD_HASH_TIME_COST="1",
    )
    env.update(extra)
    return env


def test_help_lists_every_command() -> None:
    result = subprocess.run([*TASKAPI, "--help"], capture_output=True, text=True, check=True)
    for command in ("serve", "migrate"):
        assert command in result.stdout


def test_invalid_setting_is_reported_by_name(tmp_path: Path) -> None:
    env = _env(tmp_path, TASKAPI_DATABASE_URL="mysql://nope", TASKAPI_ACCESS_TOKEN_TTL="-5")
    result = subprocess.run([*TASKAPI, "migrate"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "TASKAPI_DATABASE_URL" in result.stderr
    assert "TASKAPI_ACCESS_TOKEN_TTL" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_missing_secret(tmp_path: Path) -> None:
    env = _env(tmp_path, TASKAPI_ENV="production")
    result = subprocess.run([*TASKAPI, "migrate"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "TASKAPI_JWT_SECRET" in result.stderr


def test_production_refuses_wildcard_cors(tmp_path: Path) -> None:
    env = _env(
        tmp_path, TASKAPI_ENV="production", TASKAPI_JWT_SECRET="s" * 40, TASKAPI_CORS_ORIGINS="*"
    )
    result = subprocess.run([*TASKAPI, "migrate"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "TASKAPI_CORS_ORIGINS" in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = find_free_port()
    process = subprocess.Popen(
        [*TASKAPI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"taskapi serve did not start: {process.stderr!r}")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_migrates_and_serves_the_api(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        credentials = {"email": "cli@example.com", "password": "correct horse battery"}
        assert http.post("/api/v1/auth/register", json=credentials).status_code == 201
        token = http.post("/api/v1/auth/login", json=credentials).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = http.post("/api/v1/tasks", json={"title": "from the CLI"}, headers=headers)
        assert created.status_code == 201
        assert http.get("/docs").status_code == 200
        assert http.get("/readyz").json()["database"] == "ok"
        assert "server" not in http.get("/healthz").headers
