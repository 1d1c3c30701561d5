"""Every error is problem+json, no response leaks internals, every response has a request id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.core.problems import assert_no_leak, assert_problem
from tests.factories import SignedInUser, create_task, signed_in_user

TASKS = "/api/v1/tasks"


@pytest.fixture
async def user(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


async def count_tasks(client: httpx.AsyncClient, user: SignedInUser) -> int:
    response = await client.get(TASKS, params={"limit": 100}, headers=user.headers)
    assert response.status_code == 200
    return len(response.json()["items"])


# --- routing -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v2/tasks", "/api/v1/tasks/x/y/z"])
async def test_unknown_route_is_404_problem(client: httpx.AsyncClient, path: str) -> None:
    assert_problem(await client.get(path), 404)


async def test_unknown_route_is_404_even_when_signed_in(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    assert_problem(await client.get("/api/v1/nope", headers=user.headers), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", TASKS),
        ("DELETE", TASKS),
        ("PATCH", TASKS),
        ("POST", "/healthz"),
        ("DELETE", "/healthz"),
        ("GET", TASKS + "/00000000-0000-4000-8000-000000000000/complete"),
        ("POST", TASKS + "/00000000-0000-4000-8000-000000000000"),
    ],
)
async def test_wrong_method_is_405_problem(
    client: httpx.AsyncClient, user: SignedInUser, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=user.headers)
    assert_problem(response, 405)
    assert response.headers.get("allow")


# --- bodies that are not JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": ',
        b'{"title": "x",}',
        b"{'title': 'x'}",
        b"not json at all",
        b'{"title": "x"} trailing',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
async def test_malformed_json_is_a_4xx_problem_and_creates_nothing(
    client: httpx.AsyncClient, user: SignedInUser, raw: bytes
) -> None:
    response = await client.post(
        TASKS, content=raw, headers={**user.headers, "content-type": "application/json"}
    )
    assert response.status_code in {400, 422}, response.text
    assert_problem(response, response.status_code)
    assert await count_tasks(client, user) == 0


async def test_malformed_json_is_422_pointing_into_the_body(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.post(
        TASKS, content=b'{"title": ', headers={**user.headers, "content-type": "application/json"}
    )
    assert_problem(response, 422, loc=["body"])


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", b"Buy milk"),
        ("text/plain; charset=utf-8", b'{"title": "looks like JSON"}'),
        ("application/xml", b"<task><title>Buy milk</title></task>"),
        ("text/xml", b"<task><title>Buy milk</title></task>"),
        ("application/x-www-form-urlencoded", b"title=Buy+milk"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="title"'),
        ("application/octet-stream", b"\x00\x01"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
async def test_non_json_body_is_415_problem(
    client: httpx.AsyncClient,
    user: SignedInUser,
    method: str,
    content_type: str,
    raw: bytes,
) -> None:
    task = await create_task(client, user, title="Existing")
    url = TASKS if method == "POST" else f"{TASKS}/{task['id']}"
    response = await client.request(
        method, url, content=raw, headers={**user.headers, "content-type": content_type}
    )
    assert_problem(response, 415)
    assert await count_tasks(client, user) == 1
    stored = await client.get(f"{TASKS}/{task['id']}", headers=user.headers)
    assert stored.json() == task


async def test_body_without_content_type_is_refused_not_500(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.post(TASKS, content=b'{"title": "x"}', headers=user.headers)
    assert response.status_code in {400, 415, 422}
    assert_problem(response, response.status_code)


async def test_json_suffix_media_type_is_accepted(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.post(
        TASKS,
        content=b'{"title": "vendor json"}',
        headers={**user.headers, "content-type": "application/vnd.api+json"},
    )
    assert response.status_code == 201, response.text


# --- problem documents of the other statuses ---------------------------------------------------


async def test_401_is_a_problem_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get(TASKS)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_404_problem_has_type_title_status_detail(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.get(
        f"{TASKS}/00000000-0000-4000-8000-000000000000", headers=user.headers
    )
    body = assert_problem(response, 404, detail="Task not found")
    assert body["type"].startswith("http")
    assert body["title"] == "Not Found"
    assert "errors" not in body


async def test_412_is_a_problem(client: httpx.AsyncClient, user: SignedInUser) -> None:
    task = await create_task(client, user)
    response = await client.patch(
        f"{TASKS}/{task['id']}", json={"title": "x"}, headers={**user.headers, "If-Match": '"9"'}
    )
    assert_problem(response, 412)


async def test_422_problem_lists_errors_with_loc_msg_type(
    client: httpx.AsyncClient, user: SignedInUser
) -> None:
    response = await client.post(TASKS, json={"title": ""}, headers=user.headers)
    body = assert_problem(response, 422, loc=["body", "title"])
    issue = body["errors"][0]
    assert isinstance(issue["msg"], str)
    assert issue["msg"]
    assert isinstance(issue["type"], str)
    assert issue["type"]
    assert "title" in body["detail"]


# --- nothing leaks, nothing is a 500, everything has a request id ------------------------------

Request = Callable[[httpx.AsyncClient, SignedInUser, str], Awaitable[httpx.Response]]
JSON_HEADER = {"content-type": "application/json"}
NO_TASK = TASKS + "/00000000-0000-4000-8000-000000000000"
OVERFLOW = "9999-12-31T23:59:59-05:00"

# (id, expected status, method, path ("{id}" is an existing task), request options)
BATTERY: list[tuple[str, int, str, str, dict[str, Any]]] = [
    ("health", 200, "GET", "/healthz", {}),
    ("list", 200, "GET", TASKS, {}),
    ("create", 201, "POST", TASKS, {"json": {"title": "ok"}}),
    ("get", 200, "GET", TASKS + "/{id}", {}),
    ("304", 304, "GET", TASKS + "/{id}", {"headers": {"If-None-Match": '"1"'}}),
    ("delete-204", 204, "DELETE", TASKS + "/{id}", {}),
    ("401", 401, "GET", TASKS, {"headers": {"Authorization": "Bearer x"}}),
    ("404-route", 404, "GET", "/api/v1/nope", {}),
    ("404-task", 404, "GET", NO_TASK, {}),
    ("405", 405, "PUT", TASKS, {}),
    ("412", 412, "PATCH", TASKS + "/{id}", {"json": {}, "headers": {"If-Match": '"7"'}}),
    ("415", 415, "POST", TASKS, {"content": b"x", "headers": {"content-type": "text/plain"}}),
    ("422-body", 422, "POST", TASKS, {"json": {"title": ""}}),
    ("422-path", 422, "GET", TASKS + "/not-a-uuid", {}),
    ("422-query", 422, "GET", TASKS, {"params": {"limit": "x"}}),
    ("422-cursor", 422, "GET", TASKS, {"params": {"cursor": "x"}}),
    ("bad-json", 422, "POST", TASKS, {"content": b"{", "headers": JSON_HEADER}),
    ("nul", 422, "POST", TASKS, {"json": {"title": "a\x00b"}}),
    ("overflow", 422, "POST", TASKS, {"json": {"title": "x", "due_at": OVERFLOW}}),
    (
        "surrogate",
        422,
        "POST",
        TASKS,
        {"content": b'{"title":"\\udfff"}', "headers": JSON_HEADER},
    ),
    ("sql-in-sort", 422, "GET", TASKS, {"params": {"sort": "title; DROP TABLE tasks"}}),
    ("sql-in-filter", 422, "GET", TASKS, {"params": {"priority": "' OR 1=1 --"}}),
    ("overflow-query", 422, "GET", TASKS, {"params": {"due_before": OVERFLOW}}),
    ("long-if-none-match", 422, "GET", TASKS + "/{id}", {"headers": {"If-None-Match": "x" * 300}}),
    (
        "long-if-match",
        422,
        "PATCH",
        TASKS + "/{id}",
        {"json": {"title": "x"}, "headers": {"If-Match": "x" * 300}},
    ),
    ("413", 413, "POST", TASKS, {"content": b"x" * 2_000_000, "headers": JSON_HEADER}),
]


def _requests() -> list[Any]:
    def req(method: str, path: str, options: dict[str, Any]) -> Request:
        async def send(
            client: httpx.AsyncClient, user: SignedInUser, task_id: str
        ) -> httpx.Response:
            kwargs = dict(options)  # shared by every run of the test: never mutate it
            headers = {**user.headers, **kwargs.pop("headers", {})}
            url = path.format(id=task_id)
            return await client.request(method, url, headers=headers, **kwargs)

        return send

    return [
        pytest.param(req(method, path, options), status, id=name)
        for name, status, method, path, options in BATTERY
    ]


@pytest.mark.parametrize(("send", "status"), _requests())
async def test_no_response_leaks_internals_or_is_a_500(
    client: httpx.AsyncClient, user: SignedInUser, send: Request, status: int
) -> None:
    task = await create_task(client, user)
    response = await send(client, user, task["id"])
    assert response.status_code == status, response.text
    assert_no_leak(response)
    if status >= 400:
        assert_problem(response, status)


@pytest.mark.parametrize(("send", "status"), _requests())
async def test_every_response_carries_x_request_id(
    client: httpx.AsyncClient, user: SignedInUser, send: Request, status: int
) -> None:
    task = await create_task(client, user)
    response = await send(client, user, task["id"])
    assert response.status_code == status
    assert len(response.headers.get("x-request-id", "")) >= 16


@pytest.mark.parametrize(("send", "status"), _requests())
async def test_a_given_request_id_is_echoed_on_every_response(
    client: httpx.AsyncClient, user: SignedInUser, send: Request, status: int
) -> None:
    task = await create_task(client, user)
    client.headers["X-Request-ID"] = "trace-42.abc"
    try:
        response = await send(client, user, task["id"])
    finally:
        del client.headers["X-Request-ID"]
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-42.abc"
