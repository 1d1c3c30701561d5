"""Helpers shared by the tag and search tests: requests, pages, problem documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from tests.factories import SignedInUser

TASKS = "/api/v1/tasks"
TAGS = "/api/v1/tags"
PROBLEM_MEDIA_TYPE = "application/problem+json"
PRIORITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "urgent": 4}
SORT_FIELDS = ("created_at", "updated_at", "due_at", "priority", "title")
ALL_SORTS = tuple(prefix + field for field in SORT_FIELDS for prefix in ("", "-"))
Params = dict[str, Any] | list[tuple[str, Any]]


def task_url(task_id: str) -> str:
    return f"{TASKS}/{task_id}"


def tag_url(name: str) -> str:
    return f"{TAGS}/{quote(name, safe='')}"


def assert_problem(
    response: httpx.Response, status: int, *, param: str | None = None
) -> dict[str, Any]:
    """A problem+json document with ``status``; with ``param``, an error located there."""
    assert response.status_code == status, response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type == PROBLEM_MEDIA_TYPE, media_type
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if status == 422:
        assert isinstance(body.get("errors"), list), body
        assert body["errors"], body
    if param is not None:
        locations = [issue["loc"] for issue in body["errors"]]
        assert any(param in loc for loc in locations), f"no error at {param}: {locations}"
    for marker in ("Traceback", "sqlalchemy", "SELECT"):
        assert marker not in response.text
    return body


def _query(params: Params | None, extra: dict[str, Any]) -> list[tuple[str, Any]]:
    """Query parameters as pairs, so a parameter may repeat (``tag=a&tag=b``)."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
    return pairs + list(extra.items())


async def list_page(
    client: httpx.AsyncClient, user: SignedInUser, params: Params | None = None, **extra: Any
) -> dict[str, Any]:
    response = await client.get(TASKS, params=_query(params, extra), headers=user.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "next_cursor"}
    return page


async def listed_ids(
    client: httpx.AsyncClient, user: SignedInUser, params: Params | None = None, **extra: Any
) -> list[str]:
    """Ids of every match in one page of up to 100, in the order the API gave them."""
    page = await list_page(client, user, params, limit=100, **extra)
    assert page["next_cursor"] is None
    return [item["id"] for item in page["items"]]


async def walk_pages(
    client: httpx.AsyncClient, user: SignedInUser, params: Params | None, *, limit: int
) -> list[str]:
    """Every id, following ``next_cursor`` until it is null."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(500):
        extra: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            extra["cursor"] = cursor
        page = await list_page(client, user, params, **extra)
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination never ended")


async def get_task(client: httpx.AsyncClient, user: SignedInUser, task_id: str) -> dict[str, Any]:
    response = await client.get(task_url(task_id), headers=user.headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def patch_task(
    client: httpx.AsyncClient, user: SignedInUser, task_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.patch(task_url(task_id), json=fields, headers=user.headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def tag_counts(client: httpx.AsyncClient, user: SignedInUser) -> list[tuple[str, int]]:
    """GET /tags as (name, task_count) pairs, in the order the API gave them."""
    response = await client.get(TAGS, headers=user.headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    for entry in body:
        assert set(entry) == {"name", "task_count"}
    return [(entry["name"], entry["task_count"]) for entry in body]


def ids_of(tasks: Iterable[dict[str, Any]]) -> list[str]:
    return [task["id"] for task in tasks]


def _sort_value(task: dict[str, Any], field: str) -> Any:
    value = task[field]
    if field == "priority":
        return PRIORITY_RANK[value]
    if field in {"created_at", "updated_at", "due_at"}:
        return datetime.fromisoformat(value)
    return value


def expected_order(tasks: Sequence[dict[str, Any]], sort: str) -> list[str]:
    """The contract: by the key, ties by id in the same direction, no due_at last."""
    field, descending = sort.lstrip("-"), sort.startswith("-")
    valued = [task for task in tasks if task[field] is not None]
    missing = [task for task in tasks if task[field] is None]
    valued.sort(key=lambda t: (_sort_value(t, field), uuid.UUID(t["id"])), reverse=descending)
    missing.sort(key=lambda t: uuid.UUID(t["id"]), reverse=descending)
    return ids_of(valued + missing)
