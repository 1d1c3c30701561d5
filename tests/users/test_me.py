"""GET and PATCH /api/v1/users/me."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.auth.helpers import (
    ME,
    USER_KEYS,
    assert_problem,
    assert_unauthorized,
    assert_validation_problem,
    error_locs,
    get_me,
    try_login,
)
from tests.factories import DEFAULT_PASSWORD, SignedInUser, login, register, signed_in_user


async def patch_me(client: httpx.AsyncClient, user: SignedInUser, body: Any) -> httpx.Response:
    return await client.patch(ME, json=body, headers=user.headers)


async def current(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, Any]:
    response = await get_me(client, user.access_token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_get_me_returns_the_signed_in_user(client: httpx.AsyncClient) -> None:
    registered = await register(client, display_name="Ada")
    pair = await login(client, registered["email"])

    response = await get_me(client, pair["access_token"])

    assert response.status_code == 200, response.text
    me = response.json()
    assert set(me) == USER_KEYS
    assert me["id"] == registered["id"]
    assert me["email"] == registered["email"]
    assert me["display_name"] == "Ada"
    assert datetime.fromisoformat(me["created_at"]) == datetime.fromisoformat(
        registered["created_at"]
    )


async def test_get_me_returns_each_user_their_own_account(client: httpx.AsyncClient) -> None:
    alice = await signed_in_user(client)
    bob = await signed_in_user(client)

    assert (await current(client, alice))["id"] == alice.id
    assert (await current(client, bob))["id"] == bob.id


async def test_get_me_never_shows_the_password_or_its_hash(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await get_me(client, user.access_token)

    assert user.password not in response.text
    assert "argon2" not in response.text.lower()


async def test_get_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.get(ME))


async def test_patch_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    assert_unauthorized(await client.patch(ME, json={"display_name": "Nobody"}))


# --- display_name ----------------------------------------------------------------------


async def test_patch_display_name_is_returned_and_stored(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await patch_me(client, user, {"display_name": "Grace"})

    assert response.status_code == 200, response.text
    assert set(response.json()) == USER_KEYS
    assert response.json()["display_name"] == "Grace"
    assert (await current(client, user))["display_name"] == "Grace"


async def test_patch_display_name_is_trimmed(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await patch_me(client, user, {"display_name": "  \tGrace Hopper \n"})

    assert response.json()["display_name"] == "Grace Hopper"
    assert (await current(client, user))["display_name"] == "Grace Hopper"


@pytest.mark.parametrize(
    "name", ["G", "n" * 100, " " + "n" * 100 + " "], ids=["1", "100", "100-padded"]
)
async def test_patch_display_name_of_1_to_100_characters_is_accepted(
    client: httpx.AsyncClient, name: str
) -> None:
    user = await signed_in_user(client)

    response = await patch_me(client, user, {"display_name": name})

    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == name.strip()


async def test_patch_display_name_null_clears_it(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await patch_me(client, user, {"display_name": "Grace"})

    response = await patch_me(client, user, {"display_name": None})

    assert response.status_code == 200, response.text
    assert response.json()["display_name"] is None
    assert (await current(client, user))["display_name"] is None


async def test_empty_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    await patch_me(client, user, {"display_name": "Grace"})

    response = await patch_me(client, user, {})

    assert response.status_code == 200, response.text
    assert (await current(client, user))["display_name"] == "Grace"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "n" * 101, 42, ["Grace"]],
    ids=["empty", "blank", "101-chars", "number", "list"],
)
async def test_invalid_display_name_is_422_and_changes_nothing(
    client: httpx.AsyncClient, name: object
) -> None:
    user = await signed_in_user(client)
    await patch_me(client, user, {"display_name": "Grace"})

    errors = assert_validation_problem(await patch_me(client, user, {"display_name": name}))

    assert ("body", "display_name") in [loc[:2] for loc in error_locs(errors)]
    assert (await current(client, user))["display_name"] == "Grace"


# --- fields that PATCH /users/me must refuse -----------------------------------------------


async def test_patch_email_is_422_and_changes_nothing(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    new_email = "taken-over-" + user.email

    response = await patch_me(client, user, {"email": new_email})

    errors = assert_validation_problem(response)
    assert ("body", "email") in error_locs(errors)
    assert (await current(client, user))["email"] == user.email
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_login(client, new_email, DEFAULT_PASSWORD)).status_code == 401


async def test_patch_password_is_422_and_changes_nothing(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await patch_me(client, user, {"password": "a brand new password"})

    errors = assert_validation_problem(response)
    assert ("body", "password") in error_locs(errors)
    assert "a brand new password" not in response.text
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_login(client, user.email, "a brand new password")).status_code == 401


async def test_patch_with_display_name_and_email_changes_neither(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    await patch_me(client, user, {"display_name": "Grace"})

    response = await patch_me(
        client, user, {"display_name": "Mallory", "email": "mallory@example.com"}
    )

    assert_validation_problem(response)
    me = await current(client, user)
    assert me["display_name"] == "Grace"
    assert me["email"] == user.email


@pytest.mark.parametrize(
    "field",
    [
        ("id", "00000000-0000-0000-0000-000000000000"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("updated_at", "2020-01-01T00:00:00Z"),
        ("password_hash", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"),
        ("email_key", "someone@example.com"),
    ],
    ids=lambda field: field[0],
)
async def test_patch_with_server_owned_field_is_422_and_changes_nothing(
    client: httpx.AsyncClient, field: tuple[str, str]
) -> None:
    user = await signed_in_user(client)
    before = await current(client, user)
    name, value = field

    errors = assert_validation_problem(await patch_me(client, user, {name: value}))

    assert ("body", name) in error_locs(errors)
    assert await current(client, user) == before
    assert (await try_login(client, user.email, DEFAULT_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"display_name": "Grace"}', "text/plain"),
        ("<user><display_name>Grace</display_name></user>", "application/xml"),
    ],
    ids=["text-plain", "xml"],
)
async def test_patch_me_with_non_json_body_is_415(
    client: httpx.AsyncClient, content: str, content_type: str
) -> None:
    user = await signed_in_user(client)

    response = await client.patch(
        ME, content=content, headers={**user.headers, "Content-Type": content_type}
    )

    assert_problem(response, 415)
    assert (await current(client, user))["display_name"] is None
