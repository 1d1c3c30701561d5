"""POST /api/v1/tasks/{id}/complete and /reopen, and recurring tasks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import (
    RFC3339_UTC,
    TASK_FIELDS,
    assert_task_shape,
    fetch,
    listed_ids,
    task_url,
)


async def complete(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> httpx.Response:
    return await client.post(task_url(task_id) + "/complete", headers=user.headers)


async def reopen(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> httpx.Response:
    return await client.post(task_url(task_id) + "/reopen", headers=user.headers)


async def completed(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> dict[str, Any]:
    response = await complete(client, user, task_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- complete ----------------------------------------------------------------------------


async def test_complete_marks_the_task_done(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    response = await complete(client, alice, task["id"])
    assert response.status_code == 200
    done = response.json()
    assert set(done) - {"next"} >= TASK_FIELDS
    assert done["completed"] is True
    assert RFC3339_UTC.match(done["completed_at"])
    assert done["version"] == 2
    assert response.headers["etag"] == '"2"'
    stored = await fetch(client, alice, task["id"])
    assert (stored["completed"], stored["completed_at"]) == (True, done["completed_at"])


async def test_complete_is_idempotent(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    first = await complete(client, alice, task["id"])
    second = await complete(client, alice, task["id"])
    assert second.status_code == 200
    assert second.json()["version"] == first.json()["version"]
    assert second.json()["completed_at"] == first.json()["completed_at"]
    assert second.json()["updated_at"] == first.json()["updated_at"]
    assert second.headers["etag"] == first.headers["etag"]


async def test_complete_a_task_created_completed_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, completed=True)
    done = await completed(client, alice, task["id"])
    assert (done["version"], done["completed_at"]) == (1, task["completed_at"])


async def test_non_recurring_task_has_null_next(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T00:00:00Z")
    assert (await completed(client, alice, task["id"]))["next"] is None
    assert await listed_ids(client, alice) == [task["id"]]


async def test_recurring_task_without_due_at_has_null_next(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, recurrence="daily")
    assert (await completed(client, alice, task["id"]))["next"] is None
    assert await listed_ids(client, alice) == [task["id"]]


# --- reopen ------------------------------------------------------------------------------


async def test_reopen_clears_completion(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    await complete(client, alice, task["id"])
    response = await reopen(client, alice, task["id"])
    assert response.status_code == 200
    reopened = response.json()
    assert_task_shape(reopened)
    assert (reopened["completed"], reopened["completed_at"]) == (False, None)
    assert reopened["version"] == 3
    assert response.headers["etag"] == '"3"'
    assert await fetch(client, alice, task["id"]) == reopened


async def test_reopen_is_idempotent(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    await complete(client, alice, task["id"])
    first = (await reopen(client, alice, task["id"])).json()
    second = (await reopen(client, alice, task["id"])).json()
    assert second == first


async def test_reopen_a_pending_task_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    response = await reopen(client, alice, task["id"])
    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("action", ["complete", "reopen"])
async def test_unknown_task_is_404(
    client: httpx.AsyncClient, alice: SignedInUser, action: str
) -> None:
    response = await client.post(
        task_url("00000000-0000-4000-8000-000000000000") + f"/{action}", headers=alice.headers
    )
    assert_problem(response, 404, detail="Task not found")


# --- recurrence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recurrence", "due_at", "next_due_at"),
    [
        pytest.param("daily", "2030-01-31T09:00:00Z", "2030-02-01T09:00:00Z", id="daily"),
        pytest.param("daily", "2030-12-31T23:30:00Z", "2031-01-01T23:30:00Z", id="daily-new-year"),
        pytest.param("weekly", "2030-01-28T09:00:00Z", "2030-02-04T09:00:00Z", id="weekly"),
        pytest.param("monthly", "2030-01-15T09:00:00Z", "2030-02-15T09:00:00Z", id="monthly"),
        pytest.param(
            "monthly", "2027-01-31T09:00:00Z", "2027-02-28T09:00:00Z", id="monthly-jan31-to-feb28"
        ),
        pytest.param(
            "monthly", "2028-01-31T09:00:00Z", "2028-02-29T09:00:00Z", id="monthly-jan31-leap-feb29"
        ),
        pytest.param(
            "monthly", "2030-03-31T09:00:00Z", "2030-04-30T09:00:00Z", id="monthly-mar31-to-apr30"
        ),
        pytest.param(
            "monthly", "2030-12-15T09:00:00Z", "2031-01-15T09:00:00Z", id="monthly-dec-to-jan"
        ),
        pytest.param("yearly", "2030-06-15T09:00:00Z", "2031-06-15T09:00:00Z", id="yearly"),
        pytest.param(
            "yearly", "2028-02-29T09:00:00Z", "2029-02-28T09:00:00Z", id="yearly-feb29-to-feb28"
        ),
        pytest.param(
            "daily", "2030-01-01T09:00:00.250000Z", "2030-01-02T09:00:00.250000Z", id="microseconds"
        ),
    ],
)
async def test_completing_a_recurring_task_creates_the_next_occurrence(
    client: httpx.AsyncClient,
    alice: SignedInUser,
    recurrence: str,
    due_at: str,
    next_due_at: str,
) -> None:
    task = await create_task(
        client,
        alice,
        title="Water plants",
        description="all of them",
        priority="high",
        due_at=due_at,
        recurrence=recurrence,
    )
    done = await completed(client, alice, task["id"])
    assert done["completed"] is True
    successor = done["next"]
    assert successor is not None
    assert_task_shape(successor)
    assert successor["due_at"] == next_due_at
    assert successor["id"] != task["id"]
    assert (successor["title"], successor["description"]) == ("Water plants", "all of them")
    assert (successor["priority"], successor["recurrence"]) == ("high", recurrence)
    assert (successor["completed"], successor["completed_at"]) == (False, None)
    assert successor["version"] == 1
    assert await fetch(client, alice, successor["id"]) == successor


async def test_completing_the_next_occurrence_continues_the_series(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2027-01-31T09:00:00Z", recurrence="monthly")
    february = (await completed(client, alice, task["id"]))["next"]
    march = (await completed(client, alice, february["id"]))["next"]
    # The series follows the clamped date: Feb 28 → Mar 28.
    assert (february["due_at"], march["due_at"]) == (
        "2027-02-28T09:00:00Z",
        "2027-03-28T09:00:00Z",
    )


async def test_completing_twice_creates_one_next_occurrence(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T09:00:00Z", recurrence="daily")
    first = await completed(client, alice, task["id"])
    second = await completed(client, alice, task["id"])
    assert first["next"] is not None
    assert second["next"] is None or second["next"]["id"] == first["next"]["id"]
    assert sorted(await listed_ids(client, alice)) == sorted([task["id"], first["next"]["id"]])


async def test_complete_reopen_complete_creates_one_next_occurrence(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T09:00:00Z", recurrence="weekly")
    first = await completed(client, alice, task["id"])
    assert (await reopen(client, alice, task["id"])).status_code == 200
    again = await completed(client, alice, task["id"])
    assert again["completed"] is True
    assert again["next"] is None or again["next"]["id"] == first["next"]["id"]
    assert sorted(await listed_ids(client, alice)) == sorted([task["id"], first["next"]["id"]])
    assert await listed_ids(client, alice, status="pending") == [first["next"]["id"]]


async def test_reopen_keeps_the_next_occurrence(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T09:00:00Z", recurrence="daily")
    successor = (await completed(client, alice, task["id"]))["next"]
    await reopen(client, alice, task["id"])
    assert await fetch(client, alice, successor["id"]) == successor


async def test_patch_complete_and_reopen_cycles_never_duplicate_the_next_occurrence(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T09:00:00Z", recurrence="daily")
    await client.patch(task_url(task["id"]), json={"completed": True}, headers=alice.headers)
    await reopen(client, alice, task["id"])
    await completed(client, alice, task["id"])
    await reopen(client, alice, task["id"])
    await completed(client, alice, task["id"])
    assert len(await listed_ids(client, alice)) <= 2


async def test_next_occurrence_past_year_9999_is_422_not_500(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="9999-12-31T12:00:00Z", recurrence="daily")
    response = await complete(client, alice, task["id"])
    assert_problem(response, 422, loc=["due_at"])
    assert await fetch(client, alice, task["id"]) == task
    assert await listed_ids(client, alice) == [task["id"]]
