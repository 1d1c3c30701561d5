"""POST /api/v1/tasks with Idempotency-Key: a retry returns the first result."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import SignedInUser
from tests.search.helpers import TASKS, assert_problem, listed_ids, tag_counts

BODY: dict[str, Any] = {"title": "Pay rent", "priority": "high", "tags": ["Home", "money"]}


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


async def post(
    client: httpx.AsyncClient, user: SignedInUser, body: dict[str, Any], key: str | None
) -> httpx.Response:
    headers = dict(user.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(TASKS, json=body, headers=headers)


async def test_retry_with_same_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    key = new_key()
    first = await post(client, alice, BODY, key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers

    retry = await post(client, alice, BODY, key)
    assert retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]

    assert await listed_ids(client, alice) == [first.json()["id"]]
    assert await tag_counts(client, alice) == [("Home", 1), ("money", 1)]


async def test_many_retries_still_create_one_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    key = new_key()
    responses = [await post(client, alice, BODY, key) for _ in range(4)]
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert len(await listed_ids(client, alice)) == 1


async def test_replay_returns_the_first_result_even_after_the_task_changed(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    key = new_key()
    first = await post(client, alice, BODY, key)
    task_id = first.json()["id"]
    response = await client.patch(
        f"{TASKS}/{task_id}", json={"title": "changed"}, headers=alice.headers
    )
    assert response.status_code == 200
    retry = await post(client, alice, BODY, key)
    assert retry.status_code == 201
    assert retry.json() == first.json()


@pytest.mark.parametrize(
    "other_body",
    [
        pytest.param({**BODY, "title": "Pay the rent"}, id="other-title"),
        pytest.param({**BODY, "tags": ["home"]}, id="other-tags"),
        pytest.param({"title": "Pay rent"}, id="fields-left-out"),
    ],
)
async def test_same_key_with_a_different_body_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, other_body: dict[str, Any]
) -> None:
    key = new_key()
    first = await post(client, alice, BODY, key)
    assert first.status_code == 201
    response = await post(client, alice, other_body, key)
    assert_problem(response, 422)
    assert "Idempotent-Replayed" not in response.headers
    assert await listed_ids(client, alice) == [first.json()["id"]]


async def test_a_rejected_body_does_not_use_up_the_key(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    key = new_key()
    invalid = await post(client, alice, {"title": ""}, key)
    assert_problem(invalid, 422)
    valid = await post(client, alice, BODY, key)
    assert valid.status_code == 201, valid.text
    assert "Idempotent-Replayed" not in valid.headers


async def test_different_keys_create_different_tasks(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await post(client, alice, BODY, new_key())
    second = await post(client, alice, BODY, new_key())
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert len(await listed_ids(client, alice)) == 2


async def test_without_a_key_every_post_creates_a_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    for _ in range(2):
        response = await post(client, alice, BODY, None)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    assert len(await listed_ids(client, alice)) == 2


async def test_same_key_from_another_user_is_a_new_request(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    key = new_key()
    alices = await post(client, alice, BODY, key)
    bobs = await post(client, bob, BODY, key)
    assert alices.status_code == bobs.status_code == 201
    assert "Idempotent-Replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert await listed_ids(client, alice) == [alices.json()["id"]]
    assert await listed_ids(client, bob) == [bobs.json()["id"]]


async def test_keys_are_scoped_per_user_so_another_body_is_not_a_conflict(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    key = new_key()
    assert (await post(client, alice, BODY, key)).status_code == 201
    bobs = await post(client, bob, {"title": "Something else"}, key)
    assert bobs.status_code == 201, bobs.text
    assert bobs.json()["title"] == "Something else"
    # And each user's retry still replays their own first result.
    replay = await post(client, bob, {"title": "Something else"}, key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["id"] == bobs.json()["id"]


@pytest.mark.parametrize(
    "key", [b"", b"a" * 256, b"has space", b"tab\there", "é".encode()], ids=repr
)
async def test_malformed_key_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, key: bytes
) -> None:
    headers = [(name.encode(), value.encode()) for name, value in alice.headers.items()]
    headers.append((b"Idempotency-Key", key))
    response = await client.post(TASKS, json=BODY, headers=headers)
    assert_problem(response, 422, param="idempotency-key")
    assert await listed_ids(client, alice) == []


@pytest.mark.postgres_only
async def test_concurrent_requests_with_one_key_create_one_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    key = new_key()
    responses = await asyncio.gather(*(post(client, alice, BODY, key) for _ in range(10)))
    statuses = [response.status_code for response in responses]
    assert all(status < 500 for status in statuses), statuses
    assert set(statuses) <= {201, 409}, statuses
    created = [response for response in responses if response.status_code == 201]
    assert created, statuses
    assert len({response.json()["id"] for response in created}) == 1
    replayed = [r for r in created if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == len(created) - 1
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    assert await listed_ids(client, alice) == [created[0].json()["id"]]
