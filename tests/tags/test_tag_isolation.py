"""One user's tags are invisible to, and independent of, every other user."""

from __future__ import annotations

import httpx

from tests.factories import SignedInUser, create_task
from tests.search.helpers import get_task, listed_ids, tag_counts, tag_url


async def test_other_users_tags_are_not_listed(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice, tags=["alice-only", "shared"])
    await create_task(client, bob, tags=["bob-only"])
    assert await tag_counts(client, bob) == [("bob-only", 1)]
    assert await tag_counts(client, alice) == [("alice-only", 1), ("shared", 1)]


async def test_same_name_for_another_user_is_their_own_tag(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice, tags=["Work"])
    bobs = await create_task(client, bob, tags=["work"])
    # Not Alice's spelling: Bob's tag is a different tag.
    assert bobs["tags"] == ["work"]
    assert (await get_task(client, bob, bobs["id"]))["tags"] == ["work"]
    assert await tag_counts(client, alice) == [("Work", 1)]
    assert await tag_counts(client, bob) == [("work", 1)]


async def test_tag_filter_never_returns_another_users_tasks(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice, tags=["work"])
    bobs = await create_task(client, bob, tags=["work"])
    assert await listed_ids(client, bob, tag="work") == [bobs["id"]]
    assert await listed_ids(client, bob, tag="WORK", q="task") == [bobs["id"]]


async def test_tag_filter_on_a_name_only_another_user_has_finds_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice, tags=["private"])
    await create_task(client, bob)
    assert await listed_ids(client, bob, tag="private") == []


async def test_search_never_returns_another_users_tasks(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    await create_task(client, alice, title="quarterly report", tags=["work"])
    bobs = await create_task(client, bob, title="quarterly taxes")
    assert await listed_ids(client, bob, q="quarterly") == [bobs["id"]]
    assert await listed_ids(client, bob, q="report") == []


async def test_renaming_a_tag_leaves_the_other_users_same_named_tag_alone(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    alices = await create_task(client, alice, tags=["work"])
    bobs = await create_task(client, bob, tags=["work", "job"])
    response = await client.patch(tag_url("work"), json={"name": "job"}, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert (await get_task(client, bob, bobs["id"]))["tags"] == ["job"]
    assert await get_task(client, alice, alices["id"]) == alices
    assert await tag_counts(client, alice) == [("work", 1)]


async def test_deleting_a_tag_leaves_the_other_users_same_named_tag_alone(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    alices = await create_task(client, alice, tags=["work"])
    await create_task(client, bob, tags=["work"])
    assert (await client.delete(tag_url("work"), headers=bob.headers)).status_code == 204
    assert await tag_counts(client, bob) == []
    assert await get_task(client, alice, alices["id"]) == alices
    assert await tag_counts(client, alice) == [("work", 1)]
