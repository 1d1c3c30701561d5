"""PATCH /api/v1/tags/{name}: rename a tag, or merge it into an existing one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import SignedInUser, create_task
from tests.search.helpers import (
    assert_problem,
    get_task,
    listed_ids,
    tag_counts,
    tag_url,
    task_url,
)


async def rename(
    client: httpx.AsyncClient, user: SignedInUser, name: str, new_name: str
) -> dict[str, Any]:
    response = await client.patch(tag_url(name), json={"name": new_name}, headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_rename_to_a_new_name_renames_it_on_every_task(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    first = await create_task(client, alice, tags=["work", "home"])
    second = await create_task(client, alice, tags=["work"])
    assert await rename(client, alice, "work", "job") == {"name": "job"}
    assert (await get_task(client, alice, first["id"]))["tags"] == ["home", "job"]
    assert (await get_task(client, alice, second["id"]))["tags"] == ["job"]
    assert await tag_counts(client, alice) == [("home", 1), ("job", 2)]
    assert await listed_ids(client, alice, tag="job") == [second["id"], first["id"]]
    assert await listed_ids(client, alice, tag="work") == []


async def test_rename_finds_the_tag_ignoring_case(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["Work"])
    assert await rename(client, alice, "wORK", "job") == {"name": "job"}
    assert (await get_task(client, alice, task["id"]))["tags"] == ["job"]


async def test_rename_trims_the_new_name(client: httpx.AsyncClient, alice: SignedInUser) -> None:
    await create_task(client, alice, tags=["work"])
    assert await rename(client, alice, "work", "  job  ") == {"name": "job"}
    assert await tag_counts(client, alice) == [("job", 1)]


async def test_case_only_rename_changes_the_display_name(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["work"])
    assert await rename(client, alice, "work", "Work") == {"name": "Work"}
    after = await get_task(client, alice, task["id"])
    assert after["tags"] == ["Work"]
    assert after["version"] == task["version"] + 1
    assert await tag_counts(client, alice) == [("Work", 1)]


async def test_rename_onto_an_existing_tag_merges_them(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    only_source = await create_task(client, alice, tags=["errands"])
    both = await create_task(client, alice, tags=["errands", "Shopping"])
    only_target = await create_task(client, alice, tags=["Shopping"])
    neither = await create_task(client, alice, tags=["other"])

    assert await rename(client, alice, "errands", "Shopping") == {"name": "Shopping"}

    for task in (only_source, both, only_target):
        assert (await get_task(client, alice, task["id"]))["tags"] == ["Shopping"]
    assert (await get_task(client, alice, neither["id"]))["tags"] == ["other"]
    assert await tag_counts(client, alice) == [("other", 1), ("Shopping", 3)]
    merged = await listed_ids(client, alice, tag="shopping", sort="created_at")
    assert merged == [only_source["id"], both["id"], only_target["id"]]
    assert await listed_ids(client, alice, tag="errands") == []


async def test_merge_keeps_the_existing_tags_spelling(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["errands", "Shopping"])
    body = await rename(client, alice, "errands", "SHOPPING")
    assert body == {"name": "Shopping"}
    assert (await get_task(client, alice, task["id"]))["tags"] == ["Shopping"]
    assert await tag_counts(client, alice) == [("Shopping", 1)]


async def test_rename_gives_tagged_tasks_a_new_version_and_leaves_others_alone(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    source = await create_task(client, alice, tags=["errands"])
    target_only = await create_task(client, alice, tags=["shopping"])
    untagged = await create_task(client, alice)
    await rename(client, alice, "errands", "shopping")

    assert (await get_task(client, alice, source["id"]))["version"] == source["version"] + 1
    # Their tag lists did not change, so their cached copies stay valid.
    assert (await get_task(client, alice, target_only["id"]))["version"] == 1
    assert (await get_task(client, alice, untagged["id"]))["version"] == 1


async def test_old_etag_no_longer_matches_after_rename(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["work"])
    url = task_url(task["id"])
    first = await client.get(url, headers=alice.headers)
    etag = first.headers["ETag"]
    cached = await client.get(url, headers={**alice.headers, "If-None-Match": etag})
    assert cached.status_code == 304

    await rename(client, alice, "work", "job")
    fresh = await client.get(url, headers={**alice.headers, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.json()["tags"] == ["job"]
    assert fresh.headers["ETag"] != etag


async def test_stale_if_match_after_rename_is_412(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["work"])
    await rename(client, alice, "work", "job")
    response = await client.patch(
        task_url(task["id"]),
        json={"title": "changed"},
        headers={**alice.headers, "If-Match": f'"{task["version"]}"'},
    )
    assert_problem(response, 412)


async def test_a_name_with_a_slash_can_be_renamed(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["to/do"])
    assert await rename(client, alice, "to/do", "a/b c") == {"name": "a/b c"}
    assert (await get_task(client, alice, task["id"]))["tags"] == ["a/b c"]


async def test_rename_of_an_unknown_tag_is_404(
    client: httpx.AsyncClient, alice: SignedInUser
) -> None:
    await create_task(client, alice, tags=["work"])
    response = await client.patch(tag_url("nope"), json={"name": "x"}, headers=alice.headers)
    assert_problem(response, 404)
    assert await tag_counts(client, alice) == [("work", 1)]


async def test_rename_of_another_users_tag_is_404_and_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, bob: SignedInUser
) -> None:
    task = await create_task(client, alice, tags=["secret"])
    response = await client.patch(tag_url("secret"), json={"name": "mine"}, headers=bob.headers)
    assert_problem(response, 404)
    assert await tag_counts(client, alice) == [("secret", 1)]
    assert await get_task(client, alice, task["id"]) == task


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "x", "color": "red"}, id="unknown-field"),
        pytest.param({}, id="missing-name"),
        pytest.param({"name": ""}, id="empty"),
        pytest.param({"name": "   "}, id="blank"),
        pytest.param({"name": "x" * 51}, id="51-characters"),
        pytest.param({"name": None}, id="null"),
    ],
)
async def test_invalid_rename_body_is_422_and_changes_nothing(
    client: httpx.AsyncClient, alice: SignedInUser, body: dict[str, Any]
) -> None:
    await create_task(client, alice, tags=["work"])
    response = await client.patch(tag_url("work"), json=body, headers=alice.headers)
    assert_problem(response, 422)
    assert await tag_counts(client, alice) == [("work", 1)]
