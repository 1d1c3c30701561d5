"""The request body cap: 413 problem+json, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task, signed_in_user

TASKS = "/api/v1/tasks"
DEFAULT_CAP = 1_048_576
JSON = {"content-type": "application/json"}


@pytest.fixture
async def user(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


@pytest.fixture
async def small_client(
    client: httpx.AsyncClient, app_factory: Callable[..., FastAPI]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app capped at 1 KiB (``client`` is requested so tables are emptied)."""
    small = app_factory(max_body_bytes=1024)
    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def body_of_size(size: int) -> bytes:
    """A valid task body of exactly ``size`` bytes."""
    empty = orjson.dumps({"title": "sized", "description": ""})
    body = orjson.dumps({"title": "sized", "description": "d" * (size - len(empty))})
    assert len(body) == size
    return body


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def count_tasks(client: httpx.AsyncClient, user: SignedInUser) -> int:
    response = await client.get(TASKS, params={"limit": 100}, headers=user.headers)
    assert response.status_code == 200
    return len(response.json()["items"])


def assert_too_large(response: httpx.Response) -> None:
    assert_problem(response, 413)
    assert response.headers.get("x-request-id")


# --- the default cap (1 MiB) -----------------------------------------------------------


async def test_10_mb_body_with_content_length_is_413(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    body = b'{"title": "big", "description": "' + b"x" * 10_000_000 + b'"}'
    response = await client.post(TASKS, content=body, headers={**user.headers, **JSON})
    assert_too_large(response)
    assert await count_tasks(client, user) == 0


async def test_10_mb_body_without_content_length_is_413(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    body = b'{"title": "big", "description": "' + b"x" * 10_000_000 + b'"}'
    response = await client.post(TASKS, content=chunks(body), headers={**user.headers, **JSON})
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert await count_tasks(client, user) == 0


async def test_body_just_over_the_default_cap_is_413(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.post(
        TASKS, content=body_of_size(DEFAULT_CAP + 1), headers={**user.headers, **JSON}
    )
    assert_too_large(response)
    assert await count_tasks(client, user) == 0


async def test_body_under_the_default_cap_reaches_validation(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    # 500 kB is allowed through the cap; the description limit then refuses it.
    response = await client.post(
        TASKS, content=body_of_size(500_000), headers={**user.headers, **JSON}
    )
    assert_problem(response, 422, loc=["body", "description"])


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_oversized_update_is_413_and_changes_nothing(
    client: httpx.AsyncClient, user: SignedInUser, method: str
) -> None:
    task = await create_task(client, user)
    response = await client.request(
        method,
        f"{TASKS}/{task['id']}",
        content=body_of_size(2 * DEFAULT_CAP),
        headers={**user.headers, **JSON},
    )
    assert_too_large(response)
    assert (await client.get(f"{TASKS}/{task['id']}", headers=user.headers)).json() == task


async def test_oversized_body_without_a_token_is_413_not_a_crash(client: httpx.AsyncClient) -> None:
    response = await client.post(TASKS, content=b"x" * (2 * DEFAULT_CAP), headers=JSON)
    assert_too_large(response)


# --- a configured cap (1 KiB) ----------------------------------------------------------


async def test_configured_cap_accepts_a_body_of_exactly_the_cap(
    small_client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await small_client.post(
        TASKS, content=body_of_size(1024), headers={**user.headers, **JSON}
    )
    assert response.status_code == 201, response.text


async def test_configured_cap_refuses_one_byte_more_with_413(
    small_client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await small_client.post(
        TASKS, content=body_of_size(1025), headers={**user.headers, **JSON}
    )
    assert_too_large(response)
    assert "1024" in response.json()["detail"]
    assert await count_tasks(small_client, user) == 0


async def test_configured_cap_refuses_a_streamed_body_with_413(
    small_client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await small_client.post(
        TASKS, content=chunks(body_of_size(4096), 512), headers={**user.headers, **JSON}
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert await count_tasks(small_client, user) == 0


async def test_configured_cap_accepts_a_small_streamed_body(
    small_client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await small_client.post(
        TASKS, content=chunks(body_of_size(900), 100), headers={**user.headers, **JSON}
    )
    assert response.status_code == 201, response.text


async def test_configured_cap_applies_to_auth_routes_too(
    small_client: httpx.AsyncClient,
) -> None:
    body = orjson.dumps({"email": "big@example.com", "password": "p" * 2000})
    response = await small_client.post("/api/v1/auth/register", content=body, headers=JSON)
    assert_too_large(response)


# --- a bad Content-Length header -------------------------------------------------------


async def _call_asgi(app: FastAPI, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    """Send a raw request (httpx would correct the header we want to get wrong)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": TASKS,
        "raw_path": TASKS.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


@pytest.mark.parametrize("value", [b"abc", b"-5", b"99999999999999999999999999"])
async def test_bad_content_length_is_a_4xx_problem(
    app: FastAPI, client: httpx.AsyncClient, user: SignedInUser, value: bytes
) -> None:
    body = b'{"title": "x"}'
    headers = [
        (b"host", b"testserver"),
        (b"content-type", b"application/json"),
        (b"content-length", value),
        (b"authorization", user.headers["Authorization"].encode()),
    ]
    status, response_headers, content = await _call_asgi(app, headers, body)
    assert status in {400, 413}
    assert response_headers[b"content-type"] == b"application/problem+json"
    assert orjson.loads(content)["status"] == status
    assert b"x-request-id" in response_headers
    assert await count_tasks(client, user) == 0
