"""The tag filter's first try (tasks/repository.py: _walk_tagged) walks the caller's own
tasks in sort order, and hands over to the join form when the walk comes back short."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from taskapi.tasks import repository
from tests.factories import create_task, signed_in_user

TASKS = "/api/v1/tasks"


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A walk of 5 rows; the number of rows each walk found."""
    found: list[int] = []
    original = repository._walk_tagged

    async def recording(*args: Any, **kwargs: Any) -> Any:
        rows = await original(*args, **kwargs)
        found.append(len(rows))
        return rows

    monkeypatch.setattr(repository, "TAG_WALK_ROWS", 5)
    monkeypatch.setattr(repository, "_walk_tagged", recording)
    return found


async def _titles(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = await client.get(TASKS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [task["title"] for task in response.json()["items"]]


async def test_the_walk_reads_only_the_callers_tasks(
    client: httpx.AsyncClient, walks: list[int]
) -> None:
    alice, bob = await signed_in_user(client), await signed_in_user(client)
    for n in range(3):
        await create_task(client, alice, title=f"a{n}", tags=["x"])
    for n in range(10):  # newer than all of alice's: they must not fill her walk
        await create_task(client, bob, title=f"b{n}", tags=["x"])

    assert await _titles(client, alice.headers, tag="x", limit=2) == ["a2", "a1"]
    assert walks == [3]  # limit + 1 rows found by the walk itself: no hand-over


async def test_a_rare_tag_is_found_past_the_walk(
    client: httpx.AsyncClient, walks: list[int]
) -> None:
    alice = await signed_in_user(client)
    await create_task(client, alice, title="old", tags=["rare"])
    for n in range(8):
        await create_task(client, alice, title=f"new{n}", tags=["common"])

    assert await _titles(client, alice.headers, tag="rare") == ["old"]
    assert walks == [0]  # nothing among the 5 newest: the join form found it
    first = await client.get(TASKS, params={"tag": "common", "limit": 3}, headers=alice.headers)
    cursor = first.json()["next_cursor"]
    rest = await _titles(client, alice.headers, tag="common", limit=10, cursor=cursor)
    assert [t["title"] for t in first.json()["items"]] + rest == [
        f"new{n}" for n in range(7, -1, -1)
    ]
