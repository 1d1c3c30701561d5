"""In production, Settings refuse weak secrets, wildcard CORS and debug mode."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import ValidationError

from taskapi.core.config import Settings

GOOD_SECRET = "p" * 32
GOOD = {
    "env": "production",
    "jwt_secret": GOOD_SECRET,
    "cors_origins": "https://app.example",
    "debug": False,
}


@pytest.fixture(autouse=True)
def _no_configuration_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the values a test gives count: no TASKAPI_* variables, no .env file."""
    for name in os.environ:
        if name.startswith("TASKAPI_"):
            monkeypatch.delenv(name)


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


def production(**overrides: Any) -> Settings:
    return settings(**{**GOOD, **overrides})


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"jwt_secret": None}, "TASKAPI_JWT_SECRET"),
        ({"jwt_secret": "s" * 31}, "TASKAPI_JWT_SECRET"),
        ({"cors_origins": "*"}, "TASKAPI_CORS_ORIGINS"),
        ({"cors_origins": "https://app.example, *"}, "TASKAPI_CORS_ORIGINS"),
        ({"debug": True}, "TASKAPI_DEBUG"),
        (
            {"auth_shared_secret": "t" * 31, "auth_issuer": "https://issuer.example"},
            "TASKAPI_AUTH_SHARED_SECRET",
        ),
    ],
    ids=[
        "missing-jwt-secret",
        "short-jwt-secret",
        "wildcard-cors",
        "wildcard-among-origins",
        "debug",
        "short-shared-secret",
    ],
)
def test_production_refuses_a_weak_configuration(overrides: dict[str, Any], names: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(**overrides)

    messages = " ".join(error["msg"] for error in refused.value.errors())
    assert names in messages
    secret = overrides.get("jwt_secret") or overrides.get("auth_shared_secret")
    if secret:
        assert secret not in messages  # the refusal names the variable, never its value


def test_production_accepts_a_good_configuration() -> None:
    accepted = production(
        auth_shared_secret="u" * 32, auth_issuer="https://issuer.example", local_auth=True
    )

    assert accepted.env == "production"
    assert accepted.debug is False
    assert accepted.cors_origins == ["https://app.example"]


def test_production_counts_secret_length_in_bytes() -> None:
    production(jwt_secret="é" * 16)  # 32 bytes of UTF-8

    with pytest.raises(ValidationError):
        production(jwt_secret="é" * 15 + "a")  # 31 bytes


def test_development_allows_what_production_refuses() -> None:
    development = settings(env="development", jwt_secret="short", cors_origins="*", debug=True)
    assert development.debug is True
