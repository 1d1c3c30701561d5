"""POST /api/v1/users/me/password."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.helpers import (
    PASSWORD,
    assert_unauthorized,
    assert_validation_problem,
    error_locs,
    try_login,
    try_refresh,
)
from tests.factories import DEFAULT_PASSWORD, SignedInUser, login, signed_in_user

NEW_PASSWORD = "a brand new passphrase"


async def change_password(
    client: httpx.AsyncClient, user: SignedInUser, current: str, new: object
) -> httpx.Response:
    return await client.post(
        PASSWORD, json={"current_password": current, "new_password": new}, headers=user.headers
    )


async def test_change_password_is_204_with_no_body(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await change_password(client, user, DEFAULT_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204, response.text
    assert response.content == b""


async def test_after_change_only_the_new_password_logs_in(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await change_password(client, user, DEFAULT_PASSWORD, NEW_PASSWORD)

    assert_unauthorized(await try_login(client, user.email, DEFAULT_PASSWORD))
    assert (await try_login(client, user.email, NEW_PASSWORD)).status_code == 200


async def test_change_password_revokes_every_refresh_token_of_the_user(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    other_session = await login(client, user.email)
    rotated = (await try_refresh(client, other_session["refresh_token"])).json()

    response = await change_password(client, user, DEFAULT_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204, response.text
    assert_unauthorized(await try_refresh(client, user.refresh_token))
    assert_unauthorized(await try_refresh(client, rotated["refresh_token"]))


async def test_change_password_leaves_other_users_sessions_working(
    client: httpx.AsyncClient,
) -> None:
    alice = await signed_in_user(client)
    bob = await signed_in_user(client)

    await change_password(client, alice, DEFAULT_PASSWORD, NEW_PASSWORD)

    assert (await try_refresh(client, bob.refresh_token)).status_code == 200


async def test_session_started_after_the_change_works(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await change_password(client, user, DEFAULT_PASSWORD, NEW_PASSWORD)

    pair = await login(client, user.email, NEW_PASSWORD)

    assert (await try_refresh(client, pair["refresh_token"])).status_code == 200


async def test_wrong_current_password_is_401_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await change_password(client, user, "not my password", NEW_PASSWORD)

    assert_unauthorized(response)
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_login(client, user.email, NEW_PASSWORD)).status_code == 401
    assert (await try_refresh(client, user.refresh_token)).status_code == 200


@pytest.mark.parametrize(
    "new_password",
    ["p" * 7, "p" * 129, " " * 10, 12345678, None],
    ids=["7-chars", "129-chars", "whitespace-only", "number", "null"],
)
async def test_invalid_new_password_is_422_and_changes_nothing(
    client: httpx.AsyncClient, new_password: object
) -> None:
    user = await signed_in_user(client)

    response = await change_password(client, user, DEFAULT_PASSWORD, new_password)

    errors = assert_validation_problem(response)
    assert ("body", "new_password") in error_locs(errors)
    if isinstance(new_password, str):
        assert (await try_login(client, user.email, new_password)).status_code == 401
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_refresh(client, user.refresh_token)).status_code == 200


async def test_change_password_validation_error_never_echoes_passwords(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await change_password(client, user, DEFAULT_PASSWORD, "Zq7#vW!")

    assert_validation_problem(response)
    assert DEFAULT_PASSWORD not in response.text
    assert "Zq7#vW!" not in response.text


@pytest.mark.parametrize(
    "body",
    [
        {"new_password": NEW_PASSWORD},
        {"current_password": DEFAULT_PASSWORD},
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD, "user_id": "x"},
    ],
    ids=["missing-current", "missing-new", "unknown-field"],
)
async def test_malformed_password_change_is_422_and_changes_nothing(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    user = await signed_in_user(client)

    response = await client.post(PASSWORD, json=body, headers=user.headers)

    assert_validation_problem(response)
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200


async def test_change_password_without_access_token_is_401_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await client.post(
        PASSWORD, json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert_unauthorized(response)
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
