"""POST /api/v1/auth/login."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from taskapi.core.config import Settings
from tests.auth.helpers import (
    TOKEN_PAIR_KEYS,
    assert_problem,
    assert_unauthorized,
    assert_validation_problem,
    error_locs,
    get_me,
    try_login,
)
from tests.factories import DEFAULT_PASSWORD, register

EmailFactory = Callable[[], str]


async def test_login_returns_a_bearer_token_pair(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = await register(client)

    response = await try_login(client, user["email"], DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == TOKEN_PAIR_KEYS
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == settings.access_token_ttl
    assert isinstance(pair["access_token"], str)
    assert isinstance(pair["refresh_token"], str)
    assert pair["access_token"] != pair["refresh_token"]


async def test_login_access_token_identifies_the_user(client: httpx.AsyncClient) -> None:
    user = await register(client)
    pair = (await try_login(client, user["email"], DEFAULT_PASSWORD)).json()

    response = await get_me(client, pair["access_token"])

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]


async def test_each_login_issues_new_tokens(client: httpx.AsyncClient) -> None:
    user = await register(client)

    first = (await try_login(client, user["email"], DEFAULT_PASSWORD)).json()
    second = (await try_login(client, user["email"], DEFAULT_PASSWORD)).json()

    assert first["access_token"] != second["access_token"]
    assert first["refresh_token"] != second["refresh_token"]


async def test_wrong_password_is_401_problem(client: httpx.AsyncClient) -> None:
    user = await register(client)

    response = await try_login(client, user["email"], DEFAULT_PASSWORD + "!")

    assert_unauthorized(response)
    assert "access_token" not in response.text


async def test_password_of_another_account_does_not_log_in(client: httpx.AsyncClient) -> None:
    alice = await register(client, password="alice's password")
    await register(client, password="bob's password")

    assert_unauthorized(await try_login(client, alice["email"], "bob's password"))


@pytest.mark.parametrize(
    "unknown_email",
    ["nobody-here@example.com", "not-an-email"],
    ids=["unknown-address", "malformed-address"],
)
async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, unknown_email: str
) -> None:
    user = await register(client)

    wrong_password = await try_login(client, user["email"], "wrong password")
    unknown = await try_login(client, unknown_email, "wrong password")

    wrong_body = assert_unauthorized(wrong_password)
    unknown_body = assert_unauthorized(unknown)
    for member in ("status", "type", "title", "detail"):
        assert wrong_body[member] == unknown_body[member]
    assert wrong_password.headers["www-authenticate"] == unknown.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("registered_as", "signs_in_as"),
    [
        ("lower-{}@example.com", "LOWER-{}@EXAMPLE.COM"),
        ("Mixed.Case-{}@Example.com", "mixed.case-{}@example.com"),
        ("lower-{}@example.com", "Lower-{}@Example.Com"),
    ],
    ids=["upper", "lower", "title"],
)
async def test_login_email_is_case_insensitive(
    client: httpx.AsyncClient, registered_as: str, signs_in_as: str
) -> None:
    tag = uuid.uuid4().hex[:12]
    user = await register(client, email=registered_as.format(tag))

    response = await try_login(client, signs_in_as.format(tag), DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text
    assert (await get_me(client, response.json()["access_token"])).json()["id"] == user["id"]


@pytest.mark.parametrize(
    ("body", "expected_loc"),
    [
        ({"email": "someone@example.com"}, ("body", "password")),
        ({"password": DEFAULT_PASSWORD}, ("body", "email")),
        ({"email": "someone@example.com", "password": ""}, ("body", "password")),
        ({"email": "someone@example.com", "password": 123456789}, ("body", "password")),
        (
            {"email": "someone@example.com", "password": DEFAULT_PASSWORD, "remember": True},
            ("body", "remember"),
        ),
    ],
    ids=["missing-password", "missing-email", "empty-password", "password-number", "unknown"],
)
async def test_malformed_login_is_422_problem(
    client: httpx.AsyncClient, body: dict[str, object], expected_loc: tuple[str, ...]
) -> None:
    errors = assert_validation_problem(await client.post("/api/v1/auth/login", json=body))

    assert expected_loc in error_locs(errors)


async def test_failed_login_does_not_lock_out_the_right_password(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    assert_problem(await try_login(client, user["email"], "wrong password"), 401)

    assert (await try_login(client, user["email"], DEFAULT_PASSWORD)).status_code == 200
