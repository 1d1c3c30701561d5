"""One user can neither see nor touch another user's tasks, nor tell that they exist."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import fetch, list_page, listed_ids, task_url

ROUTES: list[Any] = [
    pytest.param("GET", "", None, id="get"),
    pytest.param("PATCH", "", {"title": "hijacked"}, id="patch"),
    pytest.param("PUT", "", {"title": "hijacked"}, id="put"),
    pytest.param("DELETE", "", None, id="delete"),
    pytest.param("POST", "/complete", None, id="complete"),
    pytest.param("POST", "/reopen", None, id="reopen"),
]


async def call(
    client: httpx.AsyncClient,
    user: SignedInUser,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.request(method, url, json=body, headers={**user.headers, **(headers or {})})


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
async def test_other_user_gets_404_like_an_unknown_id(
    client: httpx.AsyncClient,
    alice: SignedInUser,
    bob: SignedInUser,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    task = await create_task(
        client, alice, title="Alice's", due_at="2030-01-01T00:00:00Z", recurrence="daily"
    )
    if suffix == "/reopen":  # make reopen a real change if it were allowed
        task = (await client.post(task_url(task["id"]) + "/complete", headers=alice.headers)).json()
        task.pop("next")
    foreign = await call(client, bob, method, task_url(task["id"]) + suffix, body)
    unknown = await call(client, bob, method, task_url(str(uuid.uuid4())) + suffix, body)

    assert_problem(foreign, 404, detail="Task not found")
    assert foreign.json() == unknown.json()
    assert foreign.headers["content-type"] == unknown.headers["content-type"]
    assert "etag" not in foreign.headers
    assert await fetch(client, alice, task["id"]) == task


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
async def test_other_user_gets_404_even_with_matching_preconditions(
    client: httpx.AsyncClient,
    alice: SignedInUser,
    bob: SignedInUser,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    task = await create_task(client, alice)
    headers = {"If-Match": '"1"', "If-None-Match": '"1"'}
    if method == "GET":
        headers.pop("If-Match")
    foreign = await call(client, bob, method, task_url(task["id"]) + suffix, body, headers)
    assert_problem(foreign, 404, detail="Task not found")
    assert await fetch(client, alice, task["id"]) == task


async def test_list_never_shows_another_users_tasks(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    for n in range(3):
        await create_task(client, alice, title=f"alice {n}", priority="high", completed=n == 0)
    mine = await create_task(client, bob, title="bob's", priority="high")
    assert await listed_ids(client, bob) == [mine["id"]]
    for params in (
        {"status": "completed"},
        {"status": "pending"},
        {"priority": "high"},
        {"sort": "title"},
        {"sort": "-due_at"},
        {"overdue": "true"},
    ):
        ids = await listed_ids(client, bob, **params)
        assert set(ids) <= {mine["id"]}, params


async def test_a_user_with_no_tasks_sees_an_empty_list(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice)
    assert await list_page(client, bob) == {"items": [], "next_cursor": None}


async def test_pages_of_one_user_never_include_another_users_tasks(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    alices = {(await create_task(client, alice, title=f"a{n}"))["id"] for n in range(3)}
    bobs = {(await create_task(client, bob, title=f"b{n}"))["id"] for n in range(3)}
    for user, own in ((alice, alices), (bob, bobs)):
        cursor: str | None = None
        seen: list[str] = []
        while True:
            params: dict[str, Any] = {"limit": 1, "sort": "title"}
            if cursor:
                params["cursor"] = cursor
            page = await list_page(client, user, **params)
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(own)


async def test_a_task_created_by_one_user_belongs_only_to_that_user(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    task = await create_task(client, bob, title="Bob's")
    assert_problem(await client.get(task_url(task["id"]), headers=alice.headers), 404)
    assert (await fetch(client, bob, task["id"]))["title"] == "Bob's"


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
async def test_task_routes_without_a_token_are_401(
    client: httpx.AsyncClient,
    alice: SignedInUser,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    task = await create_task(client, alice)
    response = await client.request(method, task_url(task["id"]) + suffix, json=body)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await fetch(client, alice, task["id"]) == task


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_task_collection_without_a_token_is_401(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/api/v1/tasks", json={"title": "x"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
async def test_task_routes_with_an_invalid_token_are_401(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
