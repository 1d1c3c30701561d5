"""Configuration of external issuers: contradictory or unsafe settings stop the service at
start-up (a validation error naming the variable), never at the first request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from taskapi.core.config import Settings
from tests.conftest import make_settings

DATABASE_URL = "sqlite+aiosqlite:///:memory:"
JWKS_URL = "https://auth.example/api/auth/jwks"
ISSUER = "https://auth.example"


def build(**overrides: Any) -> Settings:
    return make_settings(DATABASE_URL, **overrides)


def test_jwks_url_without_issuer_is_refused() -> None:
    with pytest.raises(ValidationError, match="TASKAPI_AUTH_ISSUER is required"):
        build(auth_jwks_url=JWKS_URL)


def test_shared_secret_without_issuer_is_refused() -> None:
    with pytest.raises(ValidationError, match="TASKAPI_AUTH_ISSUER is required"):
        build(auth_shared_secret="a-shared-secret-" + "x" * 32)


@pytest.mark.parametrize(
    "algorithms",
    ["HS256", ["HS256"], "EdDSA,HS256", ["RS256", "HS512"], "none", ["none"]],
)
def test_symmetric_or_unsigned_algorithms_are_refused(algorithms: str | list[str]) -> None:
    with pytest.raises(ValidationError, match="auth_algorithms"):
        build(auth_jwks_url=JWKS_URL, auth_issuer=ISSUER, auth_algorithms=algorithms)


def test_empty_algorithm_list_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one algorithm"):
        build(auth_jwks_url=JWKS_URL, auth_issuer=ISSUER, auth_algorithms="")


@pytest.mark.parametrize("jwt_issuer", [None, "https://auth.example"])
def test_external_issuer_equal_to_our_own_issuer_is_refused(jwt_issuer: str | None) -> None:
    own = {} if jwt_issuer is None else {"jwt_issuer": jwt_issuer}
    same = jwt_issuer or "taskapi"  # the default jwt_issuer
    with pytest.raises(ValidationError, match="must differ from TASKAPI_JWT_ISSUER"):
        build(auth_jwks_url=JWKS_URL, auth_issuer=same, **own)


def test_local_auth_off_without_an_external_issuer_is_refused() -> None:
    with pytest.raises(ValidationError, match="TASKAPI_LOCAL_AUTH=false needs an external issuer"):
        build(local_auth=False)


def test_local_auth_off_with_an_issuer_only_but_no_keys_is_refused() -> None:
    with pytest.raises(ValidationError, match="TASKAPI_LOCAL_AUTH=false needs an external issuer"):
        build(local_auth=False, auth_issuer=ISSUER)


@pytest.mark.parametrize("url", ["ftp://auth.example/jwks", "auth.example/jwks", "file:///jwks"])
def test_jwks_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError, match="auth_jwks_url"):
        build(auth_jwks_url=url, auth_issuer=ISSUER)


def test_blank_shared_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="auth_shared_secret"):
        build(auth_shared_secret="   ", auth_issuer=ISSUER)


@pytest.mark.parametrize("seconds", [0, 0.1, 10.5, 35])
def test_refetch_floor_must_let_a_rotated_key_in_within_ten_seconds(seconds: float) -> None:
    with pytest.raises(ValidationError, match="auth_jwks_min_refetch_seconds"):
        build(auth_jwks_url=JWKS_URL, auth_issuer=ISSUER, auth_jwks_min_refetch_seconds=seconds)


def test_production_refuses_a_short_shared_secret() -> None:
    with pytest.raises(ValidationError, match="TASKAPI_AUTH_SHARED_SECRET must be at least"):
        build(env="production", auth_shared_secret="short", auth_issuer=ISSUER)


def test_external_only_configuration_is_accepted_with_safe_defaults() -> None:
    settings = build(local_auth=False, auth_jwks_url=JWKS_URL, auth_issuer=ISSUER)

    assert settings.external_auth
    assert settings.auth_algorithms == ["EdDSA", "ES256", "RS256"]
    assert settings.auth_audience == []
    assert settings.auth_jwks_min_refetch_seconds <= 10
    assert settings.auth_leeway_seconds == 5


def test_external_auth_is_off_by_default() -> None:
    settings = build()

    assert not settings.external_auth
    assert settings.local_auth


def test_environment_variables_configure_the_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKAPI_DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("TASKAPI_LOCAL_AUTH", "false")
    monkeypatch.setenv("TASKAPI_AUTH_JWKS_URL", JWKS_URL)
    monkeypatch.setenv("TASKAPI_AUTH_ISSUER", ISSUER)
    monkeypatch.setenv("TASKAPI_AUTH_AUDIENCE", "web, mobile")
    monkeypatch.setenv("TASKAPI_AUTH_ALGORITHMS", "EdDSA,ES256")
    monkeypatch.setenv("TASKAPI_AUTH_JWKS_MIN_REFETCH_SECONDS", "1")

    settings = Settings(_env_file=None)

    assert settings.local_auth is False
    assert settings.auth_jwks_url == JWKS_URL
    assert settings.auth_issuer == ISSUER
    assert settings.auth_audience == ["web", "mobile"]
    assert settings.auth_algorithms == ["EdDSA", "ES256"]
    assert settings.auth_jwks_min_refetch_seconds == 1


def test_environment_variable_hs256_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKAPI_AUTH_JWKS_URL", JWKS_URL)
    monkeypatch.setenv("TASKAPI_AUTH_ISSUER", ISSUER)
    monkeypatch.setenv("TASKAPI_AUTH_ALGORITHMS", "HS256")

    with pytest.raises(ValidationError, match="HS256 is used only with TASKAPI_AUTH_SHARED_SECRET"):
        Settings(_env_file=None)
