"""PUT /api/v1/tasks/{id}: full replacement."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import assert_task_shape, fetch, task_url

FULL = {
    "title": "Full",
    "description": "all of it",
    "completed": True,
    "priority": "urgent",
    "due_at": "2030-01-01T00:00:00Z",
    "recurrence": "monthly",
}


async def put(
    client: httpx.AsyncClient,
    user: SignedInUser,
    task_id: str,
    body: Any,
    if_match: str | None = None,
) -> httpx.Response:
    headers = dict(user.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.put(task_url(task_id), json=body, headers=headers)


async def test_put_replaces_every_field(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="Before")
    response = await put(client, alice, task["id"], {**FULL, "title": "  After  "})
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert_task_shape(replaced)
    assert replaced["title"] == "After"
    for name in ("description", "completed", "priority", "due_at", "recurrence"):
        assert replaced[name] == FULL[name], name
    assert replaced["completed_at"] is not None
    assert (replaced["id"], replaced["created_at"]) == (task["id"], task["created_at"])
    assert replaced["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert await fetch(client, alice, task["id"]) == replaced


async def test_put_returns_omitted_fields_to_their_defaults(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, **FULL)
    response = await put(client, alice, task["id"], {"title": "Only a title"})
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["title"] == "Only a title"
    assert replaced["description"] == ""
    assert replaced["completed"] is False
    assert replaced["completed_at"] is None
    assert replaced["priority"] == "none"
    assert replaced["due_at"] is None
    assert replaced["recurrence"] is None
    assert await fetch(client, alice, task["id"]) == replaced


async def test_put_with_identical_content_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="Same", priority="low")
    response = await put(client, alice, task["id"], {"title": "Same", "priority": "low"})
    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"description": "no title"}, ["body", "title"], id="title-missing"),
        pytest.param({"title": None}, ["body", "title"], id="title-null"),
        pytest.param({"title": " "}, ["body", "title"], id="title-blank"),
        pytest.param({"title": "ok", "version": 1}, ["body", "version"], id="server-owned"),
        pytest.param({"title": "ok", "extra": 1}, ["body", "extra"], id="unknown-field"),
        pytest.param({"title": "ok", "completed": "no"}, ["body", "completed"], id="completed-no"),
    ],
)
async def test_invalid_put_is_422_and_leaves_the_task_unchanged(
    client: httpx.AsyncClient, alice: SignedInUser, body: dict[str, Any], loc: list[str]
) -> None:
    task = await create_task(client, alice, **FULL)
    assert_problem(await put(client, alice, task["id"], body), 422, loc=loc)
    assert await fetch(client, alice, task["id"]) == task


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "*"])
async def test_put_with_matching_if_match_succeeds(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    response = await put(client, alice, task["id"], {"title": "Replaced"}, if_match=tag)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'


async def test_put_with_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, **FULL)
    await client.patch(task_url(task["id"]), json={"title": "Moved on"}, headers=alice.headers)
    before = await fetch(client, alice, task["id"])
    response = await put(client, alice, task["id"], {"title": "Stale"}, if_match='"1"')
    assert_problem(response, 412)
    assert await fetch(client, alice, task["id"]) == before


async def test_put_unknown_task_is_404(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    response = await put(client, alice, "00000000-0000-4000-8000-000000000000", {"title": "x"})
    assert_problem(response, 404, detail="Task not found")
