"""Rate limits kept in process memory: per address on sign-in routes, per user elsewhere."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import AppFactory
from tests.security.helpers import (
    LOGIN,
    ME,
    PASSWORD,
    RATE_LIMIT_HEADERS,
    REFRESH,
    REGISTER,
    TOKEN,
    assert_rate_limited,
    client_at,
    login,
    new_email,
    new_user_headers,
    register,
    remaining,
    tokens,
)

SUCCESS = {REGISTER: 201, LOGIN: 200, TOKEN: 200, REFRESH: 200}


async def sign_in_request(
    http: httpx.AsyncClient, route: str, account: dict[str, str]
) -> httpx.Response:
    """One request to ``route`` that succeeds unless it is rate limited."""
    if route == REGISTER:
        return await http.post(REGISTER, json={"email": new_email(), "password": PASSWORD})
    if route == LOGIN:
        return await login(http, account["email"])
    if route == TOKEN:
        return await http.post(TOKEN, data={"username": account["email"], "password": PASSWORD})
    response = await http.post(REFRESH, json={"refresh_token": account["refresh_token"]})
    if response.status_code == 200:
        account["refresh_token"] = response.json()["refresh_token"]
    return response


async def new_account(app_factory: AppFactory) -> dict[str, str]:
    """A user made through an unlimited app on the same database, with a refresh token."""
    async with client_at(app_factory(), "192.0.2.1") as http:
        email = await register(http)
        return {"email": email, "refresh_token": (await tokens(http, email))["refresh_token"]}


@pytest.mark.parametrize("route", [REGISTER, LOGIN, TOKEN, REFRESH])
async def test_fourth_sign_in_request_from_one_address_is_429(
    make_app: AppFactory, route: str
) -> None:
    account = await new_account(make_app)
    limited = make_app(rate_limit_auth="3/minute")

    async with client_at(limited, "198.51.100.10") as http:
        answers = [await sign_in_request(http, route, account) for _ in range(4)]

    assert [answer.status_code for answer in answers[:3]] == [SUCCESS[route]] * 3
    assert [remaining(answer) for answer in answers[:3]] == [2, 1, 0]
    assert_rate_limited(answers[3], 3)


@pytest.mark.parametrize("route", [REGISTER, LOGIN, TOKEN, REFRESH])
async def test_another_address_is_not_affected_by_a_used_up_sign_in_limit(
    make_app: AppFactory, route: str
) -> None:
    account = await new_account(make_app)
    limited = make_app(rate_limit_auth="3/minute")
    async with client_at(limited, "198.51.100.10") as http:
        for _ in range(3):
            await sign_in_request(http, route, account)
        assert (await sign_in_request(http, route, account)).status_code == 429

    async with client_at(limited, "198.51.100.11") as other:
        answer = await sign_in_request(other, route, account)

    assert answer.status_code == SUCCESS[route], answer.text
    assert remaining(answer) == 2


async def test_sixth_authenticated_request_of_a_user_is_429_and_other_users_go_on(
    make_app: AppFactory,
) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        alice, bob = await new_user_headers(setup), await new_user_headers(setup)
    limited = make_app(rate_limit_api="5/minute")

    async with client_at(limited, "198.51.100.20") as http:
        answers = [await http.get(ME, headers=alice) for _ in range(6)]
        bobs = await http.get(ME, headers=bob)
    async with client_at(limited, "198.51.100.21") as elsewhere:
        alice_elsewhere = await elsewhere.get(ME, headers=alice)

    assert [answer.status_code for answer in answers[:5]] == [200] * 5
    assert [remaining(answer) for answer in answers[:5]] == [4, 3, 2, 1, 0]
    assert_rate_limited(answers[5], 5)
    assert bobs.status_code == 200
    assert remaining(bobs) == 4
    # Per user, not per address: a new address does not reset alice's count.
    assert_rate_limited(alice_elsewhere, 5)


async def test_successful_responses_carry_every_rate_limit_header(make_app: AppFactory) -> None:
    account = await new_account(make_app)
    limited = make_app(rate_limit_auth="3/minute", rate_limit_api="5/minute")

    async with client_at(limited, "198.51.100.30") as http:
        signed_in = await login(http, account["email"])
        me = await http.get(
            ME, headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        )

    for answer, limit in ((signed_in, 3), (me, 5)):
        assert answer.status_code == 200
        assert answer.headers["RateLimit-Limit"] == str(limit)
        assert answer.headers["RateLimit-Policy"] == f"{limit};w=60"
        assert 0 < int(answer.headers["RateLimit-Reset"]) <= 60
        assert remaining(answer) == limit - 1


async def test_zero_disables_both_limits(make_app: AppFactory) -> None:
    unlimited = make_app(rate_limit_auth="0", rate_limit_api="0")
    async with client_at(unlimited, "198.51.100.40") as http:
        email = await register(http)
        logins = [await login(http, email) for _ in range(12)]
        headers = {"Authorization": f"Bearer {logins[-1].json()['access_token']}"}
        reads = [await http.get(ME, headers=headers) for _ in range(12)]

    for answer in logins + reads:
        assert answer.status_code == 200
        assert not any(name in answer.headers for name in RATE_LIMIT_HEADERS)
