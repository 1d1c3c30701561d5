"""Which address a per-address limit counts: the socket peer, or X-Forwarded-For when the
peer is a trusted proxy. Probed through the sign-in limit ("2/minute") on /auth/refresh,
which answers 401 to a junk token until the address is limited."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import AppFactory
from tests.security.helpers import REFRESH, assert_rate_limited, client_at

LIMIT = "2/minute"
PROXY = "10.0.0.1"
SECOND_PROXY = "10.0.0.2"


async def attempt(
    app: FastAPI, peer: str, forwarded_for: str | bytes | None = None
) -> httpx.Response:
    value = forwarded_for.encode() if isinstance(forwarded_for, str) else forwarded_for
    headers = [] if value is None else [(b"X-Forwarded-For", value)]
    async with client_at(app, peer) as http:
        return await http.post(REFRESH, json={"refresh_token": "junk"}, headers=headers)


async def test_spoofed_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(
    make_app: AppFactory,
) -> None:
    app = make_app(rate_limit_auth=LIMIT, trusted_proxies=PROXY)

    first = await attempt(app, "203.0.113.5", "1.1.1.1")
    second = await attempt(app, "203.0.113.5", "1.1.1.2")
    third = await attempt(app, "203.0.113.5", "1.1.1.3")

    assert [first.status_code, second.status_code] == [401, 401]
    assert_rate_limited(third, 2)


async def test_forwarded_for_is_ignored_when_no_proxy_is_trusted(make_app: AppFactory) -> None:
    app = make_app(rate_limit_auth=LIMIT)

    for client in ("1.1.1.1", "1.1.1.2"):
        assert (await attempt(app, PROXY, client)).status_code == 401

    assert_rate_limited(await attempt(app, PROXY, "1.1.1.3"), 2)


async def test_trusted_proxy_forwarded_clients_get_separate_limits(make_app: AppFactory) -> None:
    app = make_app(rate_limit_auth=LIMIT, trusted_proxies=PROXY)

    for _ in range(2):
        assert (await attempt(app, PROXY, "198.51.100.1")).status_code == 401
    limited = await attempt(app, PROXY, "198.51.100.1")
    other_client = await attempt(app, PROXY, "198.51.100.2")
    proxy_itself = await attempt(app, PROXY)

    assert_rate_limited(limited, 2)
    assert other_client.status_code == 401
    assert proxy_itself.status_code == 401  # without the header, the proxy is the client


async def test_trusted_proxy_cidr_is_honoured(make_app: AppFactory) -> None:
    app = make_app(rate_limit_auth=LIMIT, trusted_proxies="10.0.0.0/8")

    for _ in range(2):
        assert (await attempt(app, "10.9.8.7", "198.51.100.3")).status_code == 401
    assert_rate_limited(await attempt(app, "10.1.2.3", "198.51.100.3"), 2)
    assert (await attempt(app, "10.1.2.3", "198.51.100.4")).status_code == 401


async def test_chain_through_trusted_proxies_picks_the_rightmost_untrusted_hop(
    make_app: AppFactory,
) -> None:
    app = make_app(rate_limit_auth=LIMIT, trusted_proxies=f"{PROXY},{SECOND_PROXY}")
    client = "198.51.100.7"

    # The leftmost entries are whatever the client sent: they must not change the key.
    first = await attempt(app, PROXY, f"6.6.6.6, {client}, {SECOND_PROXY}")
    second = await attempt(app, PROXY, f"7.7.7.7, {client}, {SECOND_PROXY}")
    third = await attempt(app, PROXY, f"{client}, {SECOND_PROXY}")
    neighbour = await attempt(app, PROXY, f"{client}, 198.51.100.8, {SECOND_PROXY}")

    assert [first.status_code, second.status_code] == [401, 401]
    assert_rate_limited(third, 2)
    assert neighbour.status_code == 401


GARBAGE = [
    b"not-an-ip",
    b"",
    b", , ,",
    b"1.2.3.4:8080",
    b"[2001:db8::1]",
    b"999.999.999.999",
    b"198.51.100.9, garbage",
    b"\xc3\xa9\xff\x00",
    b"2.2.2.2," * 2_000 + b"bogus",
]


async def test_garbage_forwarded_for_neither_crashes_nor_dodges_the_limit(
    make_app: AppFactory,
) -> None:
    app = make_app(rate_limit_auth=LIMIT, trusted_proxies="10.0.0.0/24")

    for n, garbage in enumerate(GARBAGE):
        proxy = f"10.0.0.{n + 10}"  # a proxy per case: each case has a bucket of its own
        answers = [await attempt(app, proxy, garbage + str(i).encode()) for i in range(3)]

        assert [answer.status_code for answer in answers[:2]] == [401, 401], garbage[:40]
        assert_rate_limited(answers[2], 2)
