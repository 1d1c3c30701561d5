"""POST /api/v1/auth/token: the OAuth2 password form (Swagger UI's Authorize button)."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.helpers import (
    TOKEN,
    TOKEN_PAIR_KEYS,
    assert_problem,
    assert_unauthorized,
    assert_validation_problem,
    error_locs,
    get_me,
    try_login,
    try_refresh,
)
from tests.factories import DEFAULT_PASSWORD, register


async def submit_form(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def test_token_form_returns_a_bearer_token_pair(client: httpx.AsyncClient) -> None:
    user = await register(client)

    response = await submit_form(client, user["email"], DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == TOKEN_PAIR_KEYS
    assert pair["token_type"] == "bearer"
    assert isinstance(pair["expires_in"], int)


async def test_token_form_tokens_work_like_login_tokens(client: httpx.AsyncClient) -> None:
    user = await register(client)
    pair = (await submit_form(client, user["email"], DEFAULT_PASSWORD)).json()

    me = await get_me(client, pair["access_token"])
    refreshed = await try_refresh(client, pair["refresh_token"])

    assert me.status_code == 200, me.text
    assert me.json()["id"] == user["id"]
    assert refreshed.status_code == 200, refreshed.text


async def test_token_form_username_is_case_insensitive(client: httpx.AsyncClient) -> None:
    user = await register(client)

    response = await submit_form(client, user["email"].upper(), DEFAULT_PASSWORD)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "wrong",
    ["wrong-password", "unknown-email"],
)
async def test_token_form_fails_exactly_like_login(client: httpx.AsyncClient, wrong: str) -> None:
    user = await register(client)
    email = user["email"] if wrong == "wrong-password" else "nobody-here@example.com"
    password = "wrong password" if wrong == "wrong-password" else DEFAULT_PASSWORD

    form = await submit_form(client, email, password)
    json_login = await try_login(client, email, password)

    form_body = assert_unauthorized(form)
    login_body = assert_unauthorized(json_login)
    for member in ("status", "type", "title", "detail"):
        assert form_body[member] == login_body[member]


async def test_token_form_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)

    wrong = assert_unauthorized(await submit_form(client, user["email"], "wrong password"))
    unknown = assert_unauthorized(await submit_form(client, "nobody@example.com", "whatever1"))

    for member in ("status", "type", "title", "detail"):
        assert wrong[member] == unknown[member]


@pytest.mark.parametrize(
    ("form", "expected_loc"),
    [
        ({"username": "someone@example.com"}, ("body", "password")),
        ({"password": DEFAULT_PASSWORD}, ("body", "username")),
    ],
    ids=["missing-password", "missing-username"],
)
async def test_token_form_missing_field_is_422_problem(
    client: httpx.AsyncClient, form: dict[str, str], expected_loc: tuple[str, ...]
) -> None:
    errors = assert_validation_problem(await client.post(TOKEN, data=form))

    assert expected_loc in error_locs(errors)


async def test_token_form_refuses_a_json_body(client: httpx.AsyncClient) -> None:
    user = await register(client)

    response = await client.post(
        TOKEN, json={"username": user["email"], "password": DEFAULT_PASSWORD}
    )

    assert response.status_code in {415, 422}, response.text
    assert_problem(response, response.status_code)
