"""Requests, clients and assertions shared by the security tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.core.problems import assert_problem

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
TASKS = "/api/v1/tasks"
PASSWORD = "correct horse battery"
WRONG_PASSWORD = "wrong horse battery"
RATE_LIMIT_HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)


def client_at(
    app: FastAPI, address: str, *, raise_app_exceptions: bool = True
) -> httpx.AsyncClient:
    """A client whose requests come from the socket peer ``address``."""
    transport = httpx.ASGITransport(
        app=app, client=(address, 50_000), raise_app_exceptions=raise_app_exceptions
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def new_email() -> str:
    return f"sec-{uuid.uuid4().hex[:12]}@example.com"


async def register(http: httpx.AsyncClient, email: str | None = None) -> str:
    email = email or new_email()
    response = await http.post(REGISTER, json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(LOGIN, json={"email": email, "password": password})


async def tokens(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await login(http, email)
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_user_headers(http: httpx.AsyncClient) -> dict[str, str]:
    """Register and sign in a fresh user; its Authorization header."""
    pair = await tokens(http, await register(http))
    return bearer(pair["access_token"])


def assert_rate_limited(response: httpx.Response, limit: int) -> None:
    """429 problem+json with Retry-After and the RateLimit-* headers of a used-up limit."""
    assert_problem(response, 429)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) > 0
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert int(response.headers["RateLimit-Reset"]) > 0
    assert response.headers["RateLimit-Policy"].startswith(f"{limit};w=")


def remaining(response: httpx.Response) -> int:
    return int(response.headers["RateLimit-Remaining"])
