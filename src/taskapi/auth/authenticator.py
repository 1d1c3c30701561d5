"""Turns a bearer token into the calling user, whichever issuer signed it.

Tokens are told apart by their (unverified) ``iss`` claim, which only chooses the
verifier: the chosen one then checks the signature, the issuer, the audience and expiry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.auth.external import ExternalVerifier
from taskapi.core.errors import Unauthorized
from taskapi.core.security import AccessTokenCodec, TokenError
from taskapi.users import repository as user_repository
from taskapi.users import service as user_service
from taskapi.users.models import User


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the local user and the token's subject (an issuer's user id, or ours)."""

    user: User
    subject: str


def _unverified_issuer(token: str) -> str | None:
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None
    return issuer if isinstance(issuer, str) else None


class Authenticator:
    def __init__(
        self, local: AccessTokenCodec | None, local_issuer: str, external: ExternalVerifier | None
    ) -> None:
        self._local = local
        self._local_issuer = local_issuer
        self._external = external

    async def authenticate(self, session: AsyncSession, token: str) -> Principal:
        issuer = _unverified_issuer(token)
        try:
            if self._local is not None and issuer == self._local_issuer:
                return await _local_principal(self._local, session, token)
            if self._external is not None and issuer == self._external.issuer:
                identity = await self._external.verify(token)
                user = await user_service.from_external_identity(session, identity)
                return Principal(user, identity.subject)
        except TokenError as exc:
            raise Unauthorized(str(exc)) from exc
        raise Unauthorized("The access token is not valid")


async def _local_principal(codec: AccessTokenCodec, session: AsyncSession, token: str) -> Principal:
    claims = codec.verify(token)
    try:
        user_id = uuid.UUID(claims.subject)
    except ValueError as exc:
        raise TokenError("The access token is not valid") from exc
    user = await user_repository.get(session, user_id)
    if user is None or user.is_external:  # deleted since the token was issued
        raise Unauthorized("The account no longer exists")
    return Principal(user, str(user.id))
