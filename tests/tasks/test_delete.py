"""DELETE /api/v1/tasks/{id}."""

from __future__ import annotations

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import fetch, listed_ids, task_url


async def test_delete_is_204_without_body_and_then_get_is_404(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    response = await client.delete(task_url(task["id"]), headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(
        await client.get(task_url(task["id"]), headers=alice.headers), 404, detail="Task not found"
    )


async def test_second_delete_is_404(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    await client.delete(task_url(task["id"]), headers=alice.headers)
    response = await client.delete(task_url(task["id"]), headers=alice.headers)
    assert_problem(response, 404, detail="Task not found")


async def test_delete_removes_only_that_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    keep = await create_task(client, alice, title="keep")
    drop = await create_task(client, alice, title="drop")
    await client.delete(task_url(drop["id"]), headers=alice.headers)
    assert await listed_ids(client, alice) == [keep["id"]]


async def test_deleted_task_cannot_be_changed(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    await client.delete(task_url(task["id"]), headers=alice.headers)
    url = task_url(task["id"])
    for response in (
        await client.patch(url, json={"title": "x"}, headers=alice.headers),
        await client.put(url, json={"title": "x"}, headers=alice.headers),
        await client.post(url + "/complete", headers=alice.headers),
        await client.post(url + "/reopen", headers=alice.headers),
    ):
        assert_problem(response, 404, detail="Task not found")
    assert await listed_ids(client, alice) == []


async def test_delete_with_stale_if_match_is_412_and_keeps_the_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    await client.patch(task_url(task["id"]), json={"title": "v2"}, headers=alice.headers)
    response = await client.delete(
        task_url(task["id"]), headers={**alice.headers, "If-Match": '"1"'}
    )
    assert_problem(response, 412)
    assert (await fetch(client, alice, task["id"]))["title"] == "v2"


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', "*"])
async def test_delete_with_matching_if_match_is_204(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    response = await client.delete(task_url(task["id"]), headers={**alice.headers, "If-Match": tag})
    assert response.status_code == 204


async def test_delete_malformed_id_is_422(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    response = await client.delete(task_url("nope"), headers=alice.headers)
    assert_problem(response, 422, loc=["path", "task_id"])
