"""GET /api/v1/tasks?sort=: every key, both directions, ties by id, no due date last."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import SignedInUser, create_task
from tests.search.helpers import ALL_SORTS, expected_order, ids_of, listed_ids, patch_task

# Ties on every key, tasks without a due date, every priority.
SEED: list[dict[str, Any]] = [
    {"title": "banana", "priority": "none", "due_at": "2030-01-02T00:00:00Z"},
    {"title": "apple", "priority": "urgent"},
    {"title": "cherry", "priority": "low", "due_at": "2030-01-01T00:00:00Z"},
    {"title": "apple", "priority": "high", "due_at": "2030-01-02T00:00:00Z"},
    {"title": "banana", "priority": "urgent"},
    {"title": "date", "priority": "medium", "due_at": "2029-12-31T00:00:00Z"},
    {"title": "apple", "priority": "none"},
    {"title": "elder", "priority": "low", "due_at": "2030-01-02T00:00:00Z"},
]


async def seed(client: httpx.AsyncClient, user: SignedInUser) -> list[dict[str, Any]]:
    tasks = [await create_task(client, user, **fields) for fields in SEED]
    # Touch older tasks so that updated_at order differs from created_at order.
    for index in (2, 0):
        tasks[index] = await patch_task(client, user, tasks[index]["id"], description="touched")
    return tasks


@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_sort_orders_by_key_then_id_in_the_same_direction(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    tasks = await seed(client, alice)
    assert await listed_ids(client, alice, sort=sort) == expected_order(tasks, sort)


@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_paged_sort_equals_unpaged_sort(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    tasks = await seed(client, alice)
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = await client.get("/api/v1/tasks", params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        ids += ids_of(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert ids == expected_order(tasks, sort)


async def test_priority_sorts_by_rank_not_alphabetically(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    by_priority = {
        p: await create_task(client, alice, priority=p)
        for p in ("medium", "urgent", "none", "high", "low")
    }
    ranked = [by_priority[p]["id"] for p in ("none", "low", "medium", "high", "urgent")]
    assert await listed_ids(client, alice, sort="priority") == ranked
    assert await listed_ids(client, alice, sort="-priority") == ranked[::-1]


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
async def test_tasks_without_due_date_sort_last_in_both_directions(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    undated = [await create_task(client, alice, title=f"undated {n}") for n in range(3)]
    dated = [
        await create_task(client, alice, due_at=due)
        for due in ("2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z", "2029-01-01T00:00:00Z")
    ]
    listed = await listed_ids(client, alice, sort=sort)
    assert set(listed[:3]) == set(ids_of(dated))
    assert set(listed[3:]) == set(ids_of(undated))
    assert listed == expected_order(undated + dated, sort)


@pytest.mark.parametrize("sort", ["title", "-title"])
async def test_ties_are_broken_by_id_in_the_sort_direction(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    tasks = [await create_task(client, alice, title="same") for _ in range(5)]
    by_id = sorted(ids_of(tasks), reverse=sort.startswith("-"))
    assert await listed_ids(client, alice, sort=sort) == by_id


async def test_default_sort_is_newest_first(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    tasks = [await create_task(client, alice, title=f"t{n}") for n in range(4)]
    assert await listed_ids(client, alice) == expected_order(tasks, "-created_at")
    assert await listed_ids(client, alice) == await listed_ids(client, alice, sort="-created_at")


async def test_updated_at_sort_follows_edits(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await create_task(client, alice, title="first")
    second = await create_task(client, alice, title="second")
    await patch_task(client, alice, first["id"], tags=["touched"])
    assert await listed_ids(client, alice, sort="-updated_at") == [first["id"], second["id"]]


async def test_sort_combines_with_filters(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    tasks = await seed(client, alice)
    wanted = [task for task in tasks if task["priority"] in {"urgent", "none"}]
    listed = await listed_ids(
        client, alice, [("priority", "urgent"), ("priority", "none")], sort="-title"
    )
    assert listed == expected_order(wanted, "-title")
