"""JwksCache against a real JWKS endpoint on 127.0.0.1: refetch on unknown kid with a
floor, single flight, TTL, issuer outages, and which published keys are usable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from taskapi.auth.jwks import IssuerUnavailable, JwksCache
from tests.external.issuer import JwksServer, SigningKeyPair, ed25519_key, es256_key, rsa_key

FLOOR = 5.0
TTL = 300.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_cache(
    server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: Any = None,
    *,
    ttl: float = TTL,
    floor: float = FLOOR,
) -> JwksCache:
    extra = {} if clock is None else {"clock": clock}
    return JwksCache(
        server.url, ttl=ttl, min_refetch_seconds=floor, client=lambda: http_client, **extra
    )


async def test_first_lookup_fetches_the_keys_once(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    cache = make_cache(jwks_server, http_client, clock)

    for _ in range(5):
        key = await cache.key_for(signing_key.kid)
        assert key is not None
        assert key.kid == signing_key.kid
        assert key.algorithms == {"EdDSA"}

    assert jwks_server.requests == 1


async def test_unknown_kid_triggers_a_refetch(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    cache = make_cache(jwks_server, http_client, clock)
    assert await cache.key_for(signing_key.kid) is not None
    rotated = ed25519_key()
    jwks_server.publish(signing_key, rotated)
    clock.advance(FLOOR)  # well inside the TTL: only the unknown kid can cause a fetch

    key = await cache.key_for(rotated.kid)

    assert key is not None
    assert key.kid == rotated.kid
    assert jwks_server.requests == 2


async def test_second_unknown_kid_within_the_floor_does_not_refetch(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    cache = make_cache(jwks_server, http_client, clock)
    await cache.key_for(signing_key.kid)
    clock.advance(FLOOR + 1)
    assert await cache.key_for("junk-kid-1") is None
    assert jwks_server.requests == 2

    rotated = ed25519_key()
    jwks_server.publish(signing_key, rotated)
    clock.advance(FLOOR - 1)
    assert await cache.key_for("junk-kid-2") is None
    assert await cache.key_for(rotated.kid) is None  # not looked for yet: inside the floor
    assert jwks_server.requests == 2

    clock.advance(1)  # the floor has passed since the last fetch
    key = await cache.key_for(rotated.kid)
    assert key is not None
    assert jwks_server.requests == 3


async def test_known_kid_never_waits_for_the_floor(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    cache = make_cache(jwks_server, http_client, clock)
    await cache.key_for(signing_key.kid)
    clock.advance(FLOOR + 1)
    assert await cache.key_for("junk") is None  # uses up the refetch allowance

    assert await cache.key_for(signing_key.kid) is not None
    assert jwks_server.requests == 2


async def test_many_concurrent_lookups_share_one_fetch(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    jwks_server.delay = 0.2  # every lookup arrives while the first fetch is in flight
    cache = make_cache(jwks_server, http_client)  # the real monotonic clock

    keys = await asyncio.gather(*(cache.key_for(signing_key.kid) for _ in range(50)))

    assert all(key is not None and key.kid == signing_key.kid for key in keys)
    assert jwks_server.requests == 1


async def test_concurrent_lookups_of_a_rotated_in_kid_share_one_refetch(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    cache = make_cache(jwks_server, http_client, floor=0.5)
    await cache.key_for(signing_key.kid)
    rotated = ed25519_key()
    jwks_server.publish(signing_key, rotated)
    jwks_server.delay = 0.2
    await asyncio.sleep(0.6)

    keys = await asyncio.gather(*(cache.key_for(rotated.kid) for _ in range(50)))

    assert all(key is not None and key.kid == rotated.kid for key in keys)
    assert jwks_server.requests == 2


@pytest.mark.parametrize("outage", ["connection refused", "HTTP 503"])
async def test_issuer_down_after_a_successful_fetch_keeps_the_cached_keys(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
    outage: str,
) -> None:
    cache = make_cache(jwks_server, http_client, clock, ttl=60)
    await cache.key_for(signing_key.kid)
    if outage == "HTTP 503":
        jwks_server.status = 503
    else:
        jwks_server.stop()
    clock.advance(61)  # stale: the cache tries to refresh, and fails

    key = await cache.key_for(signing_key.kid)

    assert key is not None
    assert key.kid == signing_key.kid
    assert await cache.key_for("unknown-kid") is None  # an answer, not an exception


async def test_issuer_down_from_the_start_raises_issuer_unavailable(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    jwks_server.stop()
    cache = make_cache(jwks_server, http_client)

    with pytest.raises(IssuerUnavailable):
        await cache.key_for(signing_key.kid)


async def test_issuer_down_from_the_start_is_retried_once_per_floor_then_recovers(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    jwks_server.status = 500
    cache = make_cache(jwks_server, http_client, clock)
    for _ in range(3):
        with pytest.raises(IssuerUnavailable):
            await cache.key_for(signing_key.kid)
    assert jwks_server.requests == 1

    jwks_server.status = 200
    clock.advance(FLOOR)
    assert await cache.key_for(signing_key.kid) is not None
    assert jwks_server.requests == 2


async def test_ttl_expiry_refetches_and_drops_withdrawn_keys(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
    signing_key: SigningKeyPair,
) -> None:
    cache = make_cache(jwks_server, http_client, clock, ttl=60)
    await cache.key_for(signing_key.kid)
    replacement = ed25519_key()
    jwks_server.publish(replacement)  # the issuer withdraws the old key

    clock.advance(59)
    assert await cache.key_for(signing_key.kid) is not None
    assert jwks_server.requests == 1

    clock.advance(2)
    assert await cache.key_for(signing_key.kid) is None
    assert jwks_server.requests == 2
    assert await cache.key_for(replacement.kid) is not None
    assert jwks_server.requests == 2


@pytest.mark.parametrize(
    ("make_key", "algorithms"),
    [
        (ed25519_key, {"EdDSA"}),
        (es256_key, {"ES256"}),
        (rsa_key, {"RS256"}),
    ],
    ids=["Ed25519", "P-256", "RSA"],
)
async def test_each_supported_key_type_is_pinned_to_its_algorithm(
    jwks_server: JwksServer,
    http_client: httpx.AsyncClient,
    make_key: Any,
    algorithms: set[str],
) -> None:
    pair: SigningKeyPair = make_key()
    jwks_server.publish(pair)
    cache = make_cache(jwks_server, http_client)

    key = await cache.key_for(pair.kid)

    assert key is not None
    assert key.algorithms == algorithms


def _unusable_keys() -> list[dict[str, Any]]:
    encryption = {**ed25519_key("enc").public_jwk, "use": "enc"}
    symmetric = {"kty": "oct", "kid": "oct", "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}
    other_curve = {
        **es256_key("k1").public_jwk,
        "crv": "secp256k1",
        "alg": "ES256K",
    }
    wrong_alg = {**ed25519_key("mismatch").public_jwk, "alg": "RS256"}
    broken = {"kty": "OKP", "crv": "Ed25519", "kid": "broken", "x": "not-a-key"}
    return [encryption, symmetric, other_curve, wrong_alg, broken]


async def test_keys_for_encryption_or_of_unsupported_types_are_ignored(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    explicit_sig = {**ed25519_key("sig").public_jwk, "use": "sig"}
    jwks_server.keys = [*_unusable_keys(), explicit_sig, signing_key.public_jwk]
    cache = make_cache(jwks_server, http_client)

    for kid in ("enc", "oct", "k1", "mismatch", "broken"):
        assert await cache.key_for(kid) is None, kid
    assert await cache.key_for("sig") is not None
    assert await cache.key_for(signing_key.kid) is not None


async def test_token_without_kid_matches_only_a_lone_key(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    lone = make_cache(jwks_server, http_client)
    key = await lone.key_for(None)
    assert key is not None
    assert key.kid == signing_key.kid

    jwks_server.publish(signing_key, ed25519_key())
    ambiguous = make_cache(jwks_server, http_client)
    assert await ambiguous.key_for(None) is None


@pytest.mark.parametrize(
    "document",
    [b"<html>not json</html>", b'{"no_keys": []}', b'{"keys": "nope"}', b"[1, 2]"],
    ids=["html", "no keys member", "keys not a list", "a list"],
)
async def test_malformed_document_counts_as_issuer_unavailable(document: bytes) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=document)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as mocked:
        cache = JwksCache(
            "https://issuer.example/jwks", ttl=TTL, min_refetch_seconds=FLOOR, client=lambda: mocked
        )
        with pytest.raises(IssuerUnavailable):
            await cache.key_for("any")
