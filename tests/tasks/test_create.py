"""POST /api/v1/tasks."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import RFC3339_UTC, TASKS, assert_task_shape, fetch, listed_ids


async def test_create_returns_201_with_exactly_the_task_fields(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    response = await client.post(TASKS, json={"title": "Buy milk"}, headers=alice.headers)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    task = response.json()
    assert_task_shape(task)
    assert str(uuid.UUID(task["id"])) == task["id"]


async def test_create_sends_location_of_the_new_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    response = await client.post(TASKS, json={"title": "Buy milk"}, headers=alice.headers)
    task_id = response.json()["id"]
    assert response.headers["location"] == f"/api/v1/tasks/{task_id}"
    followed = await client.get(response.headers["location"], headers=alice.headers)
    assert followed.status_code == 200
    assert followed.json() == response.json()


async def test_create_sends_etag_of_version_1(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    response = await client.post(TASKS, json={"title": "Buy milk"}, headers=alice.headers)
    assert response.headers["etag"] == '"1"'
    assert response.json()["version"] == 1


async def test_create_applies_defaults(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="Defaults")
    assert task["description"] == ""
    assert task["completed"] is False
    assert task["completed_at"] is None
    assert task["priority"] == "none"
    assert task["due_at"] is None
    assert task["recurrence"] is None
    assert task["version"] == 1


async def test_create_stores_every_given_field(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(
        client,
        alice,
        title="All fields",
        description="Some details",
        priority="high",
        due_at="2030-05-01T08:00:00Z",
        recurrence="weekly",
    )
    stored = await fetch(client, alice, task["id"])
    assert stored == task
    assert (stored["description"], stored["priority"]) == ("Some details", "high")
    assert (stored["due_at"], stored["recurrence"]) == ("2030-05-01T08:00:00Z", "weekly")


async def test_create_trims_the_title(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, title="  \t Buy milk \n ")
    assert task["title"] == "Buy milk"
    assert (await fetch(client, alice, task["id"]))["title"] == "Buy milk"


async def test_create_completed_sets_completed_at(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, completed=True)
    assert task["completed"] is True
    assert task["completed_at"] is not None
    assert RFC3339_UTC.match(task["completed_at"])
    assert (await fetch(client, alice, task["id"]))["completed_at"] == task["completed_at"]


async def test_create_converts_due_at_with_offset_to_utc(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-05-01T10:00:00+02:00")
    assert task["due_at"] == "2030-05-01T08:00:00Z"
    assert (await fetch(client, alice, task["id"]))["due_at"] == "2030-05-01T08:00:00Z"


async def test_create_keeps_microseconds_of_due_at(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-05-01T10:00:00.123456-03:30")
    assert task["due_at"] == "2030-05-01T13:30:00.123456Z"
    assert (await fetch(client, alice, task["id"]))["due_at"] == "2030-05-01T13:30:00.123456Z"


async def test_create_timestamps_are_rfc3339_utc(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    before = datetime.now().astimezone()
    task = await create_task(client, alice)
    after = datetime.now().astimezone()
    stored = await fetch(client, alice, task["id"])
    for body in (task, stored):
        for name in ("created_at", "updated_at"):
            assert RFC3339_UTC.match(body[name]), body[name]
    created = datetime.fromisoformat(task["created_at"])
    assert before <= created <= after
    assert task["created_at"] == task["updated_at"]
    assert stored["created_at"] == task["created_at"]


async def test_create_accepts_unicode_and_emoji_intact(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    title = "📝 Ünïcødé 日本語 עברית e\u0301 👩‍👩‍👧 \U0001f9ea"
    description = "Ω≈ç√∫ — “quotes” ‘single’ 𝕳𝖊𝖑𝖑𝖔 \u200b zero-width"
    task = await create_task(client, alice, title=title, description=description)
    assert task["title"] == title
    stored = await fetch(client, alice, task["id"])
    assert (stored["title"], stored["description"]) == (title, description)


async def test_create_counts_title_length_in_characters_not_bytes(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    title = "🦄" * 200  # 800 bytes in UTF-8, 200 characters
    task = await create_task(client, alice, title=title)
    assert (await fetch(client, alice, task["id"]))["title"] == title


async def test_create_makes_one_task_per_request(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await create_task(client, alice, title="Same")
    second = await create_task(client, alice, title="Same")
    assert first["id"] != second["id"]
    assert sorted(await listed_ids(client, alice)) == sorted([first["id"], second["id"]])
