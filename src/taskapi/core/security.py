"""Password hashing, access-token JWTs and refresh-token material.

- Passwords: Argon2id through pwdlib; hashing and verification run in a worker thread
  (argon2-cffi releases the GIL) so a login never stalls the event loop.
- Access tokens: HS256 JWTs with sub, exp, iat, iss, aud and jti. Verification pins the
  algorithm and requires every one of those claims.
- Refresh tokens: 256-bit random strings; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from taskapi.core.config import Settings

ACCESS_TOKEN_ALGORITHM = "HS256"  # noqa: S105 (an algorithm name)
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud", "jti"]


class PasswordHasher:
    """Argon2id hashing with re-hash on login and a constant-cost path for unknown users."""

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                ),
            )
        )

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hash.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Check a password; return (valid, new hash if the parameters changed).

        With no stored hash (unknown e-mail, external account) it still spends one
        full verification, so timing does not tell whether an account exists.
        """
        if password_hash is None:
            dummy = self._dummy_hash
            await anyio.to_thread.run_sync(self._hash.verify, password, dummy)
            return False, None
        return await anyio.to_thread.run_sync(self._hash.verify_and_update, password, password_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    token_id: str
    expires_at: datetime


class TokenError(Exception):
    """An access token that must not be accepted; the message is safe to show."""


class AccessTokenCodec:
    """Issues and verifies the service's own access tokens."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.signing_key
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.ttl = settings.access_token_ttl

    def issue(self, subject: str, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": subject,
            "iat": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=self.ttl)).timestamp()),
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm=ACCESS_TOKEN_ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ACCESS_TOKEN_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("The access token is not valid") from exc
        subject, token_id = claims["sub"], claims["jti"]
        if not isinstance(subject, str) or not isinstance(token_id, str):
            raise TokenError("The access token is not valid")
        return AccessClaims(subject, token_id, datetime.fromtimestamp(claims["exp"], UTC))


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The token is 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
