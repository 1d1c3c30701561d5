"""The "todo app, phase II" routes (/api/{user_id}/tasks…) with real Better Auth tokens,
and with a built-in account: same storage as /api/v1, `{user_id}` must be the token's
subject (403 otherwise), another user's task is 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import AppFactory
from tests.core.problems import assert_problem
from tests.factories import signed_in_user
from tests.interop.better_auth import BetterAuthServer
from tests.interop.task_api import (
    TASKS,
    BetterAuthUser,
    assert_unauthorized,
    better_auth_user,
    client_of,
    create_task,
    trusting,
)

PHASE_TWO_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "created_at",
    "updated_at",
}


def tasks_url(user_id: str, task_id: str | None = None, suffix: str = "") -> str:
    base = f"/api/{user_id}/tasks"
    return base if task_id is None else f"{base}/{task_id}{suffix}"


@pytest.fixture(scope="module")
def alice(better_auth_server: BetterAuthServer) -> BetterAuthUser:
    """Signed up once per module; the local user is provisioned anew in each test."""
    return better_auth_user(better_auth_server, "Alice Liddell")


@pytest.fixture(scope="module")
def bob(better_auth_server: BetterAuthServer) -> BetterAuthUser:
    return better_auth_user(better_auth_server, "Bob Builder")


@pytest.fixture
async def http(
    app: FastAPI, app_factory: AppFactory, better_auth_server: BetterAuthServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app trusting Better Auth and keeping built-in accounts.

    ``app`` is requested for its teardown, which empties the tables.
    """
    async with client_of(trusting(app_factory, better_auth_server)) as client:
        yield client


