"""Express routes (core/express.py) answer exactly as the FastAPI routes they front.

Every request below is sent to two apps on the same database: one with the express
routes (the default) and one with ``TASKAPI_EXPRESS_ROUTES=false``. Status, body and
headers must be the same, for requests the express routes answer and for those they
hand over (odd parameters, non-canonical ids, errors).
"""

from __future__ import annotations

from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import AppFactory, client_for
from tests.factories import SignedInUser, create_task, signed_in_user
from tests.tasks.helpers import TASKS, task_url

# Headers that differ between any two answers, express or not.
VOLATILE_HEADERS = {"x-request-id", "date"}


def _answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    return response.status_code, headers, response.content


@pytest.fixture
def plain_app(app_factory: AppFactory) -> FastAPI:
    return app_factory(express_routes=False)


@pytest.fixture
def dependency_solves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the requests FastAPI solved dependencies for (its per-request work)."""
    paths: list[str] = []
    original = fastapi.routing.solve_dependencies  # type: ignore[attr-defined]

    async def counting(*args: Any, **kwargs: Any) -> Any:
        paths.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return paths


async def _tasks_of(client: httpx.AsyncClient, user: SignedInUser) -> list[dict[str, Any]]:
    return [
        await create_task(client, user, title="plain"),
        await create_task(
            client,
            user,
            title="Tagged and due",
            description="with a description",
            priority="high",
            tags=["Work", "home"],
            due_at="2030-01-02T03:04:05.678Z",
            recurrence="weekly",
        ),
        await create_task(client, user, title="done", completed=True, priority="low"),
        *[await create_task(client, user, title=f"filler {n}") for n in range(4)],
    ]


async def _requests(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """(path, query, headers) of every request compared."""
    tasks = await _tasks_of(client, alice)
    bobs = await create_task(client, bob, title="bob's")
    tagged = tasks[1]
    first = await client.get(TASKS, params={"limit": 2}, headers=alice.headers)
    cursor = first.json()["next_cursor"]
    auth = alice.headers
    etag = f'"{tagged["version"]}"'
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    for task_id in (
        tagged["id"],
        tagged["id"].upper(),
        tagged["id"].replace("-", ""),
        "{" + tagged["id"] + "}",
        "urn:uuid:" + tagged["id"],
        bobs["id"],
        "00000000-0000-4000-8000-000000000000",
        "not-a-uuid",
        tagged["id"] + "%0A",  # "$" in a regex would let the newline through
    ):
        requests.append((task_url(task_id), {}, auth))
    for condition in (etag, '"999"', f'W/{etag}, "1"', "*", "x" * 257, "x" * 256):
        requests.append((task_url(tagged["id"]), {}, {**auth, "If-None-Match": condition}))
    requests += [
        (task_url(tagged["id"]), {}, {}),
        (task_url(tagged["id"]), {}, {"Authorization": "Bearer not-a-token"}),
        (task_url(tagged["id"]), {}, {"Authorization": "Basic abc"}),
        (task_url(tagged["id"]), {"unknown": "1"}, auth),
    ]
    for query in (
        {},
        {"limit": "1"},
        {"limit": "100"},
        {"limit": "101"},
        {"limit": "0"},
        {"limit": "05"},
        {"limit": " 5"},
        {"limit": "x"},
        {"limit": "5\n"},
        {"limit": "2", "cursor": cursor},
        {"limit": "2", "cursor": cursor, "sort": "title"},
        {"cursor": "garbage"},
        {"cursor": "c" * 2000},
        {"cursor": ""},
        {"sort": "nonsense"},
        {"status": "done"},
        {"status": "pending"},
        {"status": "completed", "sort": "-priority"},
        {"q": "tagged"},
        {"tag": "work"},
        {"priority": "high"},
        {"unknown": "1"},
        *({"sort": key} for key in ("created_at", "-updated_at", "title", "-title", "due_at")),
    ):
        requests.append((TASKS, query, auth))
    requests += [
        (TASKS + "?limit=1&limit=2", {}, auth),
        (TASKS, {}, {}),
        (TASKS, {}, bob.headers),
    ]
    return requests


async def test_same_answers_with_and_without_express_routes(
    app: FastAPI, plain_app: FastAPI
) -> None:
    async with client_for(app) as express, client_for(plain_app) as plain:
        alice, bob = await signed_in_user(express), await signed_in_user(express)
        requests = await _requests(express, alice, bob)
        for path, query, headers in requests:
            expected = await plain.get(path, params=query, headers=headers)
            answer = await express.get(path, params=query, headers=headers)
            assert _answer(answer) == _answer(expected), (path, query, headers)


async def test_well_formed_reads_skip_fastapi_and_odd_ones_reach_it(
    client: httpx.AsyncClient, dependency_solves: list[str]
) -> None:
    alice = await signed_in_user(client)
    task = await create_task(client, alice)
    dependency_solves.clear()

    assert (await client.get(task_url(task["id"]), headers=alice.headers)).status_code == 200
    listed = await client.get(TASKS, params={"limit": 5, "sort": "title"}, headers=alice.headers)
    assert listed.status_code == 200
    assert dependency_solves == []

    odd = await client.get(task_url(task["id"].replace("-", "")), headers=alice.headers)
    searched = await client.get(TASKS, params={"q": "task"}, headers=alice.headers)
    assert (odd.status_code, searched.status_code) == (200, 200)
    assert set(dependency_solves) == {task_url(task["id"].replace("-", "")), TASKS}


async def test_a_handed_over_request_counts_once_against_the_rate_limit(
    app_factory: AppFactory,
) -> None:
    limited = app_factory(rate_limit_api="3/minute")
    async with client_for(limited) as http:
        alice = await signed_in_user(http)
        # "unknown" makes the express route hand the request to the FastAPI route.
        answers = [
            await http.get(TASKS, params={"unknown": "1"}, headers=alice.headers) for _ in range(4)
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["RateLimit-Remaining"] for answer in answers[:3]] == ["2", "1", "0"]


def _normalized(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    """The answer without what differs between two creations (ids and times)."""
    status, headers, content = _answer(response)
    body: Any = content
    if response.headers.get("content-type") == "application/json":
        body = response.json()
    if status == 201:
        assert headers.pop("location") == f"{TASKS}/{body['id']}"
        for name in ("id", "created_at", "updated_at"):
            assert body.pop(name)
        if body["completed_at"] is not None:
            body["completed_at"] = "set"
    return status, headers, body


CREATE_BODIES: list[tuple[dict[str, str], bytes]] = [
    ({}, b'{"title": "minimal"}'),
    (
        {},
        b'{"title": "  full  ", "description": null, "completed": true, "priority": "urgent",'
        b' "due_at": "2030-06-01T12:00:00+02:00", "recurrence": "monthly",'
        b' "tags": ["Home", "Errands", "errands"]}',
    ),
    ({}, b'{"title": "existing tag, other spelling", "tags": ["WORK"]}'),
    ({"Content-Type": "application/json; charset=UTF-8"}, b'{"title": "charset"}'),
    ({"Content-Type": "application/merge-patch+json"}, b'{"title": "+json"}'),
    ({"Content-Type": "text/plain"}, b'{"title": "plain text"}'),
    ({"Idempotency-Key": "key-1"}, b'{"title": "idempotent"}'),
    ({}, b'{"title": ""}'),
    ({}, b'{"title": 5}'),
    ({}, b'{"title": "x", "version": 3}'),
    ({}, b'{"title": "nul \\u0000"}'),
    ({}, b'{"title": "x", "due_at": 0}'),
    ({}, b'{"title": "x", "tags": ["a", 1]}'),
    ({}, b'{"title": '),
    ({}, b""),
    ({}, b"null"),
    ({}, b"[]"),
    ({"Authorization": "Bearer not-a-token"}, b'{"title": "bad token"}'),
]


async def test_same_answers_to_creates_with_and_without_express_routes(
    app: FastAPI, plain_app: FastAPI
) -> None:
    async with client_for(app) as express, client_for(plain_app) as plain:
        alice = await signed_in_user(express)
        await create_task(express, alice, title="first", tags=["Work"])
        for extra, body in CREATE_BODIES:
            headers = {**alice.headers, "Content-Type": "application/json", **extra}
            if extra.get("Idempotency-Key"):  # a different key each, or the second replays
                expected = await plain.post(TASKS, content=body, headers=headers)
                headers["Idempotency-Key"] = "key-2"
            else:
                expected = await plain.post(TASKS, content=body, headers=headers)
            answer = await express.post(TASKS, content=body, headers=headers)
            if b'"  full  "' in body:
                # Tags as stored, alphabetical ignoring case (here in the answer itself).
                assert answer.json()["tags"] == ["Errands", "Home"]
            assert _normalized(answer) == _normalized(expected), body
        listed = await express.get(TASKS, params={"limit": 100}, headers=alice.headers)
        tags = await express.get("/api/v1/tags", headers=alice.headers)
    succeeded = 5  # the first five bodies, in each app
    # The first task, the successes, and one idempotent create in each app.
    assert len(listed.json()["items"]) == 1 + 2 * succeeded + 2
    assert {tag["name"]: tag["task_count"] for tag in tags.json()} == {
        "Errands": 2,
        "Home": 2,
        "Work": 3,
    }


async def test_create_that_the_express_route_hands_over_reads_the_body_once(
    client: httpx.AsyncClient, dependency_solves: list[str]
) -> None:
    alice = await signed_in_user(client)
    dependency_solves.clear()
    quick = await client.post(TASKS, json={"title": "quick"}, headers=alice.headers)
    assert quick.status_code == 201
    assert dependency_solves == []
    keyed = await client.post(
        TASKS, json={"title": "keyed"}, headers={**alice.headers, "Idempotency-Key": "k"}
    )
    invalid = await client.post(TASKS, json={"title": ""}, headers=alice.headers)
    assert keyed.status_code == 201
    assert keyed.json()["title"] == "keyed"
    assert invalid.status_code == 422
    assert set(dependency_solves) == {TASKS}
