"""GET /api/v1/tags: the caller's tags with their task counts."""

from __future__ import annotations

import httpx

from tests.factories import SignedInUser, create_task
from tests.search.helpers import TAGS, assert_problem, patch_task, tag_counts, task_url


async def test_no_tags_is_an_empty_list(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    assert await tag_counts(client, alice) == []


async def test_tags_are_listed_with_task_counts(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["home", "urgent"])
    await create_task(client, alice, tags=["home"])
    await create_task(client, alice, tags=["HOME", "work"])
    await create_task(client, alice)
    assert await tag_counts(client, alice) == [("home", 3), ("urgent", 1), ("work", 1)]


async def test_tags_are_sorted_by_name_ignoring_case(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["banana", "Cherry", "apple", "Date"])
    names = [name for name, _ in await tag_counts(client, alice)]
    assert names == ["apple", "banana", "Cherry", "Date"]


async def test_a_tag_no_task_carries_any_more_is_listed_with_zero(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await create_task(client, alice, tags=["cleared", "deleted"])
    second = await create_task(client, alice, tags=["deleted"])
    await patch_task(client, alice, first["id"], tags=[])
    response = await client.delete(task_url(second["id"]), headers=alice.headers)
    assert response.status_code == 204
    assert await tag_counts(client, alice) == [("cleared", 0), ("deleted", 0)]


async def test_counts_follow_tag_changes_on_tasks(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["a", "b"])
    await create_task(client, alice, tags=["b"])
    await patch_task(client, alice, task["id"], tags=["c"])
    assert await tag_counts(client, alice) == [("a", 0), ("b", 1), ("c", 1)]


async def test_tags_list_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get(TAGS)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
