"""Task API trusting a real Better Auth 1.7.25 server (tests/interop/better_auth.py).

Users sign up at Better Auth, get JWTs from /api/auth/token and use them on
/api/v1/…: the first request provisions a local user; tampered, expired and foreign
tokens are refused; ES256 and key rotation work; built-in accounts coexist.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.auth.helpers import count_rows_of_user, forge_access_token
from tests.conftest import AppFactory
from tests.core.problems import assert_problem
from tests.factories import create_task as create_builtin_task
from tests.factories import register, signed_in_user
from tests.interop.better_auth import BetterAuthServer, start_better_auth
from tests.interop.task_api import (
    ME,
    TASKS,
    BetterAuthUser,
    assert_unauthorized,
    bearer,
    better_auth_user,
    client_of,
    create_task,
    list_ids,
    trusting,
    unverified_claims,
)

# --- extra Better Auth servers, one of each kind per module (shared by both backends) ---


@pytest.fixture(scope="module")
def expiring_server(better_auth_installed: None) -> Iterator[BetterAuthServer]:
    with start_better_auth(JWT_EXPIRATION="2s") as server:
        yield server


@pytest.fixture(scope="module")
def impostor_server(
    better_auth_server: BetterAuthServer,
) -> Iterator[BetterAuthServer]:
    """Claims to be the main server (same iss and aud) but signs with its own keys."""
    with start_better_auth(
        JWT_ISSUER=better_auth_server.origin, JWT_AUDIENCE=better_auth_server.origin
    ) as server:
        yield server


@pytest.fixture(scope="module")
def other_server(better_auth_installed: None) -> Iterator[BetterAuthServer]:
    """A second Better Auth with its own issuer (its own origin)."""
    with start_better_auth() as server:
        yield server


@pytest.fixture(scope="module")
def es256_server(better_auth_installed: None) -> Iterator[BetterAuthServer]:
    with start_better_auth(JWT_ALG="ES256") as server:
        yield server


@pytest.fixture(scope="module")
def rotating_server(better_auth_installed: None) -> Iterator[BetterAuthServer]:
    with start_better_auth(JWKS_ROTATION_INTERVAL=1) as server:
        yield server


@pytest.fixture(scope="module")
def alice(better_auth_server: BetterAuthServer) -> BetterAuthUser:
    """Signed up once per module (sign-up costs Better Auth ~0.4 s); the local user is
    provisioned anew in each test, whose tables start empty."""
    return better_auth_user(better_auth_server, "Alice Liddell")


@pytest.fixture(scope="module")
def bob(better_auth_server: BetterAuthServer) -> BetterAuthUser:
    return better_auth_user(better_auth_server, "Bob Builder")


@pytest.fixture
async def ba_client(
    app: FastAPI, app_factory: AppFactory, better_auth_server: BetterAuthServer
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app trusting the session's Better Auth server.

    ``app`` is requested for its teardown, which empties the tables.
    """
    async with client_of(trusting(app_factory, better_auth_server)) as http:
        yield http


# --- the happy path ------------------------------------------------------------------------


