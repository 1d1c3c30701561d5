"""Completing a recurring task: the next occurrence carries the same tags."""

from __future__ import annotations

import httpx

from tests.factories import SignedInUser, create_task
from tests.search.helpers import get_task, listed_ids, patch_task, tag_counts, task_url


async def complete(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> httpx.Response:
    response = await client.post(task_url(task_id) + "/complete", headers=user.headers)
    assert response.status_code == 200, response.text
    return response


async def test_next_occurrence_copies_the_tags(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client,
        alice,
        title="Water plants",
        recurrence="weekly",
        due_at="2030-01-01T09:00:00Z",
        tags=["home", "Garden"],
    )
    body = (await complete(client, alice, task["id"])).json()
    successor = body["next"]
    assert successor is not None
    assert successor["id"] != task["id"]
    assert successor["tags"] == ["Garden", "home"]
    assert (await get_task(client, alice, successor["id"]))["tags"] == ["Garden", "home"]
    assert (await get_task(client, alice, task["id"]))["tags"] == ["Garden", "home"]
    assert await tag_counts(client, alice) == [("Garden", 2), ("home", 2)]
    assert await listed_ids(client, alice, tag="garden", status="pending") == [successor["id"]]


async def test_next_occurrence_copies_the_tags_as_they_are_at_completion(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client, alice, recurrence="daily", due_at="2030-01-01T09:00:00Z", tags=["old"]
    )
    await patch_task(client, alice, task["id"], tags=["new", "Other"])
    successor = (await complete(client, alice, task["id"])).json()["next"]
    assert successor["tags"] == ["new", "Other"]
    assert (await get_task(client, alice, successor["id"]))["tags"] == ["new", "Other"]


async def test_untagged_recurring_task_yields_an_untagged_occurrence(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, recurrence="monthly", due_at="2030-01-31T09:00:00Z")
    successor = (await complete(client, alice, task["id"])).json()["next"]
    assert successor["tags"] == []
    assert await tag_counts(client, alice) == []


async def test_the_copy_is_independent_of_the_original(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client, alice, recurrence="daily", due_at="2030-01-01T09:00:00Z", tags=["a", "b"]
    )
    successor = (await complete(client, alice, task["id"])).json()["next"]
    await patch_task(client, alice, successor["id"], tags=["c"])
    assert (await get_task(client, alice, task["id"]))["tags"] == ["a", "b"]
    assert await tag_counts(client, alice) == [("a", 1), ("b", 1), ("c", 1)]
