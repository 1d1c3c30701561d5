"""GET /api/v1/tasks filters: tag, priority, status, due range, overdue, q — combined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import SignedInUser, create_task
from tests.search.helpers import TASKS, assert_problem, listed_ids

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


def ids(*tasks: dict[str, Any]) -> set[str]:
    return {task["id"] for task in tasks}


async def found(
    client: httpx.AsyncClient, user: SignedInUser, params: list[tuple[str, Any]]
) -> set[str]:
    listed = await listed_ids(client, user, params)
    assert len(listed) == len(set(listed))
    return set(listed)


# --- tags ---------------------------------------------------------------------------------


async def test_one_tag_filter_ignores_case(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    work = await create_task(client, alice, tags=["Work"])
    await create_task(client, alice, tags=["home"])
    await create_task(client, alice)
    for spelling in ("Work", "work", "WORK", " work "):
        assert await found(client, alice, [("tag", spelling)]) == ids(work)


async def test_repeated_tag_filters_need_all_of_them(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    both = await create_task(client, alice, tags=["a", "b"])
    all_three = await create_task(client, alice, tags=["a", "b", "c"])
    await create_task(client, alice, tags=["a"])
    await create_task(client, alice, tags=["b", "c"])
    assert await found(client, alice, [("tag", "a"), ("tag", "B")]) == ids(both, all_three)
    assert await found(client, alice, [("tag", "a"), ("tag", "b"), ("tag", "c")]) == ids(all_three)


async def test_the_same_tag_filter_twice_is_one_filter(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["a"])
    assert await found(client, alice, [("tag", "a"), ("tag", "A")]) == ids(task)


async def test_an_unknown_tag_filter_matches_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["a"])
    assert await found(client, alice, [("tag", "a"), ("tag", "nope")]) == set()


async def test_twenty_tag_filters_are_accepted_and_twenty_one_are_422(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    names = [f"t{n}" for n in range(21)]
    task = await create_task(client, alice, tags=names[:20])
    assert await found(client, alice, [("tag", name) for name in names[:20]]) == ids(task)
    response = await client.get(
        TASKS, params=[("tag", name) for name in names], headers=alice.headers
    )
    assert_problem(response, 422, param="tag")


@pytest.mark.parametrize("tag", ["", "   ", "x" * 51])
async def test_invalid_tag_filter_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, tag: str
) -> None:
    response = await client.get(TASKS, params={"tag": tag}, headers=alice.headers)
    assert_problem(response, 422, param="tag")


# --- priority and status -------------------------------------------------------------------


async def test_repeated_priority_filters_match_any_of_them(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    tasks = {p: await create_task(client, alice, priority=p) for p in ("none", "low", "high")}
    assert await found(client, alice, [("priority", "low")]) == ids(tasks["low"])
    assert await found(client, alice, [("priority", "low"), ("priority", "high")]) == ids(
        tasks["low"], tasks["high"]
    )
    assert await found(client, alice, [("priority", "urgent")]) == set()


async def test_status_filter(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    pending = await create_task(client, alice)
    done = await create_task(client, alice, completed=True)
    assert await found(client, alice, [("status", "pending")]) == ids(pending)
    assert await found(client, alice, [("status", "completed")]) == ids(done)
    assert await found(client, alice, [("status", "all")]) == ids(pending, done)
    assert await found(client, alice, []) == ids(pending, done)


# --- due dates --------------------------------------------------------------------------------


async def test_due_before_and_due_after_are_strict(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    early = await create_task(client, alice, due_at="2030-01-01T00:00:00Z")
    middle = await create_task(client, alice, due_at="2030-06-01T00:00:00Z")
    late = await create_task(client, alice, due_at="2030-12-01T00:00:00Z")
    await create_task(client, alice)
    boundary = "2030-06-01T00:00:00Z"
    assert await found(client, alice, [("due_before", boundary)]) == ids(early)
    assert await found(client, alice, [("due_after", boundary)]) == ids(late)
    between = [("due_after", "2030-01-01T00:00:00Z"), ("due_before", "2030-12-01T00:00:00Z")]
    assert await found(client, alice, between) == ids(middle)
    assert await found(client, alice, [("due_before", "2031-01-01T00:00:00Z")]) == ids(
        early, middle, late
    )


async def test_due_filters_compare_instants_not_local_times(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, due_at="2030-06-01T12:00:00Z")
    # 13:30+02:00 is 11:30Z: the task is due after it.
    assert await found(client, alice, [("due_after", "2030-06-01T13:30:00+02:00")]) == ids(task)
    assert await found(client, alice, [("due_before", "2030-06-01T13:30:00+02:00")]) == set()


async def test_overdue_means_due_in_the_past_and_not_completed(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    just_past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    overdue = await create_task(client, alice, due_at=PAST)
    recently_overdue = await create_task(client, alice, due_at=just_past)
    await create_task(client, alice, due_at=PAST, completed=True)
    await create_task(client, alice, due_at=FUTURE)
    await create_task(client, alice)
    assert await found(client, alice, [("overdue", "true")]) == ids(overdue, recently_overdue)
    everything = await found(client, alice, [])
    assert await found(client, alice, [("overdue", "false")]) == everything


# --- combined ---------------------------------------------------------------------------------


async def test_all_filters_combine(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    wanted: dict[str, Any] = {
        "title": "Pay the rent",
        "tags": ["Home", "money"],
        "priority": "high",
        "due_at": PAST,
    }
    match = await create_task(client, alice, **wanted)
    # Each differs from the match in exactly one way.
    await create_task(client, alice, **{**wanted, "title": "Pay the bills"})
    await create_task(client, alice, **{**wanted, "tags": ["home"]})
    await create_task(client, alice, **{**wanted, "priority": "low"})
    await create_task(client, alice, **{**wanted, "completed": True})
    await create_task(client, alice, **{**wanted, "due_at": "2019-01-01T00:00:00Z"})
    await create_task(client, alice, **{**wanted, "due_at": FUTURE})
    await create_task(client, alice, **{**wanted, "due_at": None})
    params = [
        ("tag", "home"),
        ("tag", "MONEY"),
        ("priority", "high"),
        ("status", "pending"),
        ("due_after", "2019-06-01T00:00:00Z"),
        ("due_before", "2021-01-01T00:00:00Z"),
        ("overdue", "true"),
        ("q", "rent pay"),
    ]
    assert await found(client, alice, params) == ids(match)
    assert await found(client, alice, [*params, ("priority", "urgent")]) == ids(match)
    for left_out in range(len(params)):
        fewer = params[:left_out] + params[left_out + 1 :]
        assert match["id"] in await found(client, alice, fewer)


# --- invalid parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "done"),
        ("priority", "critical"),
        ("sort", "name"),
        ("sort", "--title"),
        ("sort", "+title"),
        ("due_before", "2030-01-01T00:00:00"),
        ("due_after", "2030-01-01T00:00:00"),
        ("due_before", "tomorrow"),
        ("due_after", "2030-13-01T00:00:00Z"),
        ("overdue", "maybe"),
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("cursor", "not-a-cursor"),
    ],
)
async def test_invalid_parameter_is_422_naming_it(
    client: httpx.AsyncClient, alice: SignedInUser, param: str, value: str
) -> None:
    response = await client.get(TASKS, params={param: value}, headers=alice.headers)
    assert_problem(response, 422, param=param)


async def test_list_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get(TASKS, params={"tag": "work"})
    assert_problem(response, 401)