async def test_two_users_manage_their_tasks_with_better_auth_tokens(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    for user in (alice, bob):
        created = await create_task(ba_client, user.headers, title=f"{user.name}'s first")
        task_id = created["id"]
        assert created["completed"] is False

        assert await list_ids(ba_client, user.headers) == [task_id]
        fetched = await ba_client.get(f"{TASKS}/{task_id}", headers=user.headers)
        assert fetched.status_code == 200
        assert fetched.json()["title"] == f"{user.name}'s first"

        patched = await ba_client.patch(
            f"{TASKS}/{task_id}", json={"title": "Renamed"}, headers=user.headers
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["title"] == "Renamed"

        completed = await ba_client.post(f"{TASKS}/{task_id}/complete", headers=user.headers)
        assert completed.status_code == 200, completed.text
        assert completed.json()["completed"] is True

        deleted = await ba_client.delete(f"{TASKS}/{task_id}", headers=user.headers)
        assert deleted.status_code == 204
        gone = await ba_client.get(f"{TASKS}/{task_id}", headers=user.headers)
        assert_problem(gone, 404)
        assert await list_ids(ba_client, user.headers) == []


async def test_users_me_shows_the_provisioned_user(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    response = await ba_client.get(ME, headers=alice.headers)

    assert response.status_code == 200, response.text
    user = response.json()
    assert set(user) == {"id", "email", "display_name", "created_at"}
    assert user["email"] == alice.claims["email"] == alice.email
    assert user["display_name"] == alice.claims["name"] == "Alice Liddell"
    assert user["id"] != alice.sub  # a local id, not Better Auth's


async def test_same_users_second_token_maps_to_the_same_local_user(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    first = (await ba_client.get(ME, headers=alice.headers)).json()
    task = await create_task(ba_client, alice.headers)

    second_token = alice.new_token()
    second = await ba_client.get(ME, headers=bearer(second_token))

    assert unverified_claims(second_token)["sub"] == alice.sub
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert await list_ids(ba_client, bearer(second_token)) == [task["id"]]


async def test_other_user_gets_404_on_every_route_of_a_task(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    task = await create_task(ba_client, alice.headers, title="Alice's secret")
    url = f"{TASKS}/{task['id']}"

    responses = [
        await ba_client.get(url, headers=bob.headers),
        await ba_client.patch(url, json={"title": "Bob was here"}, headers=bob.headers),
        await ba_client.put(url, json={"title": "Bob was here"}, headers=bob.headers),
        await ba_client.post(f"{url}/complete", headers=bob.headers),
        await ba_client.delete(url, headers=bob.headers),
    ]

    for response in responses:
        assert_problem(response, 404)
    unchanged = (await ba_client.get(url, headers=alice.headers)).json()
    assert unchanged["title"] == "Alice's secret"
    assert unchanged["completed"] is False


async def test_other_users_list_never_shows_my_tasks(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    alice_tasks = {(await create_task(ba_client, alice.headers))["id"] for _ in range(3)}
    bob_task = await create_task(ba_client, bob.headers)

    assert set(await list_ids(ba_client, alice.headers)) == alice_tasks
    assert await list_ids(ba_client, bob.headers) == [bob_task["id"]]
    for status in ("pending", "completed"):
        listed = await ba_client.get(TASKS, params={"status": status}, headers=bob.headers)
        assert not alice_tasks & {task["id"] for task in listed.json()["items"]}


# --- refused tokens ---------------------------------------------------------------------------


def _with_payload(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


async def test_tampered_token_is_401_with_a_bearer_challenge(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser, bob: BetterAuthUser
) -> None:
    await create_task(ba_client, bob.headers)
    later = int(time.time()) + 86_400

    for forged in (
        _with_payload(alice.token, sub=bob.sub, id=bob.sub),  # become Bob
        _with_payload(alice.token, exp=later),  # live longer
        _with_payload(alice.token, email="admin@example.com"),
    ):
        response = await ba_client.get(TASKS, headers=bearer(forged))
        assert_unauthorized(response)


async def test_expired_better_auth_token_is_401(
    app: FastAPI, app_factory: AppFactory, expiring_server: BetterAuthServer
) -> None:
    alice = better_auth_user(expiring_server)
    assert alice.claims["exp"] - alice.claims["iat"] == 2
    async with client_of(trusting(app_factory, expiring_server, auth_leeway_seconds=0)) as http:
        fresh = await http.get(ME, headers=alice.headers)
        assert fresh.status_code == 200, fresh.text

        await asyncio.sleep(max(0.0, alice.claims["exp"] + 0.5 - time.time()))
        expired = await http.get(ME, headers=alice.headers)

    assert_unauthorized(expired)


async def test_token_from_an_instance_claiming_the_same_issuer_is_401(
    ba_client: httpx.AsyncClient,
    better_auth_server: BetterAuthServer,
    impostor_server: BetterAuthServer,
    alice: BetterAuthUser,
) -> None:
    genuine = alice
    assert (await ba_client.get(ME, headers=genuine.headers)).status_code == 200
    impostor = better_auth_user(impostor_server)
    assert impostor.claims["iss"] == better_auth_server.origin
    assert impostor.claims["aud"] == better_auth_server.origin

    assert_unauthorized(await ba_client.get(ME, headers=impostor.headers))
    assert_unauthorized(await ba_client.get(TASKS, headers=impostor.headers))


async def test_token_from_an_instance_with_its_own_issuer_is_401(
    ba_client: httpx.AsyncClient, other_server: BetterAuthServer
) -> None:
    stranger = better_auth_user(other_server)

    assert_unauthorized(await ba_client.get(ME, headers=stranger.headers))


# --- algorithms and keys ------------------------------------------------------------------------


async def test_es256_tokens_are_accepted_when_allowed(
    app: FastAPI, app_factory: AppFactory, es256_server: BetterAuthServer
) -> None:
    alice = better_auth_user(es256_server)
    assert jwt.get_unverified_header(alice.token)["alg"] == "ES256"

    async with client_of(trusting(app_factory, es256_server)) as http:
        me = await http.get(ME, headers=alice.headers)
        created = await http.post(TASKS, json={"title": "ES256"}, headers=alice.headers)

    assert me.status_code == 200, me.text
    assert me.json()["email"] == alice.email
    assert created.status_code == 201


async def test_es256_tokens_are_refused_when_not_allowed(
    app: FastAPI, app_factory: AppFactory, es256_server: BetterAuthServer
) -> None:
    alice = better_auth_user(es256_server)

    async with client_of(trusting(app_factory, es256_server, auth_algorithms=["EdDSA"])) as http:
        response = await http.get(ME, headers=alice.headers)

    assert_unauthorized(response)


async def test_rotated_in_key_is_accepted_within_the_refetch_floor(
    app: FastAPI, app_factory: AppFactory, rotating_server: BetterAuthServer
) -> None:
    floor = 1.0
    alice = better_auth_user(rotating_server)
    old_kid = jwt.get_unverified_header(alice.token)["kid"]
    application = trusting(app_factory, rotating_server, auth_jwks_min_refetch_seconds=floor)
    async with client_of(application) as http:
        assert (await http.get(ME, headers=alice.headers)).status_code == 200  # keys loaded
        await asyncio.sleep(1.2)  # Better Auth rotates after 1 s
        new_token = alice.new_token()
        new_kid = jwt.get_unverified_header(new_token)["kid"]
        assert new_kid != old_kid

        issued = time.monotonic()
        response = await http.get(ME, headers=bearer(new_token))
        while response.status_code == 401 and time.monotonic() - issued < floor + 0.5:
            await asyncio.sleep(0.1)
            response = await http.get(ME, headers=bearer(new_token))
        accepted_after = time.monotonic() - issued
        old_still_valid = await http.get(ME, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert accepted_after <= floor + 0.5
    assert old_still_valid.status_code == 200  # the old key stays published


# --- built-in accounts and configuration -------------------------------------------------------


async def test_built_in_accounts_and_better_auth_tokens_work_side_by_side(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    external = alice
    built_in = await signed_in_user(ba_client)
    # A built-in account with the external user's address stays a separate account.
    namesake = await register(ba_client, email=external.email)

    external_task = await create_task(ba_client, external.headers, title="external")
    built_in_task = await create_builtin_task(ba_client, built_in, title="built-in")

    external_me = (await ba_client.get(ME, headers=external.headers)).json()
    built_in_me = (await ba_client.get(ME, headers=built_in.headers)).json()
    assert external_me["email"] == external.email
    assert built_in_me["id"] == built_in.id
    assert len({external_me["id"], built_in_me["id"], namesake["id"]}) == 3
    assert await list_ids(ba_client, external.headers) == [external_task["id"]]
    assert await list_ids(ba_client, built_in.headers) == [built_in_task["id"]]
    assert_problem(
        await ba_client.get(f"{TASKS}/{built_in_task['id']}", headers=external.headers), 404
    )


async def test_without_local_auth_built_in_routes_are_404_and_better_auth_works(
    app: FastAPI,
    app_factory: AppFactory,
    better_auth_server: BetterAuthServer,
    alice: BetterAuthUser,
) -> None:
    credentials = {"email": "someone@example.com", "password": "long enough password"}

    async with client_of(trusting(app_factory, better_auth_server, local_auth=False)) as http:
        for path in ("register", "login", "refresh", "logout"):
            response = await http.post(f"/api/v1/auth/{path}", json=credentials)
            assert_problem(response, 404)
        form = await http.post(
            "/api/v1/auth/token", data={"username": "someone", "password": "long enough"}
        )
        assert_problem(form, 404)
        me = await http.get(ME, headers=alice.headers)
        assert me.status_code == 200, me.text
        created = await http.post(TASKS, json={"title": "still works"}, headers=alice.headers)
        # A token shaped like a built-in one (right secret even) is not accepted either.
        local_token = forge_access_token(me.json()["id"])
        local = await http.get(ME, headers=bearer(local_token))

    assert created.status_code == 201
    assert_unauthorized(local)


# --- the external user's own account --------------------------------------------------------


async def test_deleting_an_external_account_refuses_its_old_tokens(
    ba_client: httpx.AsyncClient,
    better_auth_server: BetterAuthServer,
    raw_engine: AsyncEngine,
) -> None:
    carol = better_auth_user(better_auth_server, "Carol Leaving")
    old_id = (await ba_client.get(ME, headers=carol.headers)).json()["id"]
    for title in ("one", "two"):
        await create_task(ba_client, carol.headers, title=title)

    deleted = await ba_client.request("DELETE", ME, json={}, headers=carol.headers)

    assert deleted.status_code == 204, deleted.text
    assert await count_rows_of_user(raw_engine, "tasks", old_id) == 0
    assert await count_rows_of_user(raw_engine, "users", old_id, key="id") == 0
    # The same token must not bring back a new, empty account.
    assert_unauthorized(await ba_client.get(ME, headers=carol.headers))
    assert_unauthorized(await ba_client.get(TASKS, headers=carol.headers))
    assert_unauthorized(await ba_client.post(TASKS, json={"title": "x"}, headers=carol.headers))


async def test_token_issued_after_the_deletion_provisions_a_fresh_account(
    ba_client: httpx.AsyncClient, better_auth_server: BetterAuthServer
) -> None:
    carol = better_auth_user(better_auth_server, "Carol Leaving")
    old_id = (await ba_client.get(ME, headers=carol.headers)).json()["id"]
    await create_task(ba_client, carol.headers)
    deleted = await ba_client.request("DELETE", ME, json={}, headers=carol.headers)
    assert deleted.status_code == 204, deleted.text

    await asyncio.sleep(1.1)  # iat has one-second resolution: the new token must be later
    new_token = carol.new_token()
    assert unverified_claims(new_token)["iat"] > carol.claims["iat"]
    response = await ba_client.get(ME, headers=bearer(new_token))

    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["id"] != old_id
    assert fresh["email"] == carol.email
    assert await list_ids(ba_client, bearer(new_token)) == []


async def test_external_user_cannot_change_a_password(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    response = await ba_client.post(
        f"{ME}/password",
        json={"current_password": "whatever it is", "new_password": "a brand new password"},
        headers=alice.headers,
    )

    assert_problem(response, 403)
    assert (await ba_client.get(ME, headers=alice.headers)).status_code == 200


async def test_external_user_can_change_the_display_name(
    ba_client: httpx.AsyncClient, alice: BetterAuthUser
) -> None:
    response = await ba_client.patch(ME, json={"display_name": "Al"}, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Al"
