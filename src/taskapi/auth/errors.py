from __future__ import annotations

from taskapi.core.errors import Unauthorized


class InvalidCredentials(Unauthorized):
    slug, default_detail = "invalid-credentials", "Incorrect e-mail or password"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error=None)


class InvalidRefreshToken(Unauthorized):
    slug, default_detail = "invalid-refresh-token", "The refresh token is not valid"


class RefreshTokenReused(InvalidRefreshToken):
    # The revocation of the token family must persist although the request fails.
    commit_transaction = True
    default_detail = "The refresh token was already used; this login session is now revoked"
