"""Rate limits on the `limits` library: per-process memory, or Redis shared by every worker.

Strategies: sign-in limits are small and guard against guessing, so they use the exact
moving window (one entry per request; cheap at 10/minute). The per-user API limit is
large, so it uses the sliding window counter: O(1) per request, but it may let one extra
request through where two windows meet.

The API limit runs on every request. In process memory it is counted by
``LocalWindowCounter`` (the library's algorithm, without its storage's per-request
expiry task and thread hop, which cost 15 % of a GET's CPU: docs/adr/0006); in Redis by
the library.

If Redis fails, the API limit fails open (the service keeps serving; it is a fairness
control) while the sign-in limits fall back to per-process memory (they guard against
password guessing, so they never switch off). Either way it is logged and /readyz says so.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import limits
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from taskapi.core.config import Settings
from taskapi.core.errors import AppError

logger = logging.getLogger("taskapi.ratelimit")

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_AFTER_FAILURE_SECONDS = 5.0


class RateLimited(AppError):
    status, slug, default_detail = 429, "rate-limited", "Too many requests; retry later"


@dataclass(frozen=True, slots=True)
class Usage:
    """One limit's state after counting a request: the RateLimit-* headers."""

    limit: limits.RateLimitItem
    allowed: bool
    remaining: int
    reset_after: int

    @property
    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit.amount),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_after),
            "RateLimit-Policy": f"{self.limit.amount};w={self.limit.get_expiry()}",
        }

    def raise_if_exceeded(self, detail: str | None = None) -> None:
        if not self.allowed:
            raise RateLimited(
                detail, headers={"Retry-After": str(self.reset_after), **self.headers}
            )


def parse_limit(value: str) -> limits.RateLimitItem | None:
    return None if value == "0" else limits.parse(value)


Limiter = MovingWindowRateLimiter | SlidingWindowCounterRateLimiter


class _Strategies:
    """Both strategies over one storage."""

    def __init__(self, storage: Storage) -> None:
        self.exact = MovingWindowRateLimiter(storage)
        self.cheap = SlidingWindowCounterRateLimiter(storage)

    def pick(self, exact: bool) -> Limiter:
        return self.exact if exact else self.cheap


class LocalWindowCounter:
    """The sliding window counter in this process's memory, as ``limits`` computes it.

    Each key keeps the count of the current fixed window and of the one before; the
    previous count is weighted by how much of it still overlaps the sliding window.
    One event loop per process and no ``await`` inside, so no lock is needed. Keys idle
    for two windows are swept once per minute, so memory follows the active users.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        # key -> [window index, count in it, count in the window before, window seconds]
        self._windows: dict[str, list[int]] = {}
        self._next_sweep = 0.0

    def hit(self, item: limits.RateLimitItem, key: tuple[str, ...]) -> Usage:
        expiry = item.get_expiry()
        now = time.time()
        index = int(now // expiry)
        name = item.key_for(*key)
        window = self._windows.get(name)
        if window is None or window[0] < index - 1:
            previous, current = 0, 0
        elif window[0] == index - 1:
            previous, current = window[1], 0
        else:
            previous, current = window[2], window[1]
        previous_ttl = expiry - now % expiry
        weight = previous * previous_ttl / expiry
        allowed = math.floor(weight + current) + 1 <= item.amount
        if allowed:
            current += 1
        self._windows[name] = [index, current, previous, expiry]
        remaining = max(0, item.amount - math.floor(weight + current))
        resets = [math.inf]
        if previous:
            resets.append(previous_ttl % (expiry / previous))
        if current:
            resets.append((previous_ttl + expiry) % expiry)
        reset_after = max(1, math.ceil(min(resets))) if previous or current else 1
        if now >= self._next_sweep:
            self._sweep(now)
        return Usage(item, allowed, remaining, reset_after)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self.SWEEP_SECONDS
        for name, (index, _, _, expiry) in list(self._windows.items()):
            if index < int(now // expiry) - 1:
                del self._windows[name]


class RateLimiter:
    """Counts requests per key in the shared store, with the failure policy above."""

    def __init__(self, settings: Settings) -> None:
        memory = MemoryStorage()
        self._memory = _Strategies(memory)
        self._local = LocalWindowCounter()
        self._redis: _Strategies | None = None
        if settings.redis_url is not None:
            self._redis = _Strategies(
                RedisStorage(
                    "async+" + settings.redis_url.get_secret_value(),
                    implementation="redispy",
                    wrap_exceptions=True,
                    key_prefix="taskapi",
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                )
            )
        self._redis_down_until = 0.0

    @property
    def store(self) -> str:
        return "redis" if self._redis is not None else "memory"

    @property
    def store_healthy(self) -> bool:
        return self._redis is None or time.monotonic() >= self._redis_down_until

    def _shared(self) -> _Strategies | None:
        # After a failure, skip Redis for a moment instead of waiting on every request.
        return self._redis if self._redis is not None and self.store_healthy else None

    def _redis_failed(self, exc: Exception) -> None:
        if self.store_healthy:
            logger.warning("rate-limit store (Redis) unavailable: %s", type(exc).__name__)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_FAILURE_SECONDS

    async def _count(
        self,
        limiter: Limiter,
        item: limits.RateLimitItem,
        key: tuple[str, ...],
    ) -> Usage:
        allowed = await limiter.hit(item, *key)
        reset_at, remaining = await limiter.get_window_stats(item, *key)
        reset_after = max(1, math.ceil(reset_at - time.time()))
        return Usage(item, allowed, remaining, reset_after)

    async def hit(
        self, item: limits.RateLimitItem, *key: str, fail_open: bool, exact: bool = False
    ) -> Usage | None:
        """Count one request; None when the store is down and this limit fails open."""
        shared = self._shared()
        if shared is not None:
            try:
                return await self._count(shared.pick(exact), item, key)
            except StorageError as exc:
                self._redis_failed(exc.storage_error)
        if self._redis is not None and fail_open:
            return None
        if not exact:
            return self._local.hit(item, key)
        return await self._count(self._memory.pick(exact), item, key)

    async def exceeded(
        self, item: limits.RateLimitItem, *key: str, exact: bool = False
    ) -> Usage | None:
        """The limit's state when it is used up (without counting), else None."""
        for strategies in filter(None, (self._shared(), self._memory)):
            limiter = strategies.pick(exact)
            try:
                if not await limiter.test(item, *key):
                    reset_at, _ = await limiter.get_window_stats(item, *key)
                    return Usage(item, False, 0, max(1, math.ceil(reset_at - time.time())))
                return None
            except StorageError as exc:
                self._redis_failed(exc.storage_error)
        return None

    async def clear(self, item: limits.RateLimitItem, *key: str, exact: bool = False) -> None:
        for strategies in filter(None, (self._shared(), self._memory)):
            try:
                await strategies.pick(exact).clear(item, *key)
            except StorageError as exc:
                self._redis_failed(exc.storage_error)
