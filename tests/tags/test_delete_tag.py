"""DELETE /api/v1/tags/{name}: the tag goes, from every task of the caller."""

from __future__ import annotations

import httpx

from tests.factories import SignedInUser, create_task
from tests.search.helpers import (
    assert_problem,
    get_task,
    listed_ids,
    tag_counts,
    tag_url,
    task_url,
)


async def test_delete_removes_the_tag_from_every_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await create_task(client, alice, tags=["work", "home"])
    second = await create_task(client, alice, tags=["work"])
    response = await client.delete(tag_url("work"), headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await get_task(client, alice, first["id"]))["tags"] == ["home"]
    assert (await get_task(client, alice, second["id"]))["tags"] == []
    assert await tag_counts(client, alice) == [("home", 1)]
    assert await listed_ids(client, alice, tag="work") == []


async def test_delete_finds_the_tag_ignoring_case(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["Work"])
    response = await client.delete(tag_url("WORK"), headers=alice.headers)
    assert response.status_code == 204
    assert await tag_counts(client, alice) == []


async def test_delete_bumps_the_version_of_tagged_tasks_only(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    tagged = await create_task(client, alice, tags=["work"])
    other = await create_task(client, alice, tags=["home"])
    etag = (await client.get(task_url(tagged["id"]), headers=alice.headers)).headers["ETag"]
    response = await client.delete(tag_url("work"), headers=alice.headers)
    assert response.status_code == 204

    assert (await get_task(client, alice, tagged["id"]))["version"] == tagged["version"] + 1
    assert (await get_task(client, alice, other["id"]))["version"] == other["version"]
    fresh = await client.get(
        task_url(tagged["id"]), headers={**alice.headers, "If-None-Match": etag}
    )
    assert fresh.status_code == 200


async def test_a_deleted_tag_name_can_be_used_again(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["work"])
    assert (await client.delete(tag_url("work"), headers=alice.headers)).status_code == 204
    task = await create_task(client, alice, tags=["Work"])
    assert task["tags"] == ["Work"]
    assert await tag_counts(client, alice) == [("Work", 1)]


async def test_deleting_twice_is_404_the_second_time(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["work"])
    assert (await client.delete(tag_url("work"), headers=alice.headers)).status_code == 204
    assert_problem(await client.delete(tag_url("work"), headers=alice.headers), 404)


async def test_delete_of_an_unknown_tag_is_404(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    assert_problem(await client.delete(tag_url("nope"), headers=alice.headers), 404)


async def test_delete_of_another_users_tag_is_404_and_leaves_it_intact(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["secret"])
    assert_problem(await client.delete(tag_url("secret"), headers=bob.headers), 404)
    assert await tag_counts(client, alice) == [("secret", 1)]
    assert await get_task(client, alice, task["id"]) == task


async def test_delete_needs_authentication(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    await create_task(client, alice, tags=["work"])
    assert_problem(await client.delete(tag_url("work")), 401)
    assert await tag_counts(client, alice) == [("work", 1)]
