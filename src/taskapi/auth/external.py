"""Verification of tokens from an external issuer (Better Auth's JWT plugin, OIDC-style).

Keys come from the issuer's JWKS (asymmetric algorithms only, pinned per key type) or
from a shared secret (HS256 only). Issuer, audience (when configured) and expiry are
always checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from taskapi.auth.jwks import IssuerUnavailable, JwksCache
from taskapi.core.config import Settings
from taskapi.core.errors import ServiceUnavailable
from taskapi.core.security import TokenError

MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    issuer: str
    subject: str
    email: str | None
    name: str | None
    issued_at: datetime | None
    expires_at: float


def _optional_text(claims: dict[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    if isinstance(value, str) and 0 < len(value.strip()) <= limit and "\x00" not in value:
        return value.strip()
    return None


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


class ExternalVerifier:
    def __init__(self, settings: Settings, jwks: JwksCache | None) -> None:
        if settings.auth_issuer is None:
            raise ValueError("an external verifier needs TASKAPI_AUTH_ISSUER")
        self.issuer = settings.auth_issuer
        self._audience = settings.auth_audience or None
        self._algorithms = set(settings.auth_algorithms)
        self._secret = (
            settings.auth_shared_secret.get_secret_value() if settings.auth_shared_secret else None
        )
        self._jwks = jwks
        self._leeway = settings.auth_leeway_seconds

    async def _key_and_algorithm(self, token: str) -> tuple[Any, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("The access token is not valid") from exc
        algorithm = header.get("alg")
        if algorithm == "HS256" and self._secret is not None:
            return self._secret, "HS256"
        if self._jwks is None or algorithm not in self._algorithms:
            raise TokenError("The token's signing algorithm is not accepted")
        kid = header.get("kid")
        try:
            key = await self._jwks.key_for(kid if isinstance(kid, str) else None)
        except IssuerUnavailable as exc:
            raise ServiceUnavailable(
                "The token issuer's keys cannot be loaded; retry shortly"
            ) from exc
        if key is None:
            raise TokenError("The token was signed with an unknown key")
        if algorithm not in key.algorithms:
            raise TokenError("The token's algorithm does not match its key")
        return key.key, algorithm

    async def verify(self, token: str) -> ExternalIdentity:
        key, algorithm = await self._key_and_algorithm(token)
        required = ["exp", "sub", "iss"] + (["aud"] if self._audience else [])
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": required, "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("The access token is not valid") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            raise TokenError("The access token has no usable subject")
        return ExternalIdentity(
            issuer=self.issuer,
            subject=subject,
            email=_optional_text(claims, "email", 320),
            name=_optional_text(claims, "name", 100),
            issued_at=_timestamp(claims.get("iat")),
            expires_at=float(claims["exp"]),
        )
