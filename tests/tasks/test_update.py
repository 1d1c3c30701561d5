"""PATCH /api/v1/tasks/{id}: partial update with optimistic concurrency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import RFC3339_UTC, assert_task_shape, fetch, task_url


async def patch(
    client: httpx.AsyncClient,
    user: SignedInUser,
    task_id: str,
    body: Any,
    if_match: str | None = None,
) -> httpx.Response:
    headers = dict(user.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.patch(task_url(task_id), json=body, headers=headers)


async def test_patch_changes_only_the_given_fields(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client,
        alice,
        title="Old",
        description="keep me",
        priority="low",
        due_at="2030-01-01T00:00:00Z",
    )
    response = await patch(client, alice, task["id"], {"title": "  New  ", "priority": "urgent"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert_task_shape(updated)
    assert (updated["title"], updated["priority"]) == ("New", "urgent")
    unchanged = ("description", "due_at", "completed", "completed_at", "recurrence", "created_at")
    for name in unchanged:
        assert updated[name] == task[name], name
    assert await fetch(client, alice, task["id"]) == updated


async def test_patch_bumps_version_etag_and_updated_at(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    response = await patch(client, alice, task["id"], {"description": "more"})
    updated = response.json()
    assert updated["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert RFC3339_UTC.match(updated["updated_at"])
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        task["updated_at"]
    )
    assert updated["created_at"] == task["created_at"]

    again = await patch(client, alice, task["id"], {"description": "even more"})
    assert again.json()["version"] == 3
    assert again.headers["etag"] == '"3"'


async def test_patch_with_identical_values_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client,
        alice,
        title="Same",
        description="d",
        priority="high",
        due_at="2030-01-01T12:00:00Z",
        recurrence="daily",
    )
    same = {
        "title": "  Same ",
        "description": "d",
        "priority": "high",
        "due_at": "2030-01-01T14:00:00+02:00",
        "recurrence": "daily",
        "completed": False,
    }
    response = await patch(client, alice, task["id"], same)
    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["etag"] == '"1"'
    assert await fetch(client, alice, task["id"]) == task


async def test_patch_with_empty_body_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    response = await patch(client, alice, task["id"], {})
    assert response.status_code == 200
    assert response.json() == task


async def test_patch_completed_sets_and_clears_completed_at(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    done = (await patch(client, alice, task["id"], {"completed": True})).json()
    assert done["completed"] is True
    assert done["completed_at"] is not None
    assert RFC3339_UTC.match(done["completed_at"])

    reopened = (await patch(client, alice, task["id"], {"completed": False})).json()
    assert reopened["completed"] is False
    assert reopened["completed_at"] is None
    assert reopened["version"] == 3


async def test_patch_completed_true_again_keeps_completed_at(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    done = (await patch(client, alice, task["id"], {"completed": True})).json()
    again = (await patch(client, alice, task["id"], {"completed": True})).json()
    assert again == done


@pytest.mark.parametrize("field", ["due_at", "recurrence"])
async def test_patch_null_clears_an_optional_field(
    client: httpx.AsyncClient, alice: SignedInUser, field: str
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T00:00:00Z", recurrence="weekly")
    response = await patch(client, alice, task["id"], {field: None})
    assert response.status_code == 200
    assert response.json()[field] is None
    assert (await fetch(client, alice, task["id"]))[field] is None


async def test_patch_description_null_stores_empty(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, description="something")
    response = await patch(client, alice, task["id"], {"description": None})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == ""


async def test_patch_due_at_with_offset_is_stored_in_utc(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    response = await patch(client, alice, task["id"], {"due_at": "2030-01-01T00:30:00+05:30"})
    assert response.json()["due_at"] == "2029-12-31T19:00:00Z"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"title": None}, ["body", "title"], id="title-null"),
        pytest.param({"title": "   "}, ["body", "title"], id="title-blank"),
        pytest.param({"title": "t" * 201}, ["body", "title"], id="title-201"),
        pytest.param({"priority": None}, ["body", "priority"], id="priority-null"),
        pytest.param({"priority": "asap"}, ["body", "priority"], id="priority-bad"),
        pytest.param({"completed": None}, ["body", "completed"], id="completed-null"),
        pytest.param({"completed": "yes"}, ["body", "completed"], id="completed-yes"),
        pytest.param({"due_at": "2030-01-01T00:00:00"}, ["body", "due_at"], id="due-at-naive"),
        pytest.param({"recurrence": "hourly"}, ["body", "recurrence"], id="recurrence-bad"),
        pytest.param({"description": "d" * 10_001}, ["body", "description"], id="description-long"),
        pytest.param({"version": 5}, ["body", "version"], id="server-owned-version"),
        pytest.param({"id": "x"}, ["body", "id"], id="server-owned-id"),
        pytest.param({"completed_at": None}, ["body", "completed_at"], id="server-owned-done-at"),
        pytest.param({"user_id": "x"}, ["body", "user_id"], id="server-owned-user-id"),
        pytest.param({"colour": "red"}, ["body", "colour"], id="unknown-field"),
    ],
)
async def test_invalid_patch_is_422_and_leaves_the_task_unchanged(
    client: httpx.AsyncClient, alice: SignedInUser, body: dict[str, Any], loc: list[str]
) -> None:
    task = await create_task(client, alice, priority="low", due_at="2030-01-01T00:00:00Z")
    assert_problem(await patch(client, alice, task["id"], body), 422, loc=loc)
    assert await fetch(client, alice, task["id"]) == task


@pytest.mark.parametrize("body", [[], 42, "title", None])
async def test_patch_body_of_the_wrong_json_type_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, body: Any
) -> None:
    task = await create_task(client, alice)
    assert_problem(await patch(client, alice, task["id"], body), 422, loc=["body"])
    assert await fetch(client, alice, task["id"]) == task


# --- If-Match ----------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "*", '"9", "1"'])
async def test_patch_with_matching_if_match_succeeds(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    response = await patch(client, alice, task["id"], {"title": "Changed"}, if_match=tag)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Changed"
    assert response.headers["etag"] == '"2"'


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    first = await patch(client, alice, task["id"], {"title": "First writer"}, if_match='"1"')
    assert first.status_code == 200
    second = await patch(client, alice, task["id"], {"title": "Second writer"}, if_match='"1"')
    assert_problem(second, 412)
    stored = await fetch(client, alice, task["id"])
    assert (stored["title"], stored["version"]) == ("First writer", 2)


@pytest.mark.parametrize("tag", ['"2"', 'W/"0"', "1", "garbage", '""'])
async def test_patch_with_non_matching_if_match_is_412(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    assert_problem(await patch(client, alice, task["id"], {"title": "x"}, if_match=tag), 412)
    assert await fetch(client, alice, task["id"]) == task


async def test_patch_without_if_match_is_last_writer_wins(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    await patch(client, alice, task["id"], {"title": "one"})
    response = await patch(client, alice, task["id"], {"title": "two"})
    assert response.status_code == 200
    assert response.json()["version"] == 3


async def test_patch_unknown_task_is_404(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    response = await patch(client, alice, "00000000-0000-4000-8000-000000000000", {"title": "x"})
    assert_problem(response, 404, detail="Task not found")
