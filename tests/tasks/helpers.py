"""Small helpers for the task tests: reading lists, checking the task shape."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import SignedInUser

TASKS = "/api/v1/tasks"
TASK_FIELDS = {
    "id",
    "title",
    "description",
    "completed",
    "completed_at",
    "priority",
    "due_at",
    "recurrence",
    "created_at",
    "updated_at",
    "version",
}
# Tags are being added by another change; until then they may be absent, never wrong.
LATER_FIELDS = {"tags"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def assert_task_shape(task: dict[str, Any]) -> None:
    """Exactly the task fields: nothing internal (``user_id``, ``next_task_id``) leaks."""
    assert TASK_FIELDS <= set(task) <= TASK_FIELDS | LATER_FIELDS, sorted(task)


def task_url(task_id: str) -> str:
    return f"{TASKS}/{task_id}"


async def list_page(client: httpx.AsyncClient, user: SignedInUser, **params: Any) -> dict[str, Any]:
    response = await client.get(TASKS, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "next_cursor"}
    return page


async def listed_ids(client: httpx.AsyncClient, user: SignedInUser, **params: Any) -> list[str]:
    """Ids of one page of up to 100 tasks, in the order the API returned them."""
    page = await list_page(client, user, limit=100, **params)
    assert page["next_cursor"] is None
    return [item["id"] for item in page["items"]]


async def walk_pages(
    client: httpx.AsyncClient, user: SignedInUser, *, limit: int, **params: Any
) -> list[str]:
    """Every id, following ``next_cursor`` until it is null."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        query = {**params, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        page = await list_page(client, user, **query)
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination never ended")


async def assert_no_tasks(client: httpx.AsyncClient, user: SignedInUser) -> None:
    assert await listed_ids(client, user) == []


async def fetch(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> dict[str, Any]:
    response = await client.get(task_url(task_id), headers=user.headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task
