"""GET /api/v1/tasks/{id}."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import assert_task_shape, task_url


async def test_get_returns_the_task_and_its_etag(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, title="Read me", priority="low")
    response = await client.get(task_url(task["id"]), headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == task
    assert_task_shape(response.json())
    assert response.headers["etag"] == '"1"'


async def test_etag_follows_the_version(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    await client.patch(task_url(task["id"]), json={"title": "v2"}, headers=alice.headers)
    await client.patch(task_url(task["id"]), json={"title": "v3"}, headers=alice.headers)
    response = await client.get(task_url(task["id"]), headers=alice.headers)
    assert response.json()["version"] == 3
    assert response.headers["etag"] == '"3"'


@pytest.mark.parametrize("tag", ['"1"', 'W/"1"', '"7", "1"', "*"])
async def test_if_none_match_with_the_current_etag_is_304_without_body(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    response = await client.get(
        task_url(task["id"]), headers={**alice.headers, "If-None-Match": tag}
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("tag", ['"0"', 'W/"2"', '"11"', "1", "garbage"])
async def test_if_none_match_with_another_etag_is_200(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    task = await create_task(client, alice)
    response = await client.get(
        task_url(task["id"]), headers={**alice.headers, "If-None-Match": tag}
    )
    assert response.status_code == 200
    assert response.json() == task


async def test_if_none_match_with_a_stale_etag_after_an_update_is_200(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice)
    await client.patch(task_url(task["id"]), json={"title": "Changed"}, headers=alice.headers)
    response = await client.get(
        task_url(task["id"]), headers={**alice.headers, "If-None-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Changed"
    assert response.headers["etag"] == '"2"'


async def test_unknown_id_is_404_task_not_found(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    response = await client.get(task_url(str(uuid.uuid4())), headers=alice.headers)
    assert_problem(response, 404, detail="Task not found")


async def test_deleted_task_is_404(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    await client.delete(task_url(task["id"]), headers=alice.headers)
    response = await client.get(task_url(task["id"]), headers=alice.headers)
    assert_problem(response, 404, detail="Task not found")


@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%00", "' OR 1=1 --"]
)
async def test_malformed_id_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, bad_id: str
) -> None:
    response = await client.get(task_url(bad_id), headers=alice.headers)
    assert_problem(response, 422, loc=["path", "task_id"])