async def compat_create(
    http: httpx.AsyncClient, user: BetterAuthUser, **fields: Any
) -> dict[str, Any]:
    response = await http.post(
        tasks_url(user.sub), json={"title": "A task", **fields}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def compat_list(
    http: httpx.AsyncClient, user: BetterAuthUser, **params: str
) -> list[dict[str, Any]]:
    response = await http.get(tasks_url(user.sub), params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()
    assert isinstance(tasks, list)
    return tasks


# --- the routes ------------------------------------------------------------------------


async def test_create_returns_a_phase_two_task_owned_by_the_token_subject(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    response = await http.post(
        tasks_url(alice.sub),
        json={"title": "Buy milk", "description": "2 litres"},
        headers=alice.headers,
    )

    assert response.status_code == 201, response.text
    task = response.json()
    assert set(task) >= PHASE_TWO_FIELDS
    assert task["user_id"] == alice.sub == alice.claims["sub"]
    assert task["title"] == "Buy milk"
    assert task["description"] == "2 litres"
    assert task["completed"] is False
    uuid.UUID(task["id"])
    for stamp in ("created_at", "updated_at"):
        assert datetime.fromisoformat(task[stamp].replace("Z", "+00:00")).tzinfo is not None
    assert response.headers["location"] == tasks_url(alice.sub, task["id"])


async def test_list_get_put_and_delete_one_task(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    task = await compat_create(http, alice, title="Draft")
    url = tasks_url(alice.sub, task["id"])

    assert [listed["id"] for listed in await compat_list(http, alice)] == [task["id"]]
    fetched = await http.get(url, headers=alice.headers)
    assert fetched.status_code == 200
    assert fetched.json()["id"] == task["id"]
    assert fetched.json()["user_id"] == alice.sub

    updated = await http.put(
        url, json={"title": "Final", "description": "done right"}, headers=alice.headers
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == "Final"
    assert updated.json()["description"] == "done right"
    assert updated.json()["user_id"] == alice.sub

    deleted = await http.delete(url, headers=alice.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await http.get(url, headers=alice.headers), 404)
    assert await compat_list(http, alice) == []


async def test_patch_complete_toggles_both_ways(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    task = await compat_create(http, alice)
    url = tasks_url(alice.sub, task["id"], "/complete")

    done = await http.patch(url, headers=alice.headers)
    undone = await http.patch(url, headers=alice.headers)
    again = await http.patch(url, headers=alice.headers)

    assert done.status_code == undone.status_code == again.status_code == 200
    assert done.json()["completed"] is True
    assert undone.json()["completed"] is False
    assert again.json()["completed"] is True
    assert again.json()["user_id"] == alice.sub
    stored = await http.get(f"{TASKS}/{task['id']}", headers=alice.headers)
    assert stored.json()["completed"] is True


async def test_status_filter(http: httpx.AsyncClient, alice: BetterAuthUser) -> None:
    pending = await compat_create(http, alice, title="pending")
    finished = await compat_create(http, alice, title="finished")
    await http.patch(tasks_url(alice.sub, finished["id"], "/complete"), headers=alice.headers)

    def ids(tasks: list[dict[str, Any]]) -> set[str]:
        return {task["id"] for task in tasks}

    assert ids(await compat_list(http, alice, status="all")) == {pending["id"], finished["id"]}
    assert ids(await compat_list(http, alice)) == {pending["id"], finished["id"]}
    assert ids(await compat_list(http, alice, status="pending")) == {pending["id"]}
    assert ids(await compat_list(http, alice, status="completed")) == {finished["id"]}
    bad = await http.get(tasks_url(alice.sub), params={"status": "done"}, headers=alice.headers)
    assert_problem(bad, 422)


async def test_sort_by_created_title_and_due_date(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    banana = await compat_create(http, alice, title="banana", due_at="2030-03-01T00:00:00Z")
    apple = await compat_create(http, alice, title="apple")
    cherry = await compat_create(http, alice, title="cherry", due_at="2030-01-01T00:00:00Z")

    def titles(tasks: list[dict[str, Any]]) -> list[str]:
        return [task["title"] for task in tasks]

    newest_first = await compat_list(http, alice, sort="created")
    assert [task["id"] for task in newest_first] == [cherry["id"], apple["id"], banana["id"]]
    assert titles(await compat_list(http, alice)) == titles(newest_first)  # the default
    assert titles(await compat_list(http, alice, sort="title")) == ["apple", "banana", "cherry"]
    # Dated tasks by due date; the undated one sorts at the end.
    assert titles(await compat_list(http, alice, sort="due_date")) == [
        "cherry",
        "banana",
        "apple",
    ]
    bad = await http.get(tasks_url(alice.sub), params={"sort": "priority"}, headers=alice.headers)
    assert_problem(bad, 422)


# --- authorisation ---------------------------------------------------------------------


async def test_user_id_other_than_the_token_subject_is_403(
    http: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    bobs_task = await compat_create(http, bob, title="Bob's")
    local_alice_id = (await http.get("/api/v1/users/me", headers=alice.headers)).json()["id"]

    for user_id in (bob.sub, "someone-else", local_alice_id, alice.sub.upper()):
        if user_id == alice.sub:
            continue
        requests = [
            ("GET", tasks_url(user_id), None),
            ("POST", tasks_url(user_id), {"title": "intruder"}),
            ("GET", tasks_url(user_id, bobs_task["id"]), None),
            ("PUT", tasks_url(user_id, bobs_task["id"]), {"title": "intruder"}),
            ("DELETE", tasks_url(user_id, bobs_task["id"]), None),
            ("PATCH", tasks_url(user_id, bobs_task["id"], "/complete"), None),
        ]
        for method, url, body in requests:
            response = await http.request(method, url, json=body, headers=alice.headers)
            assert_problem(response, 403)

    unchanged = (await http.get(tasks_url(bob.sub, bobs_task["id"]), headers=bob.headers)).json()
    assert unchanged["title"] == "Bob's"
    assert unchanged["completed"] is False
    assert [task["id"] for task in await compat_list(http, bob)] == [bobs_task["id"]]
    assert await compat_list(http, alice) == []


async def test_another_users_task_id_is_404(
    http: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    bobs_task = await compat_create(http, bob, title="Bob's")

    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"title": "mine now"}),
        ("PATCH", "/complete", None),
        ("DELETE", "", None),
    ):
        url = tasks_url(alice.sub, bobs_task["id"], suffix)
        response = await http.request(method, url, json=body, headers=alice.headers)
        assert_problem(response, 404)

    unchanged = (await http.get(tasks_url(bob.sub, bobs_task["id"]), headers=bob.headers)).json()
    assert unchanged["title"] == "Bob's"
    assert unchanged["completed"] is False


async def test_compat_routes_need_a_valid_token(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    assert_unauthorized(await http.get(tasks_url(alice.sub)))
    forged = {"Authorization": f"Bearer {alice.token[:-4]}AAAA"}
    assert_unauthorized(await http.get(tasks_url(alice.sub), headers=forged))


# --- one storage for both APIs ---------------------------------------------------------


async def test_put_changes_only_the_fields_given(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    task = await create_task(
        http,
        alice.headers,
        title="Original",
        description="keep me",
        priority="high",
        tags=["work", "home"],
        due_at="2031-05-01T09:00:00Z",
    )

    response = await http.put(
        tasks_url(alice.sub, task["id"]), json={"title": "Renamed"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    stored = (await http.get(f"{TASKS}/{task['id']}", headers=alice.headers)).json()
    assert stored["title"] == "Renamed"
    assert stored["description"] == "keep me"
    assert stored["priority"] == "high"
    assert sorted(stored["tags"]) == ["home", "work"]
    assert stored["due_at"] == task["due_at"]
    assert stored["completed"] is False


async def test_compat_and_v1_routes_see_the_same_tasks(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    via_compat = await compat_create(http, alice, title="via compat")
    via_v1 = await create_task(http, alice.headers, title="via v1")

    v1_ids = {task["id"] for task in (await http.get(TASKS, headers=alice.headers)).json()["items"]}
    assert v1_ids == {via_compat["id"], via_v1["id"]}
    assert {task["id"] for task in await compat_list(http, alice)} == v1_ids

    await http.post(f"{TASKS}/{via_v1['id']}/complete", headers=alice.headers)
    seen = (await http.get(tasks_url(alice.sub, via_v1["id"]), headers=alice.headers)).json()
    assert seen["completed"] is True

    await http.delete(tasks_url(alice.sub, via_compat["id"]), headers=alice.headers)
    assert_problem(await http.get(f"{TASKS}/{via_compat['id']}", headers=alice.headers), 404)


async def test_other_api_versions_are_404_not_the_compat_route(
    http: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    task = await create_task(http, alice.headers)

    for method, path in (
        ("GET", "/api/v2/tasks"),
        ("POST", "/api/v2/tasks"),
        ("GET", f"/api/v2/tasks/{task['id']}"),
        ("PATCH", f"/api/v2/tasks/{task['id']}/complete"),
        ("GET", "/api/v10/tasks"),
    ):
        response = await http.request(method, path, json={"title": "x"}, headers=alice.headers)
        assert_problem(response, 404)

    v1 = await http.get(TASKS, headers=alice.headers)
    assert v1.status_code == 200
    assert isinstance(v1.json(), dict)  # the v1 page, not a compat array


# --- a built-in account ------------------------------------------------------------------


async def test_compat_routes_with_a_built_in_account(http: httpx.AsyncClient) -> None:
    user = await signed_in_user(http)
    other = await signed_in_user(http)
    base = tasks_url(user.id)

    created = await http.post(base, json={"title": "built-in"}, headers=user.headers)
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["user_id"] == user.id
    listed = await http.get(base, headers=user.headers)
    assert [item["id"] for item in listed.json()] == [task["id"]]
    toggled = await http.patch(tasks_url(user.id, task["id"], "/complete"), headers=user.headers)
    assert toggled.json()["completed"] is True
    put = await http.put(
        tasks_url(user.id, task["id"]), json={"description": "more"}, headers=user.headers
    )
    assert put.json()["title"] == "built-in"
    assert put.json()["description"] == "more"

    # The path names someone else: 403, whoever's token it is.
    assert_problem(await http.get(tasks_url(other.id), headers=user.headers), 403)
    assert_problem(await http.get(base, headers=other.headers), 403)
    assert_problem(await http.get(tasks_url(user.id, task["id"]), headers=other.headers), 403)
    # The path names the caller, the task is someone else's: 404.
    assert_problem(await http.get(tasks_url(other.id, task["id"]), headers=other.headers), 404)
    deleted = await http.delete(tasks_url(user.id, task["id"]), headers=user.headers)
    assert deleted.status_code == 204
