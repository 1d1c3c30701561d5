"""POST /api/v1/auth/logout: ends one login session; needs the access token."""

from __future__ import annotations

import httpx

from tests.auth.helpers import LOGOUT, assert_unauthorized, bearer, get_me, try_refresh
from tests.factories import login, signed_in_user


async def logout(
    client: httpx.AsyncClient, access_token: str, refresh_token: str
) -> httpx.Response:
    return await client.post(
        LOGOUT, json={"refresh_token": refresh_token}, headers=bearer(access_token)
    )


async def test_logout_is_204_with_no_body(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await logout(client, user.access_token, user.refresh_token)

    assert response.status_code == 204, response.text
    assert response.content == b""


async def test_logout_revokes_the_sessions_refresh_token(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await logout(client, user.access_token, user.refresh_token)

    assert_unauthorized(await try_refresh(client, user.refresh_token))


async def test_logout_with_a_rotated_token_revokes_the_whole_session(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    newest = (await try_refresh(client, user.refresh_token)).json()

    assert (
        await logout(client, newest["access_token"], newest["refresh_token"])
    ).status_code == 204

    assert_unauthorized(await try_refresh(client, newest["refresh_token"]))


async def test_logout_leaves_other_sessions_of_the_user_working(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    other_session = await login(client, user.email)

    await logout(client, user.access_token, user.refresh_token)

    response = await try_refresh(client, other_session["refresh_token"])
    assert response.status_code == 200, response.text


async def test_logout_without_access_token_is_401_and_revokes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await client.post(LOGOUT, json={"refresh_token": user.refresh_token})

    assert_unauthorized(response)
    assert (await try_refresh(client, user.refresh_token)).status_code == 200


async def test_logout_with_invalid_access_token_is_401_and_revokes_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    response = await logout(client, "not.a.token", user.refresh_token)

    assert_unauthorized(response)
    assert (await try_refresh(client, user.refresh_token)).status_code == 200


async def test_logout_cannot_end_another_users_session(client: httpx.AsyncClient) -> None:
    alice = await signed_in_user(client)
    mallory = await signed_in_user(client)

    response = await logout(client, mallory.access_token, alice.refresh_token)

    assert response.status_code in {204, 401, 404}, response.text
    assert (await try_refresh(client, alice.refresh_token)).status_code == 200


async def test_user_can_sign_in_again_after_logout(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await logout(client, user.access_token, user.refresh_token)

    pair = await login(client, user.email)

    assert (await get_me(client, pair["access_token"])).status_code == 200
    assert (await try_refresh(client, pair["refresh_token"])).status_code == 200
