"""A cache of an issuer's signing keys (JWKS), refetched on demand with a floor.

- An unknown ``kid`` triggers a refetch, at most once per ``min_refetch_seconds``: a key
  the issuer rotates in is accepted within that time, and a flood of junk ``kid``s costs
  the issuer one request per interval.
- Keys older than ``ttl`` are refreshed on the next use; if the issuer is down, the cached
  keys keep working and the failure is logged.
- Concurrent requests share one fetch (single flight).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

logger = logging.getLogger("taskapi.auth.jwks")

MAX_JWKS_BYTES = 256 * 1024
FETCH_TIMEOUT_SECONDS = 3.0

# Which token algorithms a key of each type (and curve) may verify: pinning them
# per key refuses algorithm confusion (e.g. HS256 "signed" with a public key).
_ALGORITHMS_BY_KEY = {
    ("OKP", "Ed25519"): {"EdDSA"},
    ("EC", "P-256"): {"ES256"},
    ("EC", "P-384"): {"ES384"},
    ("EC", "P-521"): {"ES512"},
    ("RSA", None): {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
}


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str | None
    key: Any
    algorithms: frozenset[str]


class IssuerUnavailable(Exception):
    """No keys could be loaded: the issuer has not answered yet."""


def _signing_key(jwk: dict[str, Any]) -> SigningKey | None:
    kty, crv = str(jwk.get("kty")), jwk.get("crv")
    allowed = _ALGORITHMS_BY_KEY.get((kty, None if kty == "RSA" else str(crv)))
    if not allowed or jwk.get("use", "sig") != "sig":
        return None
    declared = jwk.get("alg")
    if declared is not None:
        if declared not in allowed:
            return None
        allowed = {declared}
    try:
        parsed = jwt.PyJWK(jwk, algorithm=next(iter(allowed)))
    except jwt.PyJWTError:
        return None
    kid = jwk.get("kid")
    return SigningKey(kid if isinstance(kid, str) else None, parsed.key, frozenset(allowed))


class JwksCache:
    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        min_refetch_seconds: float,
        client: Callable[[], httpx.AsyncClient],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._ttl = ttl
        self._floor = min_refetch_seconds
        self._client = client
        self._clock = clock
        self._keys: list[SigningKey] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:  # only unambiguous without a kid
            return self._keys[0] if len(self._keys) == 1 else None
        return next((key for key in self._keys if key.kid == kid), None)

    def _may_fetch(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._floor

    async def key_for(self, kid: str | None) -> SigningKey | None:
        if self._lock.locked():
            async with self._lock:  # a fetch is under way: use its result
                pass
        stale = self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl
        if stale and self._may_fetch():
            await self._refresh()
        key = self._find(kid)
        if key is None and self._may_fetch():
            await self._refresh()
            key = self._find(kid)
        if key is None and self._fetched_at is None:
            raise IssuerUnavailable(self.url)
        return key

    async def _refresh(self) -> None:
        requested = self._clock()
        async with self._lock:
            if self._attempted_at is not None and self._attempted_at >= requested:
                return  # another request fetched while this one waited
            self._attempted_at = self._clock()
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError, RecursionError) as exc:  # hostile or broken
                logger.warning("cannot fetch JWKS from %s: %s", self.url, type(exc).__name__)
                return
            self._keys = keys
            self._fetched_at = self._clock()

    async def _fetch(self) -> list[SigningKey]:
        self.fetch_count += 1
        body = bytearray()
        async with self._client().stream("GET", self.url, timeout=FETCH_TIMEOUT_SECONDS) as reply:
            reply.raise_for_status()
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:  # stop reading, do not buffer a huge answer
                    raise ValueError("JWKS document too large")
        document = json.loads(body)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("JWKS document has no key list")
        keys = [
            key for entry in entries if isinstance(entry, dict) and (key := _signing_key(entry))
        ]
        logger.info("loaded %d signing keys from %s", len(keys), self.url)
        return keys
