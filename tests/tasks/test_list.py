"""GET /api/v1/tasks: filters, sorts and keyset pagination."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.core.problems import assert_problem
from tests.factories import SignedInUser, create_task
from tests.tasks.helpers import TASKS, list_page, listed_ids, task_url, walk_pages

PRIORITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "urgent": 4}
SORT_KEYS = ["created_at", "updated_at", "due_at", "priority", "title"]
ALL_SORTS = [prefix + key for key in SORT_KEYS for prefix in ("", "-")]

# Ties on every key, tasks without due_at, mixed priorities.
SEED: list[dict[str, Any]] = [
    {"title": "banana", "priority": "none", "due_at": "2030-01-02T00:00:00Z"},
    {"title": "apple", "priority": "urgent"},
    {"title": "cherry", "priority": "low", "due_at": "2030-01-01T00:00:00Z"},
    {"title": "apple", "priority": "high", "due_at": "2030-01-02T00:00:00Z"},
    {"title": "banana", "priority": "urgent"},
    {"title": "date", "priority": "medium", "due_at": "2029-12-31T00:00:00Z"},
    {"title": "apple", "priority": "none"},
]


async def seed(client: httpx.AsyncClient, user: SignedInUser) -> list[dict[str, Any]]:
    tasks = [await create_task(client, user, **fields) for fields in SEED]
    # Touch two older tasks so updated_at order differs from created_at order.
    for index in (2, 0):
        response = await client.patch(
            task_url(tasks[index]["id"]), json={"description": "touched"}, headers=user.headers
        )
        assert response.status_code == 200
        tasks[index] = response.json()
    return tasks


def _sort_value(task: dict[str, Any], field: str) -> Any:
    value = task[field]
    if field == "priority":
        return PRIORITY_RANK[value]
    if field in {"created_at", "updated_at", "due_at"} and value is not None:
        return datetime.fromisoformat(value)
    return value


def expected_order(tasks: list[dict[str, Any]], sort: str) -> list[str]:
    """The contract: by the key, ties by id (in the sort's direction), no due_at last."""
    field, descending = sort.lstrip("-"), sort.startswith("-")
    valued = [task for task in tasks if task[field] is not None]
    missing = [task for task in tasks if task[field] is None]
    valued.sort(key=lambda t: (_sort_value(t, field), uuid.UUID(t["id"])), reverse=descending)
    missing.sort(key=lambda t: uuid.UUID(t["id"]), reverse=descending)
    return [task["id"] for task in valued + missing]


# --- shape and default order ---------------------------------------------------------


async def test_empty_list_is_an_empty_page(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    assert await list_page(client, alice) == {"items": [], "next_cursor": None}


async def test_default_order_is_newest_first(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    created = [await create_task(client, alice, title=f"task {n}") for n in range(4)]
    page = await list_page(client, alice)
    assert [item["id"] for item in page["items"]] == [task["id"] for task in reversed(created)]
    assert page["items"][0] == created[-1]
    assert page["next_cursor"] is None


async def test_default_page_size_is_20(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    for n in range(21):
        await create_task(client, alice, title=f"task {n}")
    page = await list_page(client, alice)
    assert len(page["items"]) == 20
    assert isinstance(page["next_cursor"], str)


# --- status ----------------------------------------------------------------------------


async def test_status_filters_pending_completed_and_all(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    pending = await create_task(client, alice, title="pending")
    done = await create_task(client, alice, title="done", completed=True)
    later_done = await create_task(client, alice, title="later done")
    await client.post(task_url(later_done["id"]) + "/complete", headers=alice.headers)

    assert await listed_ids(client, alice, status="pending") == [pending["id"]]
    assert await listed_ids(client, alice, status="completed") == [later_done["id"], done["id"]]
    everything = [later_done["id"], done["id"], pending["id"]]
    assert await listed_ids(client, alice, status="all") == everything
    assert await listed_ids(client, alice) == everything


# --- limit -----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
async def test_limit_out_of_range_or_not_an_integer_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, limit: str
) -> None:
    response = await client.get(TASKS, params={"limit": limit}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", "limit"])


@pytest.mark.parametrize("limit", [1, 100])
async def test_limit_bounds_are_accepted(
    client: httpx.AsyncClient, alice: SignedInUser, limit: int
) -> None:
    for n in range(2):
        await create_task(client, alice, title=f"task {n}")
    page = await list_page(client, alice, limit=limit)
    assert len(page["items"]) == min(limit, 2)
    assert (page["next_cursor"] is not None) == (limit == 1)


# --- sorting ---------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_sort_orders_by_key_then_id(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    tasks = await seed(client, alice)
    assert await listed_ids(client, alice, sort=sort) == expected_order(tasks, sort)


async def test_sort_by_title_is_alphabetical(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    for title in ("cherry", "apple", "banana"):
        await create_task(client, alice, title=title)
    page = await list_page(client, alice, sort="title")
    assert [item["title"] for item in page["items"]] == ["apple", "banana", "cherry"]
    page = await list_page(client, alice, sort="-title")
    assert [item["title"] for item in page["items"]] == ["cherry", "banana", "apple"]


async def test_sort_by_priority_uses_rank_not_alphabet(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    for priority in ("medium", "none", "urgent", "low", "high"):
        await create_task(client, alice, priority=priority)
    page = await list_page(client, alice, sort="-priority")
    assert [item["priority"] for item in page["items"]] == [
        "urgent",
        "high",
        "medium",
        "low",
        "none",
    ]
    page = await list_page(client, alice, sort="priority")
    assert [item["priority"] for item in page["items"]] == [
        "none",
        "low",
        "medium",
        "high",
        "urgent",
    ]


@pytest.mark.parametrize("sort", ["due_at", "-due_at"])
async def test_tasks_without_due_at_sort_last_in_both_directions(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    await create_task(client, alice, title="undated 1")
    await create_task(client, alice, title="early", due_at="2030-01-01T00:00:00Z")
    await create_task(client, alice, title="undated 2")
    await create_task(client, alice, title="late", due_at="2031-01-01T00:00:00Z")
    page = await list_page(client, alice, sort=sort)
    dates = [item["due_at"] for item in page["items"]]
    assert dates[2:] == [None, None]
    expected = ["2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"]
    assert dates[:2] == (expected if sort == "due_at" else expected[::-1])


async def test_sort_by_updated_at_puts_the_last_changed_first(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    old = await create_task(client, alice, title="old")
    new = await create_task(client, alice, title="new")
    await client.patch(task_url(old["id"]), json={"title": "old, edited"}, headers=alice.headers)
    assert await listed_ids(client, alice, sort="-updated_at") == [old["id"], new["id"]]
    assert await listed_ids(client, alice, sort="-created_at") == [new["id"], old["id"]]


@pytest.mark.parametrize("sort", ["id", "created", "-", "title,priority", "--title", "TITLE"])
async def test_unknown_sort_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    response = await client.get(TASKS, params={"sort": sort}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", "sort"])


# --- pagination --------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ALL_SORTS)
async def test_walking_pages_returns_every_task_once_in_order(
    client: httpx.AsyncClient, alice: SignedInUser, sort: str
) -> None:
    tasks = await seed(client, alice)
    for limit in (1, 2, 3):
        walked = await walk_pages(client, alice, limit=limit, sort=sort)
        assert walked == expected_order(tasks, sort), f"limit={limit}"


async def test_walking_pages_with_a_filter_returns_every_match_once(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    tasks = await seed(client, alice)
    wanted = {task["id"] for task in tasks if task["priority"] in {"none", "urgent"}}
    walked = await walk_pages(client, alice, limit=2, priority=["none", "urgent"], sort="title")
    assert len(walked) == len(wanted)
    assert set(walked) == wanted


async def test_last_page_has_null_cursor(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    for n in range(4):
        await create_task(client, alice, title=f"task {n}")
    first = await list_page(client, alice, limit=2)
    second = await list_page(client, alice, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


async def _a_cursor(client: httpx.AsyncClient, user: SignedInUser, **params: Any) -> str:
    for n in range(3):
        await create_task(client, user, title=f"task {n}")
    cursor = (await list_page(client, user, limit=1, **params))["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def _flip(text: str, index: int) -> str:
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda c: _flip(c, len(c) // 2), id="one-char-changed"),
        pytest.param(lambda c: _flip(c, 0), id="first-char-changed"),
        pytest.param(lambda c: _flip(c, len(c) - 1), id="last-char-changed"),
        pytest.param(lambda c: c[:-4], id="truncated"),
        pytest.param(lambda c: c[: len(c) // 2], id="halved"),
        pytest.param(lambda c: c + "AAAA", id="extended"),
        pytest.param(lambda c: c[::-1], id="reversed"),
        pytest.param(lambda c: c + "!", id="invalid-base64"),
    ],
)
async def test_tampered_cursor_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, mangle: Any
) -> None:
    cursor = await _a_cursor(client, alice)
    response = await client.get(TASKS, params={"cursor": mangle(cursor)}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", "cursor"])


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "A",
        "====",
        "%%%",
        "\u00e9t\u00e9",
        "null",
        base64.urlsafe_b64encode(b'{"u": "x", "s": "-created_at"}').decode(),
        base64.urlsafe_b64encode(b"\x00" * 64).decode(),
        "A" * 2048,
        "A" * 5000,
    ],
)
async def test_garbage_cursor_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, cursor: str
) -> None:
    await create_task(client, alice)
    response = await client.get(TASKS, params={"cursor": cursor}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", "cursor"])


async def test_cursor_of_another_user_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    cursor = await _a_cursor(client, alice)
    await create_task(client, bob)
    response = await client.get(TASKS, params={"cursor": cursor}, headers=bob.headers)
    assert_problem(response, 422, loc=["query", "cursor"])
    assert "task 0" not in response.text


async def test_cursor_for_another_sort_is_422(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    cursor = await _a_cursor(client, alice, sort="title")
    response = await client.get(
        TASKS, params={"cursor": cursor, "sort": "-title"}, headers=alice.headers
    )
    assert_problem(response, 422, loc=["query", "cursor"])


@pytest.mark.parametrize(
    ("sort", "changes"),
    [
        ("title", {"v": 123}),
        ("title", {"v": None}),
        ("title", {"v": ["a"]}),
        ("title", {"i": "not-a-uuid"}),
        ("title", {"i": None}),
        ("title", {"i": 5}),
        ("-created_at", {"v": "not a date"}),
        ("-created_at", {"v": "2030-01-01T00:00:00"}),
        ("-created_at", {"v": 1_700_000_000}),
        ("-created_at", {"v": None}),
        ("priority", {"v": "critical"}),
        ("priority", {"v": 99}),
        ("due_at", {"v": {"nested": True}}),
    ],
)
async def test_signed_cursor_with_impossible_values_is_422(
    client: httpx.AsyncClient,
    alice: SignedInUser,
    app: FastAPI,
    sort: str,
    changes: dict[str, Any],
) -> None:
    """Defence in depth: even a correctly signed cursor never reaches SQL with bad values."""
    await create_task(client, alice)
    payload = {"u": uuid.UUID(alice.id).hex, "s": sort, "v": "x", "i": uuid.uuid4().hex}
    cursor: str = app.state.cursor_codec.encode({**payload, **changes})
    response = await client.get(
        TASKS, params={"cursor": cursor, "sort": sort}, headers=alice.headers
    )
    assert_problem(response, 422, loc=["query", "cursor"])


# --- filters -----------------------------------------------------------------------------


async def test_priority_filter_is_any_of(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    by_priority = {p: await create_task(client, alice, priority=p) for p in PRIORITY_RANK}
    assert await listed_ids(client, alice, priority="high") == [by_priority["high"]["id"]]
    found = await listed_ids(client, alice, priority=["high", "urgent", "high"])
    assert sorted(found) == sorted([by_priority["high"]["id"], by_priority["urgent"]["id"]])


@pytest.mark.parametrize("param", ["priority", "status"])
async def test_unknown_filter_value_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, param: str
) -> None:
    response = await client.get(TASKS, params={param: "sometimes"}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", param])


async def test_due_before_and_due_after_are_exclusive_bounds(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    early = await create_task(client, alice, due_at="2030-01-01T00:00:00Z")
    middle = await create_task(client, alice, due_at="2030-06-01T00:00:00Z")
    late = await create_task(client, alice, due_at="2031-01-01T00:00:00Z")
    await create_task(client, alice, title="no due date")

    before = await listed_ids(client, alice, due_before="2030-06-01T00:00:00Z", sort="due_at")
    assert before == [early["id"]]
    after = await listed_ids(client, alice, due_after="2030-06-01T00:00:00Z", sort="due_at")
    assert after == [late["id"]]
    window = await listed_ids(
        client, alice, due_after="2030-01-01T00:00:00Z", due_before="2031-01-01T00:00:00Z"
    )
    assert window == [middle["id"]]


async def test_due_filters_honour_the_offset(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-01-01T10:00:00Z")
    # 11:30+02:00 is 09:30Z: the task is after it, not before.
    assert await listed_ids(client, alice, due_before="2030-01-01T11:30:00+02:00") == []
    assert await listed_ids(client, alice, due_after="2030-01-01T11:30:00+02:00") == [task["id"]]


@pytest.mark.parametrize("param", ["due_before", "due_after"])
@pytest.mark.parametrize(
    "value", ["2030-01-01T00:00:00", "yesterday", "9999-12-31T23:59:59-05:00", ""]
)
async def test_bad_due_filter_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, param: str, value: str
) -> None:
    response = await client.get(TASKS, params={param: value}, headers=alice.headers)
    assert_problem(response, 422, loc=["query", param])


async def test_overdue_means_due_in_the_past_and_not_completed(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    overdue = await create_task(client, alice, title="overdue", due_at="2001-01-01T00:00:00Z")
    await create_task(client, alice, title="done", due_at="2001-01-01T00:00:00Z", completed=True)
    await create_task(client, alice, title="future", due_at="2999-01-01T00:00:00Z")
    await create_task(client, alice, title="undated")
    assert await listed_ids(client, alice, overdue="true") == [overdue["id"]]
    assert len(await listed_ids(client, alice, overdue="false")) == 4


async def test_filters_combine(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    wanted = await create_task(client, alice, priority="high", due_at="2001-01-01T00:00:00Z")
    await create_task(client, alice, priority="low", due_at="2001-01-01T00:00:00Z")
    await create_task(client, alice, priority="high", due_at="2001-01-01T00:00:00Z", completed=True)
    await create_task(client, alice, priority="high", due_at="2999-01-01T00:00:00Z")
    found = await listed_ids(
        client, alice, status="pending", priority="high", due_before="2020-01-01T00:00:00Z"
    )
    assert found == [wanted["id"]]
