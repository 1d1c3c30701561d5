"""Assertions, requests and token builders shared by the auth and users tests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import httpx
import jwt
from sqlalchemy import Uuid, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import TEST_SECRET

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
PASSWORD = "/api/v1/users/me/password"

PROBLEM_JSON = "application/problem+json"
ISSUER = "taskapi"
AUDIENCE = "taskapi"
TOKEN_PAIR_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}
USER_KEYS = {"id", "email", "display_name", "created_at"}


# --- responses -------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status; return its body."""
    assert response.status_code == status, response.text
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
    assert media_type == PROBLEM_JSON, response.headers.get("content-type")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str), body
        assert body[member], body
    return body


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    """401 problem+json with a Bearer challenge."""
    body = assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers
    return body


def assert_validation_problem(response: httpx.Response) -> list[dict[str, Any]]:
    """422 problem+json whose ``errors`` list has loc/msg/type entries; return the list."""
    body = assert_problem(response, 422)
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}, error
        assert isinstance(error["loc"], list), error
        assert isinstance(error["msg"], str), error
        assert isinstance(error["type"], str), error
    return errors


def error_locs(errors: Iterable[dict[str, Any]]) -> list[tuple[str | int, ...]]:
    return [tuple(error["loc"]) for error in errors]


def same_problem(first: dict[str, Any], second: dict[str, Any]) -> bool:
    return all(first[key] == second[key] for key in ("status", "type", "title", "detail"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- requests --------------------------------------------------------------------------


async def try_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def try_refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def get_me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(ME, headers=bearer(access_token))


# --- tokens ----------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def forge_access_token(
    subject: str,
    *,
    key: str = TEST_SECRET,
    algorithm: str = "HS256",
    drop: Iterable[str] = (),
    **overrides: Any,
) -> str:
    """An access token shaped like the service's own; each attack changes one thing."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": now,
        "exp": now + 900,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    for name in drop:
        del claims[name]
    return jwt.encode(claims, key, algorithm=algorithm)


# --- database --------------------------------------------------------------------------


async def count_rows_of_user(
    engine: AsyncEngine, table_name: str, user_id: str, *, key: str = "user_id"
) -> int:
    """Rows of ``table_name`` whose ``key`` column holds the user's id.

    The column is typed as ``Uuid`` so the id is bound as each backend stores it
    (32 hex digits on SQLite, a native uuid on PostgreSQL).
    """
    rows = table(table_name, column(key, Uuid()))
    statement = select(func.count()).select_from(rows).where(rows.c[key] == uuid.UUID(user_id))
    async with engine.connect() as connection:
        return int((await connection.execute(statement)).scalar_one())
