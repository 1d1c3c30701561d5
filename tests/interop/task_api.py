"""Helpers for tests that drive Task API with tokens from a real Better Auth server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from fastapi import FastAPI

from tests.conftest import AppFactory, client_for
from tests.core.problems import assert_problem
from tests.interop.better_auth import BetterAuthServer, Session, get_jwt, sign_in, sign_up

PASSWORD = "correct horse battery staple"
ME = "/api/v1/users/me"
TASKS = "/api/v1/tasks"


@dataclass
class BetterAuthUser:
    """A user signed up at a Better Auth server, with a JWT from its /api/auth/token."""

    server: BetterAuthServer
    email: str
    name: str
    session: Session
    token: str

    @property
    def sub(self) -> str:
        return str(self.session["user"]["id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    @property
    def claims(self) -> dict[str, Any]:
        return unverified_claims(self.token)

    def new_token(self) -> str:
        """Sign in again (a new Better Auth session) and get a fresh JWT."""
        session = sign_in(self.server, self.email, PASSWORD)
        return get_jwt(self.server, session)


def better_auth_user(server: BetterAuthServer, name: str = "Alice Example") -> BetterAuthUser:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:10]}@example.com"
    session = sign_up(server, email, PASSWORD, name)
    return BetterAuthUser(server, email, name, session, get_jwt(server, session))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def trusting(app_factory: AppFactory, server: BetterAuthServer, **overrides: Any) -> FastAPI:
    """An app (on the test's database) that trusts ``server``'s tokens."""
    settings: dict[str, Any] = {
        "auth_jwks_url": server.jwks_url,
        "auth_issuer": server.origin,
        "auth_audience": server.origin,
        **overrides,
    }
    return app_factory(**settings)


@asynccontextmanager
async def client_of(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``application``; closes the app's outbound (JWKS) client too."""
    async with client_for(application) as http:
        yield http
    await application.state.http.aclose()


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), response.headers


async def create_task(
    http: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    response = await http.post(TASKS, json={"title": "A task", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def list_ids(http: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await http.get(TASKS, params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()["items"]]
