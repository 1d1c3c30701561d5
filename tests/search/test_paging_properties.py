"""Keyset paging, checked as properties over random task sets, filters, sorts and page sizes.

The app and database are shared by the examples of one test function, so each example
works as a fresh user: no example can see another's tasks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import SignedInUser, create_task, signed_in_user
from tests.search.helpers import (
    ALL_SORTS,
    TASKS,
    assert_problem,
    expected_order,
    ids_of,
    list_page,
    listed_ids,
    task_url,
    walk_pages,
)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
    # Explaining a failure replays hundreds of examples against the API: too slow.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    print_blob=True,
)

# Small value sets, so that ties on every sort key are common.
TITLES = ("apple", "apple pie", "banana", "cherry")
PRIORITIES = ("none", "low", "medium", "high", "urgent")
DUE_DATES = (None, "2020-01-01T00:00:00Z", "2020-06-01T00:00:00Z", "2099-01-01T00:00:00Z")
TAG_SPELLINGS = ("x", "X", "y", "z")
QUERIES = ("", "app", "pie", "ban", "apple pie", "zzz", "!!")
BOUNDS = ("2020-01-01T00:00:00Z", "2020-06-01T00:00:00Z", "2050-01-01T00:00:00Z")
_WORD = re.compile(r"[^\W_]+")

task_specs = st.fixed_dictionaries(
    {
        "title": st.sampled_from(TITLES),
        "priority": st.sampled_from(PRIORITIES),
        "due_at": st.sampled_from(DUE_DATES),
        "tags": st.lists(st.sampled_from(TAG_SPELLINGS), max_size=3),
        "completed": st.booleans(),
    }
)


@dataclass(frozen=True)
class Query:
    """List parameters (repeatable) and the same filter as a Python predicate."""

    params: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.params if key == name]

    def matches(self, task: dict[str, Any]) -> bool:
        status = self.values("status")
        if status == ["pending"] and task["completed"]:
            return False
        if status == ["completed"] and not task["completed"]:
            return False
        priorities = self.values("priority")
        if priorities and task["priority"] not in priorities:
            return False
        tags = {tag.casefold() for tag in task["tags"]}
        if any(name.casefold() not in tags for name in self.values("tag")):
            return False
        due = datetime.fromisoformat(task["due_at"]) if task["due_at"] else None
        for bound in self.values("due_before"):
            if due is None or not due < datetime.fromisoformat(bound):
                return False
        for bound in self.values("due_after"):
            if due is None or not due > datetime.fromisoformat(bound):
                return False
        # Due dates are far in the past or far in the future: "now" never matters.
        if self.values("overdue") == ["true"] and (
            due is None or due.year > 2050 or task["completed"]
        ):
            return False
        return all(self._text_matches(q, task["title"]) for q in self.values("q"))

    @staticmethod
    def _text_matches(q: str, title: str) -> bool:
        if not q.strip():
            return True
        words = [word.casefold() for word in _WORD.findall(q)]
        title_words = [word.casefold() for word in _WORD.findall(title)]
        return bool(words) and all(
            any(candidate.startswith(word) for candidate in title_words) for word in words
        )


@st.composite
def queries(draw: st.DrawFn) -> Query:
    params: list[tuple[str, str]] = []
    status = draw(st.sampled_from([None, "all", "pending", "completed"]))
    if status is not None:
        params.append(("status", status))
    for priority in draw(st.lists(st.sampled_from(PRIORITIES), max_size=2, unique=True)):
        params.append(("priority", priority))
    for tag in draw(st.lists(st.sampled_from(TAG_SPELLINGS), max_size=2)):
        params.append(("tag", tag))
    for name in ("due_before", "due_after"):
        bound = draw(st.sampled_from([None, *BOUNDS]))
        if bound is not None:
            params.append((name, bound))
    if draw(st.booleans()):
        params.append(("overdue", "true"))
    q = draw(st.sampled_from([None, *QUERIES]))
    if q is not None:
        params.append(("q", q))
    return Query(params)


async def create_all(
    client: httpx.AsyncClient, user: SignedInUser, specs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return [await create_task(client, user, **spec) for spec in specs]


@PROPERTY_SETTINGS
@given(
    specs=st.lists(task_specs, max_size=10),
    query=queries(),
    sort=st.sampled_from(ALL_SORTS),
    limit=st.integers(min_value=1, max_value=4),
)
async def test_walking_every_page_equals_one_unpaged_request(
    client: httpx.AsyncClient,
    specs: list[dict[str, Any]],
    query: Query,
    sort: str,
    limit: int,
) -> None:
    user = await signed_in_user(client)
    tasks = await create_all(client, user, specs)
    params = [*query.params, ("sort", sort)]

    unpaged = await listed_ids(client, user, params)
    walked = await walk_pages(client, user, params, limit=limit)

    assert walked == unpaged
    assert len(set(walked)) == len(walked)
    assert unpaged == expected_order([task for task in tasks if query.matches(task)], sort)


@PROPERTY_SETTINGS
@given(
    specs=st.lists(task_specs, min_size=1, max_size=10),
    sort=st.sampled_from(ALL_SORTS),
    limit=st.integers(min_value=1, max_value=3),
    changes=st.lists(
        st.tuples(
            st.lists(task_specs, max_size=2),
            st.lists(st.integers(min_value=0, max_value=9), max_size=2),
        ),
        max_size=6,
    ),
)
async def test_paging_stays_exact_while_tasks_are_created_and_deleted(
    client: httpx.AsyncClient,
    specs: list[dict[str, Any]],
    sort: str,
    limit: int,
    changes: list[tuple[list[dict[str, Any]], list[int]]],
) -> None:
    """Between pages, tasks come and go: no task twice, no surviving original skipped."""
    user = await signed_in_user(client)
    originals = ids_of(await create_all(client, user, specs))
    deleted: set[str] = set()
    seen: list[str] = []
    cursor: str | None = None
    for page_number in range(100):
        extra: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor is not None:
            extra["cursor"] = cursor
        page = await list_page(client, user, **extra)
        page_ids = ids_of(page["items"])
        assert not deleted & set(page_ids), "a deleted task was listed"
        seen += page_ids
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if page_number < len(changes):
            new_specs, doomed = changes[page_number]
            await create_all(client, user, new_specs)
            for index in doomed:
                task_id = originals[index % len(originals)]
                if task_id not in deleted:
                    response = await client.delete(task_url(task_id), headers=user.headers)
                    assert response.status_code == 204
                    deleted.add(task_id)
    else:
        raise AssertionError("pagination never ended")

    assert len(seen) == len(set(seen)), "a task was listed twice"
    survivors = [task_id for task_id in originals if task_id not in deleted]
    assert set(survivors) <= set(seen), "a task that existed throughout was skipped"


# --- cursors that do not belong to the request ---------------------------------------------


async def first_cursor(client: httpx.AsyncClient, user: SignedInUser, **params: Any) -> str:
    for n in range(3):
        await create_task(client, user, title=f"task {n}")
    page = await list_page(client, user, limit=1, **params)
    cursor = page["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


async def test_cursor_of_another_user_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    cursor = await first_cursor(client, alice)
    await create_task(client, bob)
    response = await client.get(TASKS, params={"cursor": cursor}, headers=bob.headers)
    assert_problem(response, 422, param="cursor")


@pytest.mark.parametrize(
    ("issued_for", "used_with"),
    [
        ("title", "-title"),
        ("-created_at", "created_at"),
        ("due_at", "priority"),
        ("-priority", "-updated_at"),
    ],
)
async def test_cursor_used_with_another_sort_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, issued_for: str, used_with: str
) -> None:
    cursor = await first_cursor(client, alice, sort=issued_for)
    response = await client.get(
        TASKS, params={"cursor": cursor, "sort": used_with}, headers=alice.headers
    )
    assert_problem(response, 422, param="cursor")


async def test_cursor_issued_for_the_default_sort_works_when_it_is_named(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    cursor = await first_cursor(client, alice)
    page = await list_page(client, alice, cursor=cursor, sort="-created_at", limit=1)
    assert len(page["items"]) == 1


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "eyJ1IjoiMSJ9",  # base64 of a JSON object, unsigned
        "A" * 64,
        "%00",
        "x" * 5000,
    ],
)
async def test_garbage_cursor_is_422(
    client: httpx.AsyncClient, alice: SignedInUser, cursor: str
) -> None:
    await create_task(client, alice)
    response = await client.get(TASKS, params={"cursor": cursor}, headers=alice.headers)
    assert_problem(response, 422, param="cursor")
