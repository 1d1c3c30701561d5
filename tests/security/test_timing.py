"""Login timing does not tell whether an e-mail has an account (real Argon2 work)."""

from __future__ import annotations

import statistics
import time

import httpx

from tests.conftest import AppFactory
from tests.security.helpers import WRONG_PASSWORD, client_at, login, new_email, register

SAMPLES = 15
WARM_UP = 2


async def timed_login(http: httpx.AsyncClient, email: str) -> float:
    started = time.perf_counter()
    response = await login(http, email, WRONG_PASSWORD)
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text
    return elapsed


async def test_unknown_email_and_wrong_password_take_the_same_time(make_app: AppFactory) -> None:
    app = make_app(password_hash_time_cost=2, password_hash_memory_kib=8192)
    async with client_at(app, "198.51.100.80") as http:
        existing = await register(http)
        unknown = new_email()
        for _ in range(WARM_UP):  # first use builds the dummy hash; keep it out of the data
            await timed_login(http, unknown)
            await timed_login(http, existing)
        unknown_times, existing_times = [], []
        for _ in range(SAMPLES):  # interleaved, so drift affects both alike
            unknown_times.append(await timed_login(http, unknown))
            existing_times.append(await timed_login(http, existing))

    unknown_median = statistics.median(unknown_times)
    existing_median = statistics.median(existing_times)
    ratio = max(unknown_median, existing_median) / min(unknown_median, existing_median)
    assert ratio < 1.5, (
        f"unknown e-mail median {unknown_median * 1000:.1f} ms, "
        f"wrong password median {existing_median * 1000:.1f} ms"
    )
