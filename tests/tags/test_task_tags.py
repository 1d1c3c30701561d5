"""The ``tags`` field of a task: on create, PATCH and PUT."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.factories import SignedInUser, create_task
from tests.search.helpers import TASKS, assert_problem, get_task, patch_task, tag_counts, task_url

TWENTY = [f"tag{n}" for n in range(20)]


async def test_new_task_has_no_tags(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice)
    assert task["tags"] == []
    assert (await get_task(client, alice, task["id"]))["tags"] == []


async def test_tags_are_stored_and_returned_sorted_ignoring_case(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["beta", "Charlie", "alpha"])
    assert task["tags"] == ["alpha", "beta", "Charlie"]
    assert (await get_task(client, alice, task["id"]))["tags"] == ["alpha", "beta", "Charlie"]


async def test_tag_names_are_trimmed(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, tags=["  home  ", "\twork\n"])
    assert task["tags"] == ["home", "work"]


async def test_duplicates_ignoring_case_merge_and_the_first_spelling_wins(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["Work", "work", "WORK ", "home"])
    assert task["tags"] == ["home", "Work"]
    assert (await get_task(client, alice, task["id"]))["tags"] == ["home", "Work"]


async def test_a_tag_is_stored_once_per_user_and_reuses_its_first_spelling(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["Work"])
    second = await create_task(client, alice, tags=["work"])
    assert second["tags"] == ["Work"]
    assert (await get_task(client, alice, second["id"]))["tags"] == ["Work"]
    assert await tag_counts(client, alice) == [("Work", 2)]


async def test_patch_with_another_spelling_of_an_existing_tag_shows_the_stored_one(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["Work"])
    task = await create_task(client, alice)
    patched = await patch_task(client, alice, task["id"], tags=["WORK"])
    assert patched["tags"] == ["Work"]
    assert (await get_task(client, alice, task["id"]))["tags"] == ["Work"]


async def test_twenty_distinct_tags_are_accepted(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=TWENTY)
    assert sorted(task["tags"]) == sorted(TWENTY)


async def test_more_than_twenty_names_that_merge_to_twenty_are_accepted(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=TWENTY + [name.upper() for name in TWENTY])
    assert sorted(task["tags"]) == sorted(TWENTY)


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param([*TWENTY, "one-more"], id="21-distinct"),
        pytest.param(["x" * 51], id="51-characters"),
        pytest.param([""], id="empty"),
        pytest.param(["   "], id="blank"),
        pytest.param([5], id="not-a-string"),
        pytest.param("work", id="not-a-list"),
        pytest.param([None], id="null-item"),
    ],
)
async def test_invalid_tags_on_create_are_422(
    client: httpx.AsyncClient, alice: SignedInUser, tags: Any
) -> None:
    response = await client.post(TASKS, json={"title": "t", "tags": tags}, headers=alice.headers)
    assert_problem(response, 422, param="tags")
    assert await tag_counts(client, alice) == []


async def test_fifty_characters_after_trimming_are_accepted(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    name = "y" * 50
    task = await create_task(client, alice, tags=[f"  {name}  "])
    assert task["tags"] == [name]


@pytest.mark.parametrize(
    "tags",
    [
        pytest.param(None, id="null"),
        pytest.param([*TWENTY, "one-more"], id="21-distinct"),
        pytest.param(["x" * 51], id="51-characters"),
        pytest.param([" "], id="blank"),
    ],
)
async def test_invalid_tags_on_patch_are_422_and_change_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, tags: Any
) -> None:
    task = await create_task(client, alice, tags=["keep"])
    response = await client.patch(task_url(task["id"]), json={"tags": tags}, headers=alice.headers)
    assert_problem(response, 422, param="tags")
    assert await get_task(client, alice, task["id"]) == task


async def test_patch_replaces_the_tag_list(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, tags=["a", "b"])
    patched = await patch_task(client, alice, task["id"], tags=["b", "c"])
    assert patched["tags"] == ["b", "c"]
    assert (await get_task(client, alice, task["id"]))["tags"] == ["b", "c"]


async def test_patch_with_empty_list_clears_tags(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["a", "b"])
    patched = await patch_task(client, alice, task["id"], tags=[])
    assert patched["tags"] == []
    assert patched["version"] == task["version"] + 1
    assert (await get_task(client, alice, task["id"]))["tags"] == []


async def test_patch_without_tags_keeps_them(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["a"])
    patched = await patch_task(client, alice, task["id"], title="renamed")
    assert patched["tags"] == ["a"]


async def test_changing_tags_bumps_version_and_etag(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["a"])
    response = await client.patch(
        task_url(task["id"]), json={"tags": ["a", "b"]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == task["version"] + 1
    assert response.headers["ETag"].strip('W/"') == str(task["version"] + 1)
    assert datetime.fromisoformat(response.json()["updated_at"]) > datetime.fromisoformat(
        task["updated_at"]
    )


async def test_same_tags_in_another_order_and_case_change_nothing(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["Alpha", "beta"])
    patched = await patch_task(client, alice, task["id"], tags=["BETA", "alpha", "beta"])
    assert patched["version"] == task["version"]
    assert patched["updated_at"] == task["updated_at"]
    assert patched["tags"] == ["Alpha", "beta"]


async def test_put_sets_tags_and_put_without_tags_clears_them(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["old"])
    url = task_url(task["id"])
    response = await client.put(
        url, json={"title": "t", "tags": ["new", "Newer"]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == ["new", "Newer"]
    assert response.json()["version"] == task["version"] + 1

    response = await client.put(url, json={"title": "t"}, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json()["tags"] == []
    assert (await get_task(client, alice, task["id"]))["tags"] == []


async def test_put_with_invalid_tags_is_422(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    task = await create_task(client, alice, tags=["keep"])
    response = await client.put(
        task_url(task["id"]), json={"title": "t", "tags": [*TWENTY, "x"]}, headers=alice.headers
    )
    assert_problem(response, 422, param="tags")
    assert (await get_task(client, alice, task["id"]))["tags"] == ["keep"]


async def test_concurrent_creates_with_a_new_tag_store_it_once(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                TASKS, json={"title": f"t{n}", "tags": ["Fresh", "new"]}, headers=alice.headers
            )
            for n in range(8)
        )
    )
    assert [response.status_code for response in responses] == [201] * 8
    assert await tag_counts(client, alice) == [("Fresh", 8), ("new", 8)]
