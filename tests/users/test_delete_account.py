"""DELETE /api/v1/users/me: the account and all its data go; the e-mail is free again."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.auth.helpers import (
    ME,
    assert_unauthorized,
    assert_validation_problem,
    count_rows_of_user,
    get_me,
    try_login,
    try_refresh,
)
from tests.factories import DEFAULT_PASSWORD, SignedInUser, create_task, register, signed_in_user


async def delete_account(
    client: httpx.AsyncClient, user: SignedInUser, password: object = DEFAULT_PASSWORD
) -> httpx.Response:
    return await client.request("DELETE", ME, json={"password": password}, headers=user.headers)


async def test_delete_with_wrong_password_is_401_and_keeps_the_account(
    client: httpx.AsyncClient, raw_engine: AsyncEngine
) -> None:
    user = await signed_in_user(client)
    await create_task(client, user)

    response = await delete_account(client, user, "not my password")

    assert_unauthorized(response)
    assert (await get_me(client, user.access_token)).status_code == 200
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_refresh(client, user.refresh_token)).status_code == 200
    assert await count_rows_of_user(raw_engine, "tasks", user.id) == 1


async def test_delete_with_right_password_is_204_with_no_body(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await delete_account(client, user)

    assert response.status_code == 204, response.text
    assert response.content == b""


async def test_old_access_token_is_401_after_deletion(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await delete_account(client, user)

    assert_unauthorized(await get_me(client, user.access_token))


async def test_deleted_account_cannot_log_in(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await delete_account(client, user)

    assert_unauthorized(await try_login(client, user.email, DEFAULT_PASSWORD))


async def test_deleted_accounts_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await delete_account(client, user)

    assert_unauthorized(await try_refresh(client, user.refresh_token))


async def test_deletion_removes_the_users_tasks_and_only_theirs(
    client: httpx.AsyncClient, raw_engine: AsyncEngine
) -> None:
    user = await signed_in_user(client)
    other = await signed_in_user(client)
    for title in ("one", "two"):
        await create_task(client, user, title=title)
    await create_task(client, other, title="someone else's")
    assert await count_rows_of_user(raw_engine, "tasks", user.id) == 2

    assert (await delete_account(client, user)).status_code == 204

    assert await count_rows_of_user(raw_engine, "tasks", user.id) == 0
    assert await count_rows_of_user(raw_engine, "tasks", other.id) == 1


async def test_deletion_removes_the_users_refresh_tokens(
    client: httpx.AsyncClient, raw_engine: AsyncEngine
) -> None:
    user = await signed_in_user(client)
    assert await count_rows_of_user(raw_engine, "refresh_tokens", user.id) == 1
    assert await count_rows_of_user(raw_engine, "users", user.id, key="id") == 1

    assert (await delete_account(client, user)).status_code == 204

    assert await count_rows_of_user(raw_engine, "refresh_tokens", user.id) == 0
    assert await count_rows_of_user(raw_engine, "users", user.id, key="id") == 0


async def test_deletion_leaves_other_accounts_working(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    other = await signed_in_user(client)

    await delete_account(client, user)

    assert (await get_me(client, other.access_token)).status_code == 200
    assert (await try_refresh(client, other.refresh_token)).status_code == 200


async def test_email_of_a_deleted_account_can_register_again(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await delete_account(client, user)

    again = await register(client, email=user.email, password="a different password")

    assert again["id"] != user.id
    assert (await try_login(client, user.email, "a different password")).status_code == 200


async def test_old_access_token_does_not_reach_the_new_account_with_the_same_email(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    await delete_account(client, user)
    await register(client, email=user.email)

    assert_unauthorized(await get_me(client, user.access_token))


async def test_new_account_with_the_same_email_starts_without_tasks(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    await create_task(client, user)
    await delete_account(client, user)

    newcomer = await signed_in_user(client, email=user.email)
    response = await client.get("/api/v1/tasks", headers=newcomer.headers)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_delete_without_access_token_is_401_and_keeps_the_account(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await client.request("DELETE", ME, json={"password": DEFAULT_PASSWORD})

    assert_unauthorized(response)
    assert (await get_me(client, user.access_token)).status_code == 200


async def test_missing_password_is_401_like_a_wrong_one_and_keeps_the_account(
    client: httpx.AsyncClient,
) -> None:
    """`password` is optional in the schema (external accounts have none), so `{}` is a
    valid body: for a built-in account it is a missing credential, answered as a wrong one."""
    user = await signed_in_user(client)

    response = await client.request("DELETE", ME, json={}, headers=user.headers)

    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await get_me(client, user.access_token)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"password": 12345678}, {"password": DEFAULT_PASSWORD, "confirm": True}],
    ids=["number", "unknown-field"],
)
async def test_malformed_deletion_is_422_and_keeps_the_account(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    user = await signed_in_user(client)

    response = await client.request("DELETE", ME, json=body, headers=user.headers)

    assert_validation_problem(response)
    assert (await get_me(client, user.access_token)).status_code == 200


async def test_delete_without_a_body_is_refused_and_keeps_the_account(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await client.delete(ME, headers=user.headers)

    assert response.status_code in {400, 422}, response.text
    assert (await get_me(client, user.access_token)).status_code == 200
