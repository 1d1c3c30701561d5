"""Smoke tests of the Better Auth rig itself: a real server issues JWTs that PyJWT verifies.

These pin down the facts Task API's external-auth support relies on (see
/work/shared/notes/better-auth-facts.md), so a Better Auth upgrade that changes
them fails here first.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.interop.better_auth import (
    SESSION_COOKIE,
    BetterAuthServer,
    Session,
    StartBetterAuth,
    get_jwt,
    jwks,
    sign_in,
    sign_up,
)

PASSWORD = "correct horse battery staple"
REQUIRED_CLAIMS = ["sub", "email", "iss", "aud", "exp", "iat"]
DEFAULT_LIFETIME = 15 * 60


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@Example.COM"


def _kids(server: BetterAuthServer) -> set[str]:
    return {key["kid"] for key in jwks(server)["keys"]}


def _verify(
    token: str,
    server: BetterAuthServer,
    *,
    algorithm: str = "EdDSA",
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """Verify ``token`` against ``server``'s JWKS, its issuer and audience."""
    header = jwt.get_unverified_header(token)
    matching = [key for key in jwks(server)["keys"] if key["kid"] == header["kid"]]
    assert len(matching) == 1, f"kid {header['kid']!r} not published at {server.jwks_url}"
    claims: dict[str, Any] = jwt.decode(
        token,
        key=jwt.PyJWK(matching[0]),
        algorithms=[algorithm],
        issuer=issuer or server.origin,
        audience=audience or server.origin,
        options={"require": REQUIRED_CLAIMS},
    )
    return claims


def _new_user(server: BetterAuthServer, prefix: str) -> tuple[str, Session]:
    email = _email(prefix)
    return email, sign_up(server, email, PASSWORD, prefix.title())


def test_two_users_sign_up_and_get_eddsa_jwts(better_auth_server: BetterAuthServer) -> None:
    server = better_auth_server
    assert server.base_url.startswith("http://127.0.0.1:")
    tokens: dict[str, str] = {}
    users: dict[str, Session] = {}
    for name in ("alice", "bob"):
        email, session = _new_user(server, name)
        assert session["cookie"].startswith(SESSION_COOKIE + "=")
        assert session["user"]["email"] == email.lower()
        users[name] = session
        tokens[name] = get_jwt(server, session)

    published = jwks(server)["keys"]
    assert published, "JWKS is empty after tokens were issued"
    for key in published:
        assert key["kty"] == "OKP"
        assert key["crv"] == "Ed25519"
        assert key["alg"] == "EdDSA"
        assert "d" not in key, "private key material published"
    kids = {key["kid"] for key in published}

    subjects = set()
    for name, token in tokens.items():
        header = jwt.get_unverified_header(token)
        assert header["alg"] == "EdDSA"
        assert header["kid"] in kids
        claims = _verify(token, server)
        for claim in REQUIRED_CLAIMS:
            assert claim in claims
        assert claims["sub"] == users[name]["user"]["id"]
        assert claims["email"] == users[name]["user"]["email"]
        assert claims["iss"] == server.origin
        assert claims["aud"] == server.origin
        assert claims["exp"] - claims["iat"] == DEFAULT_LIFETIME
        subjects.add(claims["sub"])
    assert len(subjects) == 2


def test_sign_in_gives_a_new_session_for_the_same_subject(
    better_auth_server: BetterAuthServer,
) -> None:
    server = better_auth_server
    email, first = _new_user(server, "carol")
    second = sign_in(server, email.upper(), PASSWORD)
    assert second["cookie"] != first["cookie"]
    first_claims = _verify(get_jwt(server, first), server)
    second_claims = _verify(get_jwt(server, second), server)
    assert first_claims["sub"] == second_claims["sub"] == first["user"]["id"]


def test_pyjwkclient_verifies_a_token(better_auth_server: BetterAuthServer) -> None:
    server = better_auth_server
    _, session = _new_user(server, "dave")
    token = get_jwt(server, session)
    signing_key = jwt.PyJWKClient(server.jwks_url).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key=signing_key,
        algorithms=["EdDSA"],
        issuer=server.origin,
        audience=server.origin,
    )
    assert claims["sub"] == session["user"]["id"]


def test_token_requires_a_session(better_auth_server: BetterAuthServer) -> None:
    response = httpx.get(better_auth_server.token_url, trust_env=False)
    assert response.status_code == 401


def test_fetch_style_post_without_origin_is_refused(
    better_auth_server: BetterAuthServer,
) -> None:
    """Why the helpers send ``Origin``: Better Auth's CSRF check (see the notes)."""
    response = httpx.post(
        better_auth_server.auth_url + "/sign-up/email",
        json={"email": _email("eve"), "password": PASSWORD, "name": "Eve"},
        headers={"sec-fetch-mode": "cors"},
        trust_env=False,
    )
    assert response.status_code == 403
    assert "MISSING_OR_NULL_ORIGIN" in response.text


def test_issuer_and_audience_overrides(
    better_auth_server: BetterAuthServer, start_better_auth_server: StartBetterAuth
) -> None:
    first = better_auth_server
    _, first_session = _new_user(first, "frank")
    first_header = jwt.get_unverified_header(get_jwt(first, first_session))

    second = start_better_auth_server(JWT_ISSUER=first.origin, JWT_AUDIENCE=first.origin)
    assert second.origin != first.origin
    _, session = _new_user(second, "grace")
    token = get_jwt(second, session)
    header = jwt.get_unverified_header(token)
    assert header["kid"] != first_header["kid"]
    assert header["kid"] not in _kids(first)
    claims = _verify(token, second, issuer=first.origin, audience=first.origin)
    assert claims["iss"] == first.origin
    assert claims["aud"] == first.origin
    # Same iss/aud, but only the second server's JWKS can verify it.
    with pytest.raises(AssertionError, match="not published"):
        _verify(token, first)


def test_short_expiration(start_better_auth_server: StartBetterAuth) -> None:
    server = start_better_auth_server(JWT_EXPIRATION="3s")
    _, session = _new_user(server, "heidi")
    claims = _verify(get_jwt(server, session), server)
    assert claims["exp"] == claims["iat"] + 3


def test_es256_key_pair(start_better_auth_server: StartBetterAuth) -> None:
    server = start_better_auth_server(JWT_ALG="ES256")
    _, session = _new_user(server, "ivan")
    token = get_jwt(server, session)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    (key,) = jwks(server)["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
    claims = _verify(token, server, algorithm="ES256")
    assert claims["sub"] == session["user"]["id"]


def test_key_rotation_interval(start_better_auth_server: StartBetterAuth) -> None:
    server = start_better_auth_server(JWKS_ROTATION_INTERVAL=1)
    _, session = _new_user(server, "judy")
    old = get_jwt(server, session)
    time.sleep(1.5)
    new = get_jwt(server, session)
    old_kid = jwt.get_unverified_header(old)["kid"]
    new_kid = jwt.get_unverified_header(new)["kid"]
    assert new_kid != old_kid
    assert {old_kid, new_kid} <= _kids(server)  # the old key stays published (grace period)
    _verify(old, server)
    _verify(new, server)


def test_stop_ends_the_process_and_frees_the_port(
    start_better_auth_server: StartBetterAuth,
) -> None:
    server = start_better_auth_server()
    pid, port = server.pid, server.port
    assert server.is_running
    server.stop()
    assert not server.is_running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, port), timeout=2).close()
    server.stop()  # idempotent
