"""Password-guessing defence: failed sign-ins are counted per account, not only per address.

- per (account, client address): a few failures lock that address out of that account
  for the window (default 5 per 15 minutes);
- per account, from anywhere: a higher ceiling (default 100 per hour) against guessing
  spread over many addresses.
Both windows end by themselves, so nobody is locked out for longer than a window. The
counts are kept for unknown e-mails too: the answer never tells whether one exists.
"""

from __future__ import annotations

from limits import RateLimitItem

from taskapi.core.config import Settings
from taskapi.core.ratelimit import RateLimiter, parse_limit
from taskapi.users.repository import email_key

LOCKED_DETAIL = "Too many failed sign-ins for this account; retry later"


class LoginGuard:
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        self._per_address = parse_limit(settings.login_failure_limit)
        self._per_account = parse_limit(settings.login_failure_limit_account)

    def _limits(self, email: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        account = email_key(email)
        pairs: list[tuple[RateLimitItem, tuple[str, ...]]] = []
        if self._per_address is not None:
            pairs.append((self._per_address, ("login-failures", account, address)))
        if self._per_account is not None:
            pairs.append((self._per_account, ("login-failures", account)))
        return pairs

    async def check(self, email: str, address: str) -> None:
        """Refuse (429) before any password work if this account is locked for the caller."""
        for item, key in self._limits(email, address):
            usage = await self._limiter.exceeded(item, *key, exact=True)
            if usage is not None:
                usage.raise_if_exceeded(LOCKED_DETAIL)

    async def failed(self, email: str, address: str) -> None:
        for item, key in self._limits(email, address):
            await self._limiter.hit(item, *key, fail_open=False, exact=True)

    async def succeeded(self, email: str, address: str) -> None:
        if self._per_address is not None:
            key = ("login-failures", email_key(email), address)
            await self._limiter.clear(self._per_address, *key, exact=True)
