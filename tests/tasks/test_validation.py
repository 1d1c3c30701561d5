"""What POST /api/v1/tasks refuses (422, nothing stored) and the edges it accepts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import TASKS, assert_no_tasks, fetch

JSON = {"content-type": "application/json"}


async def post_raw(client: httpx.AsyncClient, user: SignedInUser, body: bytes) -> httpx.Response:
    return await client.post(TASKS, content=body, headers={**user.headers, **JSON})


# --- accepted edges -------------------------------------------------------------------


async def test_title_of_200_characters_after_trimming_is_accepted(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    title = "t" * 200
    task = await create_task(client, alice, title=f"   {title}   ")
    assert task["title"] == title


async def test_description_of_10000_characters_is_accepted(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    description = "d" * 10_000
    task = await create_task(client, alice, description=description)
    assert (await fetch(client, alice, task["id"]))["description"] == description


async def test_description_null_is_stored_as_empty(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, description=None)
    assert task["description"] == ""


# --- refused bodies: 422 naming the field, and nothing created ---------------------------

SERVER_OWNED = ["id", "user_id", "owner", "version", "created_at", "updated_at", "completed_at"]
SERVER_OWNED_VALUES: dict[str, Any] = {
    "id": "00000000-0000-4000-8000-000000000000",
    "user_id": "00000000-0000-4000-8000-000000000001",
    "owner": "someone-else",
    "version": 7,
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "completed_at": "2020-01-01T00:00:00Z",
}

INVALID_BODIES: list[Any] = [
    pytest.param({"title": "t" * 201}, ["body", "title"], id="title-201-chars"),
    pytest.param({"title": "   \t\n  "}, ["body", "title"], id="title-whitespace-only"),
    pytest.param({"title": ""}, ["body", "title"], id="title-empty"),
    pytest.param({"description": "x"}, ["body", "title"], id="title-missing"),
    pytest.param({"title": None}, ["body", "title"], id="title-null"),
    pytest.param({"title": "a\x00b"}, ["body", "title"], id="title-with-nul"),
    pytest.param({"title": 10**30}, ["body", "title"], id="title-huge-integer"),
    pytest.param({"title": ["a"]}, ["body", "title"], id="title-list"),
    pytest.param({"title": {"a": 1}}, ["body", "title"], id="title-object"),
    pytest.param({"title": True}, ["body", "title"], id="title-bool"),
    pytest.param(
        {"title": "ok", "description": "d" * 10_001},
        ["body", "description"],
        id="description-10001",
    ),
    pytest.param(
        {"title": "ok", "description": "a\x00b"}, ["body", "description"], id="description-with-nul"
    ),
    pytest.param({"title": "ok", "colour": "red"}, ["body", "colour"], id="unknown-field"),
    *[
        pytest.param(
            {"title": "ok", name: SERVER_OWNED_VALUES[name]},
            ["body", name],
            id=f"server-owned-{name}",
        )
        for name in SERVER_OWNED
    ],
    pytest.param({"title": "ok", "priority": "critical"}, ["body", "priority"], id="bad-priority"),
    pytest.param(
        {"title": "ok", "priority": "HIGH"}, ["body", "priority"], id="priority-uppercase"
    ),
    pytest.param({"title": "ok", "priority": 3}, ["body", "priority"], id="priority-number"),
    pytest.param({"title": "ok", "priority": 10**30}, ["body", "priority"], id="priority-huge"),
    pytest.param(
        {"title": "ok", "recurrence": "hourly"}, ["body", "recurrence"], id="bad-recurrence"
    ),
    pytest.param({"title": "ok", "completed": "yes"}, ["body", "completed"], id="completed-yes"),
    pytest.param({"title": "ok", "completed": 1}, ["body", "completed"], id="completed-1"),
    pytest.param({"title": "ok", "completed": "true"}, ["body", "completed"], id="completed-str"),
    pytest.param({"title": "ok", "completed": None}, ["body", "completed"], id="completed-null"),
    pytest.param(
        {"title": "ok", "due_at": "2030-01-01T10:00:00"}, ["body", "due_at"], id="due-at-naive"
    ),
    pytest.param(
        {"title": "ok", "due_at": "2030-01-01"}, ["body", "due_at"], id="due-at-date-only"
    ),
    pytest.param({"title": "ok", "due_at": "tomorrow"}, ["body", "due_at"], id="due-at-garbage"),
    pytest.param(
        {"title": "ok", "due_at": "2030-02-30T10:00:00Z"}, ["body", "due_at"], id="due-at-feb-30"
    ),
    pytest.param(
        {"title": "ok", "due_at": "9999-12-31T23:59:59-05:00"},
        ["body", "due_at"],
        id="due-at-overflows-utc",
    ),
    pytest.param(
        {"title": "ok", "due_at": "0001-01-01T00:00:00+05:00"},
        ["body", "due_at"],
        id="due-at-underflows-utc",
    ),
]


@pytest.mark.parametrize(("body", "loc"), INVALID_BODIES)
async def test_invalid_body_is_422_naming_the_field_and_creates_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, body: dict[str, Any], loc: list[str]
) -> None:
    response = await client.post(TASKS, json=body, headers=alice.headers)
    assert_problem(response, 422, loc=loc)
    await assert_no_tasks(client, alice)


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        pytest.param(b'{"title": 1e400}', ["body", "title"], id="title-1e400"),
        pytest.param(
            b'{"title": "ok", "priority": 1e400}', ["body", "priority"], id="priority-1e400"
        ),
        pytest.param(b'{"title": NaN}', ["body", "title"], id="title-nan"),
        pytest.param(b'{"title": -Infinity}', ["body", "title"], id="title-infinity"),
        pytest.param(b'{"title": "\\ud800"}', ["body", "title"], id="title-lone-surrogate"),
    ],
)
async def test_non_finite_or_unencodable_values_are_422(
    client: httpx.AsyncClient, alice: SignedInUser, raw: bytes, loc: list[str]
) -> None:
    assert_problem(await post_raw(client, alice, raw), 422, loc=loc)
    await assert_no_tasks(client, alice)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'[{"title": "in a list"}]', id="list"),
        pytest.param(b"42", id="number"),
        pytest.param(b'"just a string"', id="string"),
        pytest.param(b"true", id="bool"),
        pytest.param(b"null", id="null"),
        pytest.param(b"{}", id="empty-object"),
    ],
)
async def test_body_of_the_wrong_json_type_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, raw: bytes
) -> None:
    assert_problem(await post_raw(client, alice, raw), 422, loc=["body"])
    await assert_no_tasks(client, alice)


async def test_missing_body_is_422(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    response = await client.post(TASKS, headers=alice.headers)
    assert_problem(response, 422, loc=["body"])
    await assert_no_tasks(client, alice)


async def test_validation_error_does_not_echo_the_input(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    secret = "s3cr3t-value-that-must-not-come-back"
    response = await client.post(
        TASKS, json={"title": "ok", "priority": secret, "colour": secret}, headers=alice.headers
    )
    assert_problem(response, 422)
    assert secret not in response.text


async def test_every_invalid_field_is_reported(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    response = await client.post(
        TASKS, json={"title": "", "priority": "bad", "completed": "yes"}, headers=alice.headers
    )
    body = assert_problem(response, 422)
    locations = {tuple(issue["loc"]) for issue in body["errors"]}
    assert {("body", "title"), ("body", "priority"), ("body", "completed")} <= locations
