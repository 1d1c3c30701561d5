"""The in-process API rate limit counts exactly as the `limits` library's sliding window
counter does (it replaces that library's memory storage on the hot path)."""

from __future__ import annotations

import math

import limits
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from taskapi.core import ratelimit
from taskapi.core.ratelimit import LocalWindowCounter


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


# Gaps between hits, in seconds: bursts, the middle of a window, and whole windows.
gaps = st.lists(
    st.one_of(st.just(0.0), st.floats(0.001, 5.0), st.floats(5.0, 130.0)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(gaps=gaps, amount=st.integers(1, 6), start=st.floats(1.7e9, 1.8e9))
async def test_same_decisions_and_headers_as_the_library(
    gaps: list[float], amount: int, start: float
) -> None:
    clock = Clock(start)
    # Both read time.time() through the time module.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.time", clock)
        item = limits.parse(f"{amount}/minute")
        reference = SlidingWindowCounterRateLimiter(MemoryStorage())
        local = LocalWindowCounter()
        for gap in gaps:
            clock.now += gap
            expected_allowed = await reference.hit(item, "api", "alice")
            reset_at, expected_remaining = await reference.get_window_stats(item, "api", "alice")
            usage = local.hit(item, ("api", "alice"))
            assert usage.allowed == expected_allowed
            assert usage.remaining == expected_remaining
            assert usage.reset_after == max(1, math.ceil(reset_at - clock.now))


def test_keys_are_counted_apart_and_refused_past_the_limit() -> None:
    item = limits.parse("2/minute")
    local = LocalWindowCounter()
    assert [local.hit(item, ("api", "a")).allowed for _ in range(3)] == [True, True, False]
    assert local.hit(item, ("api", "b")).allowed
    refused = local.hit(item, ("api", "a"))
    assert (refused.allowed, refused.remaining) == (False, 0)
    with pytest.raises(ratelimit.RateLimited):
        refused.raise_if_exceeded()


def test_idle_keys_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr("time.time", clock)
    item = limits.parse("5/minute")
    local = LocalWindowCounter()
    for user in range(100):
        local.hit(item, ("api", str(user)))
    clock.now += 3 * 60 + LocalWindowCounter.SWEEP_SECONDS
    local.hit(item, ("api", "active"))
    assert list(local._windows) == [item.key_for("api", "active")]
