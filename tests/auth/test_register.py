"""POST /api/v1/auth/register."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.auth.helpers import (
    REGISTER,
    USER_KEYS,
    assert_problem,
    assert_validation_problem,
    error_locs,
    try_login,
)
from tests.factories import DEFAULT_PASSWORD, register

EmailFactory = Callable[[], str]


async def test_register_returns_201_with_exactly_the_public_user_fields(
    client: httpx.AsyncClient, unique_email: EmailFactory
) -> None:
    email = unique_email()
    response = await client.post(
        REGISTER, json={"email": email, "password": DEFAULT_PASSWORD, "display_name": "Ada"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_KEYS
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert body["email"] == email
    assert body["display_name"] == "Ada"
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=1)


async def test_register_response_never_contains_the_password_or_its_hash(
    client: httpx.AsyncClient, unique_email: EmailFactory
) -> None:
    password = "Distinctive-Pa55word"
    response = await client.post(REGISTER, json={"email": unique_email(), "password": password})

    assert response.status_code == 201, response.text
    assert password not in response.text
    assert "argon2" not in response.text.lower()
    assert "hash" not in response.text.lower()


async def test_register_without_display_name_gives_null_display_name(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)

    assert user["display_name"] is None


async def test_register_trims_the_display_name(client: httpx.AsyncClient) -> None:
    user = await register(client, display_name="  Grace Hopper  ")

    assert user["display_name"] == "Grace Hopper"


async def test_register_twice_gives_each_account_its_own_id(client: httpx.AsyncClient) -> None:
    first = await register(client)
    second = await register(client)

    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    "password",
    ["p" * 8, "p" * 128, "é" * 128],
    ids=["8-chars", "128-chars", "128-non-ascii-chars"],
)
async def test_register_accepts_passwords_of_8_to_128_characters(
    client: httpx.AsyncClient, unique_email: EmailFactory, password: str
) -> None:
    email = unique_email()
    response = await client.post(REGISTER, json={"email": email, "password": password})

    assert response.status_code == 201, response.text
    assert (await try_login(client, email, password)).status_code == 200


# --- 409 -------------------------------------------------------------------------------


async def test_register_with_a_taken_email_is_409_and_keeps_the_first_account(
    client: httpx.AsyncClient, unique_email: EmailFactory
) -> None:
    email = unique_email()
    await register(client, email=email)

    response = await client.post(REGISTER, json={"email": email, "password": "another password"})

    assert_problem(response, 409)
    assert (await try_login(client, email, DEFAULT_PASSWORD)).status_code == 200
    assert (await try_login(client, email, "another password")).status_code == 401


@pytest.mark.parametrize(
    "respell",
    [str.upper, str.title, lambda email: email.replace("user", "USER", 1)],
    ids=["upper", "title", "local-part-upper"],
)
async def test_register_with_a_taken_email_in_other_case_is_409(
    client: httpx.AsyncClient, unique_email: EmailFactory, respell: Callable[[str], str]
) -> None:
    email = unique_email()
    await register(client, email=email)

    response = await client.post(
        REGISTER, json={"email": respell(email), "password": "another password"}
    )

    assert_problem(response, 409)
    assert (await try_login(client, email, "another password")).status_code == 401


# --- 422 -------------------------------------------------------------------------------

VALID = DEFAULT_PASSWORD
INVALID_BODIES: list[tuple[str, Callable[[str], Any], tuple[str | int, ...]]] = [
    ("invalid-email", lambda e: {"email": "not-an-email", "password": VALID}, ("body", "email")),
    ("email-without-domain", lambda e: {"email": "user@", "password": VALID}, ("body", "email")),
    ("password-7-chars", lambda e: {"email": e, "password": "p" * 7}, ("body", "password")),
    ("password-129-chars", lambda e: {"email": e, "password": "p" * 129}, ("body", "password")),
    ("password-spaces-only", lambda e: {"email": e, "password": " " * 12}, ("body", "password")),
    (
        "password-whitespace-only",
        lambda e: {"email": e, "password": "\t \n \t \n "},
        ("body", "password"),
    ),
    (
        "unknown-field",
        lambda e: {"email": e, "password": VALID, "nickname": "ada"},
        ("body", "nickname"),
    ),
    (
        "server-owned-id",
        lambda e: {"email": e, "password": VALID, "id": str(uuid.uuid4())},
        ("body", "id"),
    ),
    (
        "server-owned-created-at",
        lambda e: {"email": e, "password": VALID, "created_at": "2026-01-01T00:00:00Z"},
        ("body", "created_at"),
    ),
    (
        "password-hash-field",
        lambda e: {"email": e, "password": VALID, "password_hash": "$argon2id$v=19$x"},
        ("body", "password_hash"),
    ),
    ("email-not-a-string", lambda e: {"email": 123, "password": VALID}, ("body", "email")),
    ("password-not-a-string", lambda e: {"email": e, "password": 12345678}, ("body", "password")),
    (
        "display-name-not-a-string",
        lambda e: {"email": e, "password": VALID, "display_name": 42},
        ("body", "display_name"),
    ),
    (
        "display-name-101-chars",
        lambda e: {"email": e, "password": VALID, "display_name": "n" * 101},
        ("body", "display_name"),
    ),
    (
        "display-name-blank",
        lambda e: {"email": e, "password": VALID, "display_name": "   "},
        ("body", "display_name"),
    ),
    ("missing-email", lambda e: {"password": VALID}, ("body", "email")),
    ("missing-password", lambda e: {"email": e}, ("body", "password")),
    ("empty-object", lambda e: {}, ("body", "email")),
    ("json-array", lambda e: [e, VALID], ("body",)),
]


@pytest.mark.parametrize(
    ("make_body", "expected_loc"),
    [(make, loc) for _, make, loc in INVALID_BODIES],
    ids=[name for name, _, _ in INVALID_BODIES],
)
async def test_invalid_registration_is_422_problem_naming_the_field(
    client: httpx.AsyncClient,
    unique_email: EmailFactory,
    make_body: Callable[[str], Any],
    expected_loc: tuple[str | int, ...],
) -> None:
    response = await client.post(REGISTER, json=make_body(unique_email()))

    errors = assert_validation_problem(response)
    assert expected_loc in error_locs(errors)


REJECTED_WITH_VALID_EMAIL: list[tuple[str, dict[str, Any]]] = [
    ("password-7-chars", {"password": "p" * 7}),
    ("password-whitespace-only", {"password": " " * 10}),
    ("unknown-field", {"password": VALID, "nickname": "ada"}),
    ("server-owned-id", {"password": VALID, "id": str(uuid.uuid4())}),
    ("server-owned-created-at", {"password": VALID, "created_at": "2026-01-01T00:00:00Z"}),
    ("display-name-101-chars", {"password": VALID, "display_name": "n" * 101}),
]


@pytest.mark.parametrize(
    "fields",
    [fields for _, fields in REJECTED_WITH_VALID_EMAIL],
    ids=[name for name, _ in REJECTED_WITH_VALID_EMAIL],
)
async def test_rejected_registration_creates_no_account(
    client: httpx.AsyncClient, unique_email: EmailFactory, fields: dict[str, Any]
) -> None:
    email = unique_email()
    assert_validation_problem(await client.post(REGISTER, json={"email": email, **fields}))

    assert (await try_login(client, email, fields["password"])).status_code == 401
    again = await client.post(REGISTER, json={"email": email, "password": VALID})
    assert again.status_code == 201, again.text


SECRET_PASSWORDS: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("too-short", lambda e: {"email": e, "password": "Zq7#vW!"}),
    ("too-long", lambda e: {"email": e, "password": "Secret-" + "k9" * 61}),
    ("invalid-email", lambda e: {"email": "nope", "password": "Zq7#vW!-valid-length"}),
    ("unknown-field", lambda e: {"email": e, "password": "Zq7#vW!-valid", "role": "admin"}),
]


@pytest.mark.parametrize(
    "make_body",
    [make for _, make in SECRET_PASSWORDS],
    ids=[name for name, _ in SECRET_PASSWORDS],
)
async def test_validation_error_never_echoes_the_password(
    client: httpx.AsyncClient, unique_email: EmailFactory, make_body: Callable[[str], Any]
) -> None:
    body = make_body(unique_email())

    response = await client.post(REGISTER, json=body)

    assert_validation_problem(response)
    assert body["password"] not in response.text
