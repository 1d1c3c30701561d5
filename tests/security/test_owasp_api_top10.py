"""One test per applicable risk of the OWASP API Security Top 10 (2023)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.routing import APIRoute
from jwt.algorithms import OKPAlgorithm
from starlette.routing import BaseRoute

from taskapi.core.express import ExpressRoute
from tests.conftest import AppFactory
from tests.core.problems import assert_no_leak, assert_problem
from tests.security.helpers import (
    LOGIN,
    ME,
    PASSWORD,
    REFRESH,
    REGISTER,
    TASKS,
    TOKEN,
    WRONG_PASSWORD,
    assert_rate_limited,
    bearer,
    client_at,
    login,
    new_email,
    register,
    tokens,
)
from tests.security.stub import Canned, StubServer

ISSUER = "https://issuer.example"
JWKS = "/jwks.json"
DOCS_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


# --- helpers --------------------------------------------------------------------------


async def signed_in(http: httpx.AsyncClient) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A new user: (id, Authorization header, token pair)."""
    pair = await tokens(http, await register(http))
    headers = bearer(pair["access_token"])
    me = await http.get(ME, headers=headers)
    return me.json()["id"], headers, pair


async def new_task(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await http.post(TASKS, json={"title": "Private plans"}, headers=headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(payload: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def ed25519(kid: str) -> tuple[Ed25519PrivateKey, dict[str, Any]]:
    private = Ed25519PrivateKey.generate()
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    return private, jwk


def external_token(private: Ed25519PrivateKey, **headers: Any) -> str:
    now = int(time.time())
    subject = uuid.uuid4().hex
    claims = {
        "sub": subject,
        "email": f"{subject[:12]}@issuer.example",
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, private, algorithm="EdDSA", headers=headers)


def jwks_document(*keys: dict[str, Any]) -> Canned:
    return Canned(body=json.dumps({"keys": list(keys)}).encode())


def declared_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of the app, looking inside included routers (FastAPI may nest them)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from declared_routes(nested.routes)
        else:
            yield route


# --- API1: broken object level authorization ------------------------------------------


async def test_api1_bola_other_users_task_is_404(client: httpx.AsyncClient) -> None:
    _, alice, _ = await signed_in(client)
    bob_id, bob, _ = await signed_in(client)
    task = await new_task(client, alice)
    nobody = str(uuid.uuid4())
    attempts = [
        ("GET", "{id}", None),
        ("PATCH", "{id}", {"title": "mine now"}),
        ("PUT", "{id}", {"title": "mine now"}),
        ("POST", "{id}/complete", None),
        ("POST", "{id}/reopen", None),
        ("DELETE", "{id}", None),
    ]

    for method, path, body in attempts:
        theirs = await client.request(
            method, f"{TASKS}/{path.format(id=task['id'])}", json=body, headers=bob
        )
        missing = await client.request(
            method, f"{TASKS}/{path.format(id=nobody)}", json=body, headers=bob
        )
        assert_problem(theirs, 404)
        assert theirs.json() == missing.json(), (method, path)
    compat = await client.get(f"/api/{bob_id}/tasks/{task['id']}", headers=bob)
    assert_problem(compat, 404)
    listed = await client.get(TASKS, headers=bob)
    assert listed.json()["items"] == []

    unchanged = await client.get(f"{TASKS}/{task['id']}", headers=alice)
    assert unchanged.status_code == 200
    assert unchanged.json()["title"] == "Private plans"
    assert unchanged.json()["version"] == task["version"]


# --- API2: broken authentication ------------------------------------------------------


async def test_api2_broken_authentication_forged_expired_and_misused_tokens_get_401(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice_id, _, pair = await signed_in(client)
    bob_id, _, _ = await signed_in(client)
    key = app.state.settings.signing_key
    now = int(time.time())
    claims = {
        "sub": alice_id,
        "iat": now,
        "exp": now + 600,
        "iss": "taskapi",
        "aud": "taskapi",
        "jti": uuid.uuid4().hex,
    }
    header, _, signature = pair["access_token"].split(".")
    tampered_payload = b64url(json.dumps({**claims, "sub": bob_id}).encode())
    forged = {
        "alg none": unsigned_token(claims),
        "wrong key": jwt.encode(claims, "not-the-service-key-" + "z" * 32, algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 3600, "exp": now - 600}, key, "HS256"),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, "HS256"),
        "other audience": jwt.encode({**claims, "aud": "another-service"}, key, "HS256"),
        "other issuer": jwt.encode({**claims, "iss": "someone-else"}, key, "HS256"),
        "tampered subject": f"{header}.{tampered_payload}.{signature}",
        "refresh token as access token": pair["refresh_token"],
        "garbage": "a.b.c",
    }

    answers = {name: await client.get(ME, headers=bearer(token)) for name, token in forged.items()}
    answers["no token"] = await client.get(ME)

    for name, response in answers.items():
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
    # A replayed refresh token is refused and ends that login session.
    rotated = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    replayed = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    successor = await client.post(REFRESH, json={"refresh_token": rotated.json()["refresh_token"]})
    assert rotated.status_code == 200
    assert_problem(replayed, 401)
    assert_problem(successor, 401)


# --- API3: broken object property level authorization ---------------------------------


async def test_api3_bopla_mass_assignment_of_server_owned_fields_refused(
    client: httpx.AsyncClient,
) -> None:
    alice_id, alice, _ = await signed_in(client)
    bob_id, _, _ = await signed_in(client)
    task = await new_task(client, alice)
    server_owned = {
        "id": str(uuid.uuid4()),
        "user_id": bob_id,
        "owner": bob_id,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "version": 99,
        "completed_at": "2020-01-01T00:00:00Z",
    }

    for name, value in server_owned.items():
        created = await client.post(TASKS, json={"title": "x", name: value}, headers=alice)
        patched = await client.patch(f"{TASKS}/{task['id']}", json={name: value}, headers=alice)
        replaced = await client.put(
            f"{TASKS}/{task['id']}", json={"title": "x", name: value}, headers=alice
        )
        for response in (created, patched, replaced):
            assert_problem(response, 422, loc=["body", name])
    for field, value in {
        "email": new_email(),
        "password": "new-password-1",
        "is_admin": True,
    }.items():
        assert_problem(await client.patch(ME, json={field: value}, headers=alice), 422)
    privileged = {"email": new_email(), "password": PASSWORD, "is_admin": True, "id": bob_id}
    assert_problem(await client.post(REGISTER, json=privileged), 422)

    me = await client.get(ME, headers=alice)
    assert set(me.json()) == {"id", "email", "display_name", "created_at"}
    assert me.json()["id"] == alice_id
    assert "argon2" not in me.text
    unchanged = await client.get(f"{TASKS}/{task['id']}", headers=alice)
    assert unchanged.json()["version"] == task["version"]
    assert unchanged.json()["created_at"] == task["created_at"]


# --- API4: unrestricted resource consumption ------------------------------------------


async def test_api4_unrestricted_resource_consumption_page_and_body_caps_and_rate_limits(
    make_app: AppFactory,
) -> None:
    app = make_app(max_body_bytes=4096)
    limited = make_app(rate_limit_api="3/minute")
    async with client_at(app, "198.51.100.110") as http:
        _, headers, _ = await signed_in(http)
        too_many = await http.get(TASKS, params={"limit": 101}, headers=headers)
        largest = await http.get(TASKS, params={"limit": 100}, headers=headers)
        declared = await http.post(
            TASKS, json={"title": "x", "description": "d" * 5000}, headers=headers
        )

        async def streamed() -> AsyncIterator[bytes]:
            yield b'{"title": "x", "description": "'
            for _ in range(10):
                yield b"d" * 1000
            yield b'"}'

        undeclared = await http.post(
            TASKS,
            content=streamed(),
            headers={**headers, "Content-Type": "application/json"},
        )
        tags = await http.post(
            TASKS, json={"title": "x", "tags": [f"t{n}" for n in range(21)]}, headers=headers
        )
        title = await http.post(TASKS, json={"title": "x" * 201}, headers=headers)
    async with client_at(limited, "198.51.100.111") as http:
        answers = [await http.get(ME, headers=headers) for _ in range(4)]

    assert_problem(too_many, 422, loc=["query", "limit"])
    assert largest.status_code == 200
    assert_problem(declared, 413)
    assert_problem(undeclared, 413)
    assert_problem(tags, 422)
    assert_problem(title, 422)
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert_rate_limited(answers[3], 3)


# --- API5: broken function level authorization ----------------------------------------


async def test_api5_bfla_compat_routes_with_another_user_id_are_403_and_no_admin_routes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, alice, _ = await signed_in(client)
    bob_id, bob, _ = await signed_in(client)
    bobs_task = await new_task(client, bob)
    base = f"/api/{bob_id}/tasks"
    attempts = [
        ("GET", base, None),
        ("POST", base, {"title": "planted"}),
        ("GET", f"{base}/{bobs_task['id']}", None),
        ("PUT", f"{base}/{bobs_task['id']}", {"title": "taken"}),
        ("PATCH", f"{base}/{bobs_task['id']}/complete", None),
        ("DELETE", f"{base}/{bobs_task['id']}", None),
    ]

    for method, path, body in attempts:
        assert_problem(await client.request(method, path, json=body, headers=alice), 403)
    for method, path in (
        ("GET", "/api/v1/users"),
        ("GET", f"/api/v1/users/{bob_id}"),
        ("DELETE", f"/api/v1/users/{bob_id}"),
        ("GET", "/api/v1/admin"),
        ("GET", "/admin"),
    ):
        response = await client.request(method, path, headers=alice)
        assert response.status_code in {404, 405}, (method, path, response.status_code)
    paths = [getattr(route, "path", "") for route in declared_routes(app.routes)]
    assert not [path for path in paths if "admin" in path.lower()]

    still_there = await client.get(f"{TASKS}/{bobs_task['id']}", headers=bob)
    assert still_there.json()["title"] == bobs_task["title"]
    assert still_there.json()["completed"] is False
    assert (await client.get(ME, headers=bob)).status_code == 200


# --- API6: unrestricted access to sensitive business flows ----------------------------


async def test_api6_sensitive_business_flows_registration_and_sign_in_flooding_limited(
    make_app: AppFactory,
) -> None:
    async with client_at(make_app(), "192.0.2.1") as setup:
        victim = await register(setup)
    app = make_app(
        rate_limit_auth="3/minute",
        login_failure_limit="3/15minutes",
        login_failure_limit_account="5/hour",
    )

    async with client_at(app, "198.51.100.120") as flooder:
        accounts = [
            await flooder.post(REGISTER, json={"email": new_email(), "password": PASSWORD})
            for _ in range(4)
        ]
        then_login = await login(flooder, victim)
        then_token = await flooder.post(TOKEN, data={"username": victim, "password": PASSWORD})
    # Credential stuffing: one guess each from many addresses still locks the account.
    for n in range(5):
        async with client_at(app, f"203.0.113.{n + 10}") as bot:
            assert (await login(bot, victim, WRONG_PASSWORD)).status_code == 401
    async with client_at(app, "203.0.113.99") as bot:
        stuffed = await login(bot, victim)

    assert [answer.status_code for answer in accounts[:3]] == [201, 201, 201]
    assert_rate_limited(accounts[3], 3)
    assert_rate_limited(then_login, 3)
    assert_rate_limited(then_token, 3)
    assert_problem(stuffed, 429)


# --- API7: server side request forgery ------------------------------------------------


async def test_api7_ssrf_token_headers_cannot_make_the_server_fetch_a_url(
    make_app: AppFactory,
) -> None:
    issuer_key, issuer_jwk = ed25519("issuer-key")
    attacker_key, attacker_jwk = ed25519("attacker-key")
    with StubServer() as issuer, StubServer() as attacker:
        issuer.routes[JWKS] = jwks_document(issuer_jwk)
        issuer.routes["/moved"] = Canned(302, b"", {"Location": attacker.url(JWKS)})
        attacker.routes[JWKS] = jwks_document(attacker_jwk)
        app = make_app(auth_jwks_url=issuer.url(JWKS), auth_issuer=ISSUER)
        hostile = {
            "jku": external_token(attacker_key, kid="attacker-key", jku=attacker.url(JWKS)),
            "x5u": external_token(attacker_key, kid="attacker-key", x5u=attacker.url("/cert")),
            "jku, issuer's kid": external_token(
                attacker_key, kid="issuer-key", jku=attacker.url(JWKS)
            ),
            "embedded jwk": external_token(attacker_key, kid="attacker-key", jwk=attacker_jwk),
            "kid is a url": external_token(attacker_key, kid=attacker.url(JWKS)),
        }
        async with client_at(app, "198.51.100.130") as http:
            answers = {name: await http.get(ME, headers=bearer(t)) for name, t in hostile.items()}
            honest = await http.get(
                ME,
                headers=bearer(
                    external_token(issuer_key, kid="issuer-key", jku=attacker.url(JWKS))
                ),
            )
        redirected = make_app(auth_jwks_url=issuer.url("/moved"), auth_issuer=ISSUER)
        async with client_at(redirected, "198.51.100.131") as http:
            via_redirect = await http.get(
                ME, headers=bearer(external_token(attacker_key, kid="attacker-key"))
            )

        for name, response in answers.items():
            assert response.status_code == 401, (name, response.text)
        assert honest.status_code == 200, honest.text  # the key came from the issuer only
        assert via_redirect.status_code in {401, 503}, via_redirect.text  # not followed
        assert attacker.requested == []
        assert issuer.requested
        assert set(issuer.requested) <= {JWKS, "/moved"}


# --- API8: security misconfiguration --------------------------------------------------


async def test_api8_security_misconfiguration_no_stack_traces_headers_and_debug_off(
    app: FastAPI,
) -> None:
    async def broken() -> None:
        raise RuntimeError("internal-detail: SELECT secret FROM vault")

    app.add_api_route("/api/v1/broken-for-test", broken)
    async with client_at(app, "198.51.100.140", raise_app_exceptions=False) as http:
        crash = await http.get("/api/v1/broken-for-test")
        malformed = await http.post(
            LOGIN, content=b'{"email": ', headers={"Content-Type": "application/json"}
        )
        xml = await http.post(
            LOGIN, content=b"<login/>", headers={"Content-Type": "application/xml"}
        )
        unknown = await http.get("/api/v1/../../etc/passwd")
        method = await http.request("TRACE", ME)

    body = assert_problem(crash, 500)
    assert "internal-detail" not in crash.text
    assert "RuntimeError" not in body["detail"]
    assert malformed.status_code in {400, 422}
    assert_problem(malformed, malformed.status_code)
    assert xml.status_code in {400, 415, 422}
    assert_problem(xml, xml.status_code)
    for response in (unknown, method):
        assert response.status_code in {404, 405}
        assert_no_leak(response)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert app.debug is False
    assert app.state.settings.debug is False


# --- API9: improper inventory management ----------------------------------------------


async def test_api9_improper_inventory_every_route_documented_and_unknown_versions_404(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _, headers, _ = await signed_in(client)
    document = (await client.get("/openapi.json")).json()
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served: set[tuple[str, str]] = set()
    undocumented: set[str] = set()
    fronted: set[tuple[str, str]] = set()
    for route in declared_routes(app.routes):
        if isinstance(route, ExpressRoute):
            # A faster way into a documented operation (core/express.py), never a new one.
            fronted.add((route.path_format, route.method))
        elif isinstance(route, APIRoute) and route.include_in_schema:
            served |= {
                (route.path_format, method) for method in (route.methods or set()) - {"HEAD"}
            }
        else:
            undocumented.add(getattr(route, "path", repr(route)))

    assert served, "no API routes found"
    assert served == documented
    assert fronted <= documented
    assert undocumented <= DOCS_ROUTES
    for path in ("/api/v2/tasks", "/api/v0/tasks", "/api/v2/users/me", "/api/v1/admin"):
        for auth in ({}, headers):
            response = await client.get(path, headers=auth)
            assert_problem(response, 404)


# --- API10: unsafe consumption of APIs -------------------------------------------------


async def test_api10_unsafe_consumption_broken_or_hostile_jwks_gives_401_or_503(
    make_app: AppFactory,
) -> None:
    key, jwk = ed25519("issuer-key")
    token = external_token(key, kid="issuer-key")
    junk_keys = [1, "x", None, [], {"kty": "OKP"}, {"kty": "OKP", "crv": "Ed25519", "x": "!"}]
    junk_keys += [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}, {"kty": "EC", "crv": "P-256"}]
    junk_keys += [{**jwk, "alg": "HS256"}, {**jwk, "use": "enc"}, {**jwk, "kid": 7, "x": 5}]
    documents = {
        "oversized": Canned(body=json.dumps({"keys": [jwk], "pad": "x" * 300_000}).encode()),
        "not json": Canned(body=b'{"keys": [}'),
        "html": Canned(body=b"<html>login</html>", headers={"Content-Type": "text/html"}),
        "a list": Canned(body=b"[]"),
        "null": Canned(body=b"null"),
        "keys not a list": Canned(body=b'{"keys": "all of them"}'),
        "junk keys": Canned(body=json.dumps({"keys": junk_keys}).encode()),
        "deeply nested": Canned(body=b'{"keys": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        "invalid utf-8": Canned(body=b'{"keys": ["\xff\xfe"]}'),
        "server error": Canned(500, b"oops"),
        "not found": Canned(404, b""),
    }

    with StubServer() as issuer:
        answers = {}
        for name, canned in documents.items():
            path = f"/{uuid.uuid4().hex}"
            issuer.routes[path] = canned
            app = make_app(auth_jwks_url=issuer.url(path), auth_issuer=ISSUER)
            async with client_at(app, "198.51.100.150", raise_app_exceptions=False) as http:
                answers[name] = await http.get(ME, headers=bearer(token))

    wrong = {name: r.status_code for name, r in answers.items() if r.status_code not in {401, 503}}
    assert not wrong, f"expected 401 or 503, got {wrong}"
    for name, response in answers.items():
        assert_problem(response, response.status_code)
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) > 0, name
