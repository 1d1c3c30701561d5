"""Turns a bearer token into the caller, whichever issuer signed it.

Tokens are told apart by their (unverified) ``iss`` claim, which only chooses the
verifier: the chosen one then checks the signature, the issuer, the audience and expiry.

Two small in-process caches keep the per-request cost low (docs/adr/0005):
- verified tokens (until they expire), so a token is decoded and checked once;
- users confirmed to exist, for ``TASKAPI_AUTH_CACHE_SECONDS``. Deleting an account
  forgets it at once in this process; other worker processes notice within that time.

A request whose token and account are both cached costs no database work at all. On a
miss the authenticator opens a short session of its own (committed at once, so a newly
provisioned external account is visible to the request that follows).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.auth.external import ExternalVerifier
from taskapi.core.errors import Unauthorized
from taskapi.core.security import AccessTokenCodec, TokenError
from taskapi.users import repository as user_repository
from taskapi.users import service as user_service

MAX_CACHED_TOKENS = 50_000


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the local user id and the token's subject (an issuer's user id, or ours)."""

    user_id: uuid.UUID
    subject: str
    external: bool

    @property
    def id(self) -> uuid.UUID:
        return self.user_id


def _unverified_issuer(token: str) -> str | None:
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else None


class Authenticator:
    def __init__(
        self,
        local: AccessTokenCodec | None,
        local_issuer: str,
        external: ExternalVerifier | None,
        *,
        sessions: Callable[[], AsyncSession],
        user_cache_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._local = local
        self._local_issuer = local_issuer
        self._external = external
        self._user_ttl = user_cache_seconds
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._confirmed: dict[uuid.UUID, float] = {}

    def forget(self, user_id: uuid.UUID) -> None:
        """The account is gone: refuse its tokens from now on (in this process)."""
        self._confirmed.pop(user_id, None)
        for token in [t for t, (p, _) in self._tokens.items() if p.user_id == user_id]:
            del self._tokens[token]

    async def authenticate(self, token: str) -> Principal:
        now = time.time()
        cached = self._tokens.get(token)
        if cached is not None and cached[1] > now:
            principal = cached[0]
            confirmed = self._confirmed.get(principal.user_id)
            if confirmed is not None and time.monotonic() - confirmed < self._user_ttl:
                return principal  # the hot path: no decode, no query
        async with self._sessions() as session:
            if cached is None or cached[1] <= now:
                principal, expires = await self._verify(session, token)
            else:
                await self._confirm_exists(session, principal)
                expires = cached[1]
            # Cached only once committed: an account provisioned here must exist.
            await session.commit()
        if len(self._tokens) >= MAX_CACHED_TOKENS:
            self._tokens.clear()  # crude but bounded; a refill costs one decode each
        self._tokens[token] = (principal, expires)
        self._confirmed[principal.user_id] = time.monotonic()
        return principal

    async def _confirm_exists(self, session: AsyncSession, principal: Principal) -> None:
        if not await user_repository.exists(session, principal.user_id):
            self.forget(principal.user_id)
            raise Unauthorized("The account no longer exists")

    async def _verify(self, session: AsyncSession, token: str) -> tuple[Principal, float]:
        """The principal and when its token expires (an external account is provisioned)."""
        issuer = _unverified_issuer(token)
        try:
            if self._local is not None and issuer == self._local_issuer:
                return await _local_principal(self._local, session, token)
            if self._external is not None and issuer == self._external.issuer:
                identity = await self._external.verify(token)
                user, _ = await user_service.from_external_identity(session, identity)
                return Principal(user.id, identity.subject, True), identity.expires_at
        except TokenError as exc:
            raise Unauthorized(str(exc)) from exc
        raise Unauthorized("The access token is not valid")


async def _local_principal(
    codec: AccessTokenCodec, session: AsyncSession, token: str
) -> tuple[Principal, float]:
    claims = codec.verify(token)
    try:
        user_id = uuid.UUID(claims.subject)
    except ValueError as exc:
        raise TokenError("The access token is not valid") from exc
    user = await user_repository.get(session, user_id)
    if user is None or user.is_external:  # deleted since the token was issued
        raise Unauthorized("The account no longer exists")
    return Principal(user.id, str(user.id), False), claims.expires_at.timestamp()
