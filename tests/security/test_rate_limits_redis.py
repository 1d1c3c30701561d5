"""Rate limits kept in a real Redis: shared by app instances, failing safe when it is down."""

from __future__ import annotations

import asyncio
import time

import redis
from fastapi import FastAPI

from tests import servers
from tests.conftest import AppFactory
from tests.security.helpers import (
    ME,
    assert_rate_limited,
    client_at,
    login,
    new_user_headers,
    register,
    remaining,
)

RECOVERY_DEADLINE_SECONDS = 15.0


async def readiness_store(app: FastAPI) -> str:
    async with client_at(app, "192.0.2.9") as http:
        response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    store: str = response.json()["rate_limit_store"]
    return store


async def test_sign_in_limit_is_counted_in_redis(make_app: AppFactory, redis_url: str) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        email = await register(setup)
    limited = make_app(rate_limit_auth="3/minute", redis_url=redis_url)

    async with client_at(limited, "198.51.100.50") as http:
        answers = [await login(http, email) for _ in range(4)]
    async with client_at(limited, "198.51.100.51") as other:
        other_answer = await login(other, email)

    assert [answer.status_code for answer in answers[:3]] == [200] * 3
    assert [remaining(answer) for answer in answers[:3]] == [2, 1, 0]
    assert_rate_limited(answers[3], 3)
    assert other_answer.status_code == 200
    assert await readiness_store(limited) == "redis"
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.keys("taskapi*"), "nothing was counted in Redis"


async def test_api_limit_is_counted_in_redis_per_user(make_app: AppFactory, redis_url: str) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        alice, bob = await new_user_headers(setup), await new_user_headers(setup)
    limited = make_app(rate_limit_api="5/minute", redis_url=redis_url)

    async with client_at(limited, "198.51.100.52") as http:
        answers = [await http.get(ME, headers=alice) for _ in range(6)]
        bobs = await http.get(ME, headers=bob)

    assert [remaining(answer) for answer in answers[:5]] == [4, 3, 2, 1, 0]
    assert_rate_limited(answers[5], 5)
    assert bobs.status_code == 200


async def test_two_app_instances_sharing_redis_share_one_sign_in_limit(
    make_app: AppFactory, redis_url: str
) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        email = await register(setup)
    first = make_app(rate_limit_auth="3/minute", redis_url=redis_url)
    second = make_app(rate_limit_auth="3/minute", redis_url=redis_url)

    async with client_at(first, "198.51.100.53") as on_first:
        statuses = [(await login(on_first, email)).status_code for _ in range(3)]
    async with client_at(second, "198.51.100.53") as on_second:
        fourth = await login(on_second, email)

    assert statuses == [200, 200, 200]
    assert_rate_limited(fourth, 3)


async def test_two_app_instances_sharing_redis_share_one_api_limit(
    make_app: AppFactory, redis_url: str
) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        alice = await new_user_headers(setup)
    first = make_app(rate_limit_api="3/minute", redis_url=redis_url)
    second = make_app(rate_limit_api="3/minute", redis_url=redis_url)

    async with client_at(first, "198.51.100.54") as on_first:
        statuses = [(await on_first.get(ME, headers=alice)).status_code for _ in range(3)]
    async with client_at(second, "198.51.100.54") as on_second:
        fourth = await on_second.get(ME, headers=alice)

    assert statuses == [200, 200, 200]
    assert_rate_limited(fourth, 3)


async def wait_until_redis_is_used_again(apps: list[FastAPI]) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
    while True:
        stores = [await readiness_store(app) for app in apps]
        if all(store == "redis" for store in stores):
            return
        assert time.monotonic() < deadline, f"still {stores} after the Redis restart"
        await asyncio.sleep(0.25)


async def test_redis_outage_fails_open_for_api_keeps_sign_in_limits_and_recovers(
    make_app: AppFactory, own_redis: servers.RedisServer
) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        email = await register(setup)
        alice, bob = await new_user_headers(setup), await new_user_headers(setup)
    limits = {"rate_limit_auth": "3/minute", "rate_limit_api": "3/minute"}
    first = make_app(redis_url=own_redis.url, **limits)
    second = make_app(redis_url=own_redis.url, **limits)
    async with client_at(first, "198.51.100.55") as http:
        assert (await http.get(ME, headers=alice)).status_code == 200  # Redis is in use

    own_redis.stop_server_only()
    try:
        async with client_at(first, "198.51.100.55") as http:
            during_outage = [await http.get(ME, headers=alice) for _ in range(6)]
            store_during_outage = await readiness_store(first)
            sign_ins = [await login(http, email) for _ in range(4)]
    finally:
        own_redis.start_again()

    # The API limit fails open: the service keeps serving, without limit headers.
    assert [answer.status_code for answer in during_outage] == [200] * 6
    assert "RateLimit-Remaining" not in during_outage[-1].headers
    assert store_during_outage == "redis unavailable"
    # Sign-in limits never switch off: they are counted in this process meanwhile.
    assert [answer.status_code for answer in sign_ins[:3]] == [200] * 3
    assert_rate_limited(sign_ins[3], 3)

    await wait_until_redis_is_used_again([first, second])
    async with client_at(first, "198.51.100.56") as on_first:
        statuses = [(await on_first.get(ME, headers=bob)).status_code for _ in range(3)]
    async with client_at(second, "198.51.100.56") as on_second:
        fourth = await on_second.get(ME, headers=bob)
    assert statuses == [200, 200, 200]
    assert_rate_limited(fourth, 3)
    assert await readiness_store(first) == "redis"


async def test_readiness_names_the_store_in_use(make_app: AppFactory, redis_url: str) -> None:
    assert await readiness_store(make_app()) == "memory"
    assert await readiness_store(make_app(redis_url=redis_url)) == "redis"
