"""Business rules of signing in: login, token rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.auth import repository
from taskapi.auth.errors import InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from taskapi.auth.guard import LoginGuard
from taskapi.auth.models import RefreshToken
from taskapi.auth.schemas import TokenPair
from taskapi.core.models import utcnow
from taskapi.core.owner import Owner
from taskapi.core.security import (
    AccessTokenCodec,
    PasswordHasher,
    hash_refresh_token,
    new_refresh_token,
)
from taskapi.users import repository as user_repository
from taskapi.users.models import User


class TokenService:
    """Issues token pairs; one per application (it holds the signing key and TTLs)."""

    def __init__(self, codec: AccessTokenCodec, refresh_ttl: int) -> None:
        self.codec = codec
        self.refresh_ttl = timedelta(seconds=refresh_ttl)

    async def issue(
        self, session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID | None = None
    ) -> TokenPair:
        now = utcnow()
        refresh = new_refresh_token()
        await repository.add(
            session,
            RefreshToken(
                user_id=user_id,
                family_id=family_id or uuid.uuid4(),
                token_hash=hash_refresh_token(refresh),
                created_at=now,
                expires_at=now + self.refresh_ttl,
            ),
        )
        return TokenPair(
            access_token=self.codec.issue(str(user_id), now=now),
            refresh_token=refresh,
            expires_in=self.codec.ttl,
        )


async def authenticate(
    session: AsyncSession, hasher: PasswordHasher, email: str, password: str
) -> User:
    """The user with these credentials; the same error and cost whether or not the e-mail exists."""
    user = await user_repository.get_by_email(session, email)
    valid, new_hash = await hasher.verify(password, user.password_hash if user else None)
    if user is None or not valid:
        raise InvalidCredentials()
    if new_hash is not None:  # the hashing parameters changed since this hash was made
        user.password_hash = new_hash
    return user


async def login(
    session: AsyncSession,
    hasher: PasswordHasher,
    tokens: TokenService,
    guard: LoginGuard,
    credentials: tuple[str, str],
    address: str,
) -> TokenPair:
    email, password = credentials
    await guard.check(email, address)
    try:
        user = await authenticate(session, hasher, email, password)
    except InvalidCredentials:
        await guard.failed(email, address)
        raise
    await guard.succeeded(email, address)
    return await tokens.issue(session, user.id)


async def refresh(session: AsyncSession, tokens: TokenService, refresh_token: str) -> TokenPair:
    token_hash = hash_refresh_token(refresh_token)
    now = utcnow()
    consumed = await repository.consume(session, token_hash, now)
    if consumed is not None:
        user_id, family_id = consumed
        return await tokens.issue(session, user_id, family_id)
    known = await repository.find(session, token_hash)
    if known is None or known.revoked_at is not None or known.expires_at <= now:
        raise InvalidRefreshToken()
    # Live family, spent token: someone replays a copy. Revoke that login session only.
    await repository.revoke_family(session, known.family_id, now)
    raise RefreshTokenReused()


async def logout(session: AsyncSession, user: Owner, refresh_token: str) -> None:
    """End the login session the refresh token belongs to, if it is the caller's."""
    known = await repository.find(session, hash_refresh_token(refresh_token))
    if known is not None and known.user_id == user.id:
        await repository.revoke_family(session, known.family_id, utcnow())


async def revoke_all_sessions(session: AsyncSession, user: User) -> None:
    await repository.revoke_all_of_user(session, user.id, utcnow())
