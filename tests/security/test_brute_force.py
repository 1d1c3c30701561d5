"""Password guessing: failed sign-ins lock an (account, address) pair, then the account."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import AppFactory
from tests.core.problems import assert_problem
from tests.security.helpers import (
    PASSWORD,
    TOKEN,
    WRONG_PASSWORD,
    client_at,
    login,
    new_email,
    register,
)

PER_ADDRESS = "3/15minutes"


async def new_user(app_factory: AppFactory) -> str:
    async with client_at(app_factory(), "192.0.2.1") as http:
        return await register(http)


async def attempts_from(
    app: Any, address: str, email: str, passwords: list[str]
) -> list[httpx.Response]:
    async with client_at(app, address) as http:
        return [await login(http, email, password) for password in passwords]


async def test_three_wrong_passwords_lock_the_address_out_even_with_the_right_password(
    make_app: AppFactory,
) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)

    answers = await attempts_from(app, "198.51.100.60", email, [WRONG_PASSWORD] * 3 + [PASSWORD])

    assert [answer.status_code for answer in answers[:3]] == [401, 401, 401]
    assert_problem(answers[3], 429)
    assert int(answers[3].headers["Retry-After"]) > 0
    assert "access_token" not in answers[3].text


async def test_the_oauth2_token_route_shares_the_lock(make_app: AppFactory) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)
    await attempts_from(app, "198.51.100.61", email, [WRONG_PASSWORD] * 3)

    async with client_at(app, "198.51.100.61") as http:
        answer = await http.post(TOKEN, data={"username": email, "password": PASSWORD})

    assert_problem(answer, 429)


async def test_locked_account_still_signs_in_from_another_address(make_app: AppFactory) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)
    await attempts_from(app, "198.51.100.62", email, [WRONG_PASSWORD] * 3)

    [answer] = await attempts_from(app, "198.51.100.63", email, [PASSWORD])

    assert answer.status_code == 200, answer.text


async def test_another_account_still_signs_in_from_the_locked_address(
    make_app: AppFactory,
) -> None:
    victim, bystander = await new_user(make_app), await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)
    await attempts_from(app, "198.51.100.64", victim, [WRONG_PASSWORD] * 3)

    [answer] = await attempts_from(app, "198.51.100.64", bystander, [PASSWORD])

    assert answer.status_code == 200, answer.text


async def test_unknown_email_gets_the_same_answers_as_an_existing_account(
    make_app: AppFactory,
) -> None:
    existing = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)
    sequence = [WRONG_PASSWORD] * 4 + [PASSWORD]

    known = await attempts_from(app, "198.51.100.65", existing, sequence)
    unknown = await attempts_from(
        app, "198.51.100.65", new_email(), [*sequence[:4], WRONG_PASSWORD]
    )

    assert [answer.status_code for answer in known] == [401, 401, 401, 429, 429]
    assert [answer.status_code for answer in unknown] == [401, 401, 401, 429, 429]
    assert [answer.json() for answer in unknown] == [answer.json() for answer in known]
    for mine, theirs in zip(known, unknown, strict=True):
        assert set(mine.headers) == set(theirs.headers)
        assert mine.headers.get("www-authenticate") == theirs.headers.get("www-authenticate")


async def test_successful_sign_in_clears_the_failures_of_that_address(
    make_app: AppFactory,
) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS)
    passwords = [WRONG_PASSWORD, WRONG_PASSWORD, PASSWORD, WRONG_PASSWORD, WRONG_PASSWORD, PASSWORD]

    answers = await attempts_from(app, "198.51.100.66", email, passwords)

    # Without the reset, the failures before and after the success would add up to a lock.
    assert [answer.status_code for answer in answers] == [401, 401, 200, 401, 401, 200]


async def test_per_account_ceiling_locks_the_account_from_every_address(
    make_app: AppFactory,
) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit=PER_ADDRESS, login_failure_limit_account="4/hour")

    first = await attempts_from(app, "198.51.100.67", email, [WRONG_PASSWORD] * 2)
    second = await attempts_from(app, "198.51.100.68", email, [WRONG_PASSWORD] * 2)
    [fresh_address] = await attempts_from(app, "198.51.100.69", email, [PASSWORD])

    assert [answer.status_code for answer in first + second] == [401] * 4
    assert_problem(fresh_address, 429)


async def test_lock_ends_when_the_window_has_passed(make_app: AppFactory) -> None:
    email = await new_user(make_app)
    app = make_app(login_failure_limit="2/3seconds")  # room for a slow machine

    locked = await attempts_from(app, "198.51.100.70", email, [WRONG_PASSWORD] * 2 + [PASSWORD])
    await asyncio.sleep(3.3)
    [after_window] = await attempts_from(app, "198.51.100.70", email, [PASSWORD])

    assert [answer.status_code for answer in locked] == [401, 401, 429]
    assert after_window.status_code == 200, after_window.text
