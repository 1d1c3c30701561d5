"""POST /api/v1/auth/refresh: rotation, reuse detection, expiry."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from taskapi.auth.models import RefreshToken
from tests.auth.helpers import (
    TOKEN_PAIR_KEYS,
    assert_problem,
    assert_unauthorized,
    assert_validation_problem,
    get_me,
    try_refresh,
    unverified_claims,
)
from tests.conftest import AppFactory, client_for
from tests.factories import login, signed_in_user


async def test_refresh_returns_a_new_token_pair(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await try_refresh(client, user.refresh_token)

    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == TOKEN_PAIR_KEYS
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != user.refresh_token
    assert pair["access_token"] != user.access_token


async def test_refreshed_access_token_belongs_to_the_same_user(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    pair = (await try_refresh(client, user.refresh_token)).json()

    assert unverified_claims(pair["access_token"])["sub"] == user.id
    me = await get_me(client, pair["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id


async def test_new_refresh_token_can_be_refreshed_again(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    second = (await try_refresh(client, user.refresh_token)).json()

    third = await try_refresh(client, second["refresh_token"])

    assert third.status_code == 200, third.text


async def test_spent_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    assert (await try_refresh(client, user.refresh_token)).status_code == 200

    assert_unauthorized(await try_refresh(client, user.refresh_token))


async def test_reused_refresh_token_revokes_the_newest_token_of_its_session(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    newest = (await try_refresh(client, user.refresh_token)).json()["refresh_token"]

    assert_unauthorized(await try_refresh(client, user.refresh_token))

    assert_unauthorized(await try_refresh(client, newest))


async def test_reuse_detection_covers_every_later_token_of_the_session(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)
    second = (await try_refresh(client, user.refresh_token)).json()["refresh_token"]
    third = (await try_refresh(client, second)).json()["refresh_token"]

    assert_unauthorized(await try_refresh(client, second))

    assert_unauthorized(await try_refresh(client, third))


async def test_reused_refresh_token_revokes_its_session_only(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    other_session = await login(client, user.email)
    await try_refresh(client, user.refresh_token)

    assert_unauthorized(await try_refresh(client, user.refresh_token))

    response = await try_refresh(client, other_session["refresh_token"])
    assert response.status_code == 200, response.text


async def test_reuse_by_one_user_leaves_other_users_sessions_working(
    client: httpx.AsyncClient,
) -> None:
    alice = await signed_in_user(client)
    bob = await signed_in_user(client)
    await try_refresh(client, alice.refresh_token)

    assert_unauthorized(await try_refresh(client, alice.refresh_token))

    assert (await try_refresh(client, bob.refresh_token)).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["garbage", secrets.token_urlsafe(32), "x" * 512],
    ids=["garbage", "random-unknown", "max-length"],
)
async def test_unknown_refresh_token_is_401(client: httpx.AsyncClient, token: str) -> None:
    await signed_in_user(client)

    assert_unauthorized(await try_refresh(client, token))


async def test_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    response = await try_refresh(client, user.access_token)

    assert response.status_code in {401, 422}, response.text
    assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": ""}, {"refresh_token": 42}, {"refresh_token": "x", "user_id": "y"}],
    ids=["missing", "empty", "number", "unknown-field"],
)
async def test_malformed_refresh_request_is_422(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    assert_validation_problem(await client.post("/api/v1/auth/refresh", json=body))


async def test_refresh_token_is_stored_only_as_a_hash(
    client: httpx.AsyncClient, raw_engine: AsyncEngine
) -> None:
    user = await signed_in_user(client)

    async with raw_engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM refresh_tokens"))).all()

    assert len(rows) == 1
    assert all(user.refresh_token not in str(value) for value in rows[0])


@pytest.mark.usefixtures("app")  # its teardown empties the tables
async def test_expired_refresh_token_is_401(
    app_factory: AppFactory, raw_engine: AsyncEngine
) -> None:
    async with client_for(app_factory(refresh_token_ttl=300)) as http:
        user = await signed_in_user(http)
        async with raw_engine.begin() as connection:
            created_at, expires_at = (
                await connection.execute(
                    select(col(RefreshToken.created_at), col(RefreshToken.expires_at))
                )
            ).one()
            assert expires_at - created_at == timedelta(seconds=300)
            aged = await connection.execute(
                update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            assert aged.rowcount == 1

        response = await try_refresh(http, user.refresh_token)

    assert_unauthorized(response)


@pytest.mark.usefixtures("app")
async def test_refresh_token_within_its_lifetime_still_works(
    app_factory: AppFactory, raw_engine: AsyncEngine
) -> None:
    """The control for the expiry test: only the moved expiry makes the difference."""
    async with client_for(app_factory(refresh_token_ttl=300)) as http:
        user = await signed_in_user(http)
        async with raw_engine.begin() as connection:
            await connection.execute(
                update(RefreshToken).values(expires_at=datetime.now(UTC) + timedelta(seconds=60))
            )

        response = await try_refresh(http, user.refresh_token)

    assert response.status_code == 200, response.text
