"""Typed configuration read from ``TASKAPI_*`` environment variables (and ``.env``).

Every value is validated when the settings object is built, so a bad value stops the
service at start-up with a message naming the variable, never at the first request.
"""

from __future__ import annotations

import ipaddress
import secrets
import warnings
from functools import lru_cache
from typing import Annotated, Literal

import limits
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_PRODUCTION_SECRET_BYTES = 32
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/taskapi.db"
DEFAULT_EXTERNAL_ALGORITHMS = ("EdDSA", "ES256", "RS256")
ASYMMETRIC_ALGORITHMS = frozenset(
    {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """All configuration of one service process. Field ``x`` is read from ``TASKAPI_X``."""

    model_config = SettingsConfigDict(
        env_prefix="TASKAPI_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- runtime -------------------------------------------------------------------
    env: Literal["development", "production"] = "development"
    debug: bool = False

    # --- database ------------------------------------------------------------------
    database_url: str = DEFAULT_SQLITE_URL
    # Migrations need a session-level connection; behind a transaction-mode pooler
    # (Neon's "-pooler" host, PgBouncer) point this at the direct endpoint.
    database_direct_url: str | None = None
    # None = detect from the URL (Neon "-pooler" hosts and port 6432 mean a pooler).
    database_pooler: bool | None = None
    database_pool_size: int = Field(default=20, ge=1, le=1000)
    database_max_overflow: int = Field(default=10, ge=0, le=1000)
    database_pool_timeout: float = Field(default=5.0, gt=0, le=300)
    database_statement_timeout_ms: int = Field(default=15_000, ge=0)

    # --- built-in accounts and tokens ---------------------------------------------------
    local_auth: bool = True
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "taskapi"
    jwt_audience: str = "taskapi"
    access_token_ttl: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl: int = Field(default=2_592_000, ge=300, le=31_536_000)
    # --- external issuers (Better Auth's JWT plugin, other OIDC-style issuers) ---------
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: CommaList = Field(default_factory=list)
    auth_algorithms: CommaList = Field(default_factory=lambda: list(DEFAULT_EXTERNAL_ALGORITHMS))
    auth_shared_secret: SecretStr | None = None
    # Keys are refetched when a token names an unknown kid, at most this often (so a
    # rotated-in key is accepted within this many seconds, and junk kids cannot flood
    # the issuer), and in any case once they are older than the cache TTL.
    auth_jwks_min_refetch_seconds: float = Field(default=5.0, ge=0.5, le=10.0)
    auth_jwks_cache_ttl: int = Field(default=300, ge=10, le=86_400)
    auth_leeway_seconds: int = Field(default=5, ge=0, le=300)
    # How long a worker trusts that a token's account still exists before asking the
    # database again. Deletion is immediate in the worker that deleted the account;
    # other workers refuse its tokens within this many seconds. 0 = ask every time.
    auth_cache_seconds: float = Field(default=10.0, ge=0, le=300)
    express_routes: bool = True
    # Argon2id cost. Defaults follow RFC 9106's second recommended option; tests lower them.
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65_536, ge=8, le=4_194_304)

    # --- rate limits (the `limits` library; Redis shares them across workers) ------------
    redis_url: SecretStr | None = None
    rate_limit_auth: str = "10/minute"  # per client address on register/login/token/refresh
    rate_limit_api: str = "1000/minute"  # per user on every other authenticated route
    # Failed sign-ins: per (account, client address), then per account from anywhere.
    login_failure_limit: str = "5/15minutes"
    login_failure_limit_account: str = "100/hour"

    # --- HTTP ----------------------------------------------------------------------------
    cors_origins: CommaList = Field(default_factory=list)
    trusted_proxies: CommaList = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=104_857_600)

    # --- logging -------------------------------------------------------------------------
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["json", "console"] | None = None

    _split_lists = field_validator(
        "cors_origins", "trusted_proxies", "auth_audience", "auth_algorithms", mode="before"
    )(_split_commas)

    @field_validator("auth_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in ASYMMETRIC_ALGORITHMS]
        if unknown:
            raise ValueError(
                f"unsupported {unknown}; choose from {sorted(ASYMMETRIC_ALGORITHMS)} "
                "(HS256 is used only with TASKAPI_AUTH_SHARED_SECRET)"
            )
        if not value:
            raise ValueError("at least one algorithm is needed")
        return value

    @field_validator("auth_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _sign_in_configuration(self) -> Settings:
        if self.external_auth and not self.auth_issuer:
            raise ValueError(
                "TASKAPI_AUTH_ISSUER is required with TASKAPI_AUTH_JWKS_URL or "
                "TASKAPI_AUTH_SHARED_SECRET (tokens are told apart by issuer)"
            )
        if self.external_auth and self.auth_issuer == self.jwt_issuer:
            raise ValueError("TASKAPI_AUTH_ISSUER must differ from TASKAPI_JWT_ISSUER")
        if not self.local_auth and not self.external_auth:
            raise ValueError(
                "TASKAPI_LOCAL_AUTH=false needs an external issuer "
                "(TASKAPI_AUTH_JWKS_URL or TASKAPI_AUTH_SHARED_SECRET), or nobody can sign in"
            )
        return self

    @field_validator(
        "rate_limit_auth", "rate_limit_api", "login_failure_limit", "login_failure_limit_account"
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        value = value.strip()
        if value == "0":
            return value
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError(
                "must look like '10/minute', '1000/hour' or '5/15minutes' (or 0 to disable)"
            ) from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network") from exc
        return value

    @field_validator("jwt_secret", "auth_shared_secret")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; unset it or give a real secret")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url", "database_direct_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None:
            return value
        allowed = ("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql+psycopg://")
        if not value.startswith(allowed):
            raise ValueError(
                "must be an async SQLAlchemy URL starting with one of: " + ", ".join(allowed)
            )
        return value

    @model_validator(mode="after")
    def _production_guard(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if self.local_auth and len(secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
            problems.append(
                f"TASKAPI_JWT_SECRET must be set to at least {MIN_PRODUCTION_SECRET_BYTES} bytes"
            )
        shared = self.auth_shared_secret.get_secret_value() if self.auth_shared_secret else ""
        if shared and len(shared.encode()) < MIN_PRODUCTION_SECRET_BYTES:
            problems.append(
                f"TASKAPI_AUTH_SHARED_SECRET must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes"
            )
        if self.auth_jwks_url and self.auth_jwks_url.startswith("http://"):
            host = self.auth_jwks_url.split("/")[2].rsplit(":", 1)[0]
            if host not in {"127.0.0.1", "localhost", "[::1]"}:
                problems.append(
                    "TASKAPI_AUTH_JWKS_URL must use https:// (keys must not travel in clear)"
                )
        if "*" in self.cors_origins:
            problems.append("TASKAPI_CORS_ORIGINS may not be '*' (credentials are allowed)")
        if self.debug:
            problems.append("TASKAPI_DEBUG must be off")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    # --- derived values ---------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def external_auth(self) -> bool:
        return bool(self.auth_jwks_url or self.auth_shared_secret)

    @property
    def migration_url(self) -> str:
        return self.database_direct_url or self.database_url

    @property
    def effective_log_format(self) -> str:
        if self.log_format:
            return self.log_format
        return "json" if self.env == "production" else "console"

    @property
    def signing_key(self) -> str:
        """The HS256 key for access tokens (and the cursor signatures derived from it)."""
        if self.jwt_secret is None:  # only reachable in development, see get_settings()
            raise RuntimeError("no JWT secret configured")
        return self.jwt_secret.get_secret_value()


def with_development_secret(settings: Settings) -> Settings:
    """Give a development process a random signing key when none is configured."""
    if settings.jwt_secret is not None:
        return settings
    warnings.warn(
        "TASKAPI_JWT_SECRET is not set: using a random key for this process; "
        "tokens will not survive a restart",
        stacklevel=2,
    )
    return settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own and pass them to create_app."""
    return with_development_secret(Settings())
