"""Tokens from an external issuer, end to end through the app (no Node needed).

The issuer is played by keys made here and a JWKS endpoint on 127.0.0.1
(tests/external/issuer.py), or by a shared HS256 secret. Every attack changes one thing
about an otherwise valid token and must get 401 with a Bearer challenge.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.conftest import AppFactory, client_for
from tests.core.problems import assert_problem
from tests.external.issuer import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    SigningKeyPair,
    b64url,
    bearer,
    claims,
    ed25519_key,
    es256_key,
    handmade_token,
    hmac_sha256,
    rsa_key,
)
from tests.servers import find_free_port

ME = "/api/v1/users/me"
TASKS = "/api/v1/tasks"
SHARED_SECRET = "shared-secret-for-tests-" + "s" * 24


def assert_unauthorized(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers


@pytest.fixture
async def jwks_client(
    app: FastAPI, app_factory: AppFactory, jwks_server: JwksServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An app trusting ``jwks_server`` (issuer ISSUER, audience AUDIENCE).

    ``app`` is requested for its teardown, which empties the tables.
    """
    trusting = app_factory(
        auth_jwks_url=jwks_server.url, auth_issuer=ISSUER, auth_audience=AUDIENCE
    )
    async with client_for(trusting) as http:
        yield http
    await trusting.state.http.aclose()


ClientFor = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_with(app: FastAPI, app_factory: AppFactory) -> AsyncIterator[ClientFor]:
    """Clients for apps built with any settings (on the test's database)."""
    built: list[tuple[FastAPI, httpx.AsyncClient]] = []

    def make(**settings: Any) -> httpx.AsyncClient:
        application = app_factory(**settings)
        http = client_for(application)
        built.append((application, http))
        return http

    yield make
    for application, http in built:
        await http.aclose()
        await application.state.http.aclose()


# --- accepted tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_key", [ed25519_key, es256_key, rsa_key], ids=["EdDSA", "ES256", "RS256"]
)
async def test_token_signed_by_a_published_key_provisions_a_user(
    jwks_client: httpx.AsyncClient,
    jwks_server: JwksServer,
    make_key: Callable[[], SigningKeyPair],
) -> None:
    pair = make_key()
    jwks_server.publish(pair)
    token_claims = claims(name="Ada Lovelace")

    response = await jwks_client.get(ME, headers=bearer(pair.sign(token_claims)))

    assert response.status_code == 200, response.text
    user = response.json()
    assert user["email"] == token_claims["email"]
    assert user["display_name"] == "Ada Lovelace"
    uuid.UUID(user["id"])
    assert user["id"] != token_claims["sub"]  # the local id is ours, not the issuer's


async def test_same_subject_maps_to_the_same_user_on_every_request(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    subject = uuid.uuid4().hex
    first = await jwks_client.get(ME, headers=bearer(signing_key.sign(claims(subject))))
    second = await jwks_client.get(ME, headers=bearer(signing_key.sign(claims(subject))))
    other = await jwks_client.get(ME, headers=bearer(signing_key.sign(claims())))

    assert first.status_code == second.status_code == other.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert other.json()["id"] != first.json()["id"]


async def test_email_change_at_the_issuer_is_reflected(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    subject = uuid.uuid4().hex
    await jwks_client.get(ME, headers=bearer(signing_key.sign(claims(subject))))
    new_email = f"renamed-{subject[:8]}@issuer.example"

    response = await jwks_client.get(
        ME, headers=bearer(signing_key.sign(claims(subject, email=new_email)))
    )

    assert response.status_code == 200
    assert response.json()["email"] == new_email


async def test_token_without_email_gives_a_user_without_email(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    response = await jwks_client.get(
        ME, headers=bearer(signing_key.sign(claims(drop=("email", "name"))))
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] is None
    assert response.json()["display_name"] is None


async def test_audience_list_containing_ours_is_accepted(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    token = signing_key.sign(claims(audience=["someone-else", AUDIENCE]))

    assert (await jwks_client.get(ME, headers=bearer(token))).status_code == 200


async def test_token_expired_within_the_leeway_is_accepted(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    now = int(time.time())
    token = signing_key.sign(claims(iat=now - 900, exp=now - 2))  # default leeway: 5 s

    assert (await jwks_client.get(ME, headers=bearer(token))).status_code == 200


async def test_failed_first_request_does_not_break_the_account(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    """The first request provisions the user; if it fails (here 404), the next must work."""
    token = bearer(signing_key.sign(claims()))

    missing = await jwks_client.get(f"{TASKS}/{uuid.uuid4()}", headers=token)
    me = await jwks_client.get(ME, headers=token)
    created = await jwks_client.post(TASKS, json={"title": "after a 404"}, headers=token)

    assert_problem(missing, 404)
    assert me.status_code == 200, me.text
    assert created.status_code == 201, created.text


async def test_external_user_manages_tasks_and_sees_only_their_own(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    alice = bearer(signing_key.sign(claims()))
    bob = bearer(signing_key.sign(claims()))
    created = await jwks_client.post(TASKS, json={"title": "Alice's"}, headers=alice)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]

    assert (await jwks_client.get(f"{TASKS}/{task_id}", headers=bob)).status_code == 404
    assert (await jwks_client.get(TASKS, headers=bob)).json()["items"] == []
    listed = (await jwks_client.get(TASKS, headers=alice)).json()["items"]
    assert [task["id"] for task in listed] == [task_id]


# --- refused tokens ----------------------------------------------------------------------


async def test_tampered_payload_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    victim = claims()
    assert (await jwks_client.get(ME, headers=bearer(signing_key.sign(victim)))).status_code == 200
    header, _, signature = signing_key.sign(claims()).split(".")
    forged_payload = b64url(json.dumps(victim).encode())

    response = await jwks_client.get(ME, headers=bearer(f"{header}.{forged_payload}.{signature}"))

    assert_unauthorized(response)


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("iss", "https://evil.example"),
        ("aud", "someone-else"),
        ("exp", "expired"),
        ("sub", ""),
        ("sub", 12345),
        ("sub", "x" * 256),
    ],
    ids=["wrong iss", "wrong aud", "expired", "empty sub", "numeric sub", "sub too long"],
)
async def test_token_with_a_bad_claim_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair, change: str, value: Any
) -> None:
    token_claims = claims()
    if value == "expired":
        token_claims["exp"] = int(time.time()) - 60
    else:
        token_claims[change] = value

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(signing_key.sign(token_claims))))


@pytest.mark.parametrize("missing", ["exp", "sub", "iss", "aud"])
async def test_token_missing_a_required_claim_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair, missing: str
) -> None:
    token = signing_key.sign(claims(drop=(missing,)))

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))


async def test_token_signed_by_an_unpublished_key_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    stranger = ed25519_key(kid=signing_key.kid)  # same kid, other key

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(stranger.sign(claims()))))


async def test_token_naming_an_unknown_kid_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    token = ed25519_key().sign(claims())

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))


def _public_key_secrets(pair: SigningKeyPair) -> dict[str, bytes]:
    jwk = pair.public_jwk
    material = jwk.get("x") or jwk["n"]
    return {
        "PEM": pair.public_pem,
        "JWK JSON": json.dumps(jwk).encode(),
        "raw key member": material.encode(),
    }


@pytest.mark.parametrize("make_key", [rsa_key, ed25519_key], ids=["RSA", "Ed25519"])
@pytest.mark.parametrize("form", ["PEM", "JWK JSON", "raw key member"])
async def test_hs256_token_using_the_public_key_as_secret_is_401(
    jwks_client: httpx.AsyncClient,
    jwks_server: JwksServer,
    make_key: Callable[[], SigningKeyPair],
    form: str,
) -> None:
    """Algorithm confusion: the public key's bytes as an HMAC secret must not verify."""
    pair = make_key()
    jwks_server.publish(pair)
    secret = _public_key_secrets(pair)[form]
    token = handmade_token(
        {"alg": "HS256", "typ": "JWT", "kid": pair.kid}, claims(), hmac_sha256(secret)
    )

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_unsigned_token_is_401(
    jwks_client: httpx.AsyncClient, signing_key: SigningKeyPair, alg: str
) -> None:
    for header in ({"alg": alg, "kid": signing_key.kid}, {"alg": alg}):
        token = handmade_token(header, claims())
        assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))


async def test_eddsa_token_whose_kid_names_an_rsa_key_is_401(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    rsa = rsa_key()
    jwks_server.publish(signing_key, rsa)

    eddsa_as_rsa = signing_key.sign(claims(), kid=rsa.kid)
    rs256_as_eddsa = rsa.sign(claims(), kid=signing_key.kid)

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(eddsa_as_rsa)))
    assert_unauthorized(await jwks_client.get(ME, headers=bearer(rs256_as_eddsa)))


async def test_token_signed_with_a_key_published_for_encryption_is_401(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer
) -> None:
    encryption = ed25519_key()
    jwks_server.keys = [{**encryption.public_jwk, "use": "enc"}]

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(encryption.sign(claims()))))


async def test_algorithm_outside_the_allowed_list_is_401(
    client_with: ClientFor, jwks_server: JwksServer
) -> None:
    rsa, eddsa = rsa_key(), ed25519_key()
    jwks_server.publish(rsa, eddsa)
    http = client_with(auth_jwks_url=jwks_server.url, auth_issuer=ISSUER, auth_algorithms=["EdDSA"])

    assert_unauthorized(await http.get(ME, headers=bearer(rsa.sign(claims()))))
    assert (await http.get(ME, headers=bearer(eddsa.sign(claims())))).status_code == 200


async def test_garbage_bearer_tokens_are_401(jwks_client: httpx.AsyncClient) -> None:
    for token in ("not-a-jwt", "a.b.c", "....", "eyJhbGciOiJFZERTQSJ9.e30.", "x" * 5000):
        assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))


# --- key rotation and the issuer's availability ------------------------------------------


async def test_rotated_in_key_is_accepted_after_the_refetch_floor(
    client_with: ClientFor, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    http = client_with(
        auth_jwks_url=jwks_server.url, auth_issuer=ISSUER, auth_jwks_min_refetch_seconds=0.5
    )
    assert (await http.get(ME, headers=bearer(signing_key.sign(claims())))).status_code == 200
    rotated = ed25519_key()
    jwks_server.publish(signing_key, rotated)
    await asyncio.sleep(0.6)

    response = await http.get(ME, headers=bearer(rotated.sign(claims())))

    assert response.status_code == 200, response.text
    assert jwks_server.requests == 2


async def test_junk_kids_cost_the_issuer_at_most_one_fetch_per_floor(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    assert (
        await jwks_client.get(ME, headers=bearer(signing_key.sign(claims())))
    ).status_code == 200

    for _ in range(20):
        junk = signing_key.sign(claims(), kid=uuid.uuid4().hex)
        assert_unauthorized(await jwks_client.get(ME, headers=bearer(junk)))

    assert jwks_server.requests <= 2  # default floor: 5 s; this loop takes far less


async def test_concurrent_first_requests_share_one_fetch_and_all_succeed(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    tokens = [signing_key.sign(claims()) for _ in range(10)]

    responses = await asyncio.gather(*(jwks_client.get(ME, headers=bearer(t)) for t in tokens))

    assert [response.status_code for response in responses] == [200] * len(tokens)
    assert jwks_server.requests == 1


async def test_issuer_down_after_first_fetch_cached_keys_keep_verifying(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    subject = uuid.uuid4().hex
    assert (
        await jwks_client.get(ME, headers=bearer(signing_key.sign(claims(subject))))
    ).status_code == 200
    jwks_server.stop()

    again = await jwks_client.get(ME, headers=bearer(signing_key.sign(claims(subject))))
    newcomer = await jwks_client.get(ME, headers=bearer(signing_key.sign(claims())))
    unknown_kid = await jwks_client.get(
        ME, headers=bearer(ed25519_key().sign(claims()))
    )  # a refetch is due and fails: still an answer about the token, not a 5xx

    assert again.status_code == 200
    assert newcomer.status_code == 200
    assert_unauthorized(unknown_kid)


async def test_issuer_down_from_the_start_is_503_with_retry_after(
    client_with: ClientFor, signing_key: SigningKeyPair
) -> None:
    nobody_listens = f"http://127.0.0.1:{find_free_port()}/jwks"
    http = client_with(auth_jwks_url=nobody_listens, auth_issuer=ISSUER)
    token = bearer(signing_key.sign(claims()))

    for method, path in (("GET", ME), ("GET", TASKS), ("POST", TASKS)):
        response = await http.request(method, path, headers=token, json={"title": "t"})
        assert_problem(response, 503)
        assert int(response.headers["retry-after"]) > 0


async def test_issuer_answering_errors_from_the_start_is_503(
    client_with: ClientFor, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    jwks_server.status = 500
    http = client_with(auth_jwks_url=jwks_server.url, auth_issuer=ISSUER)

    response = await http.get(ME, headers=bearer(signing_key.sign(claims())))

    assert_problem(response, 503)
    assert "retry-after" in response.headers


async def test_token_of_another_issuer_does_not_touch_the_jwks(
    jwks_client: httpx.AsyncClient, jwks_server: JwksServer, signing_key: SigningKeyPair
) -> None:
    token = signing_key.sign(claims(issuer="https://other-issuer.example"))

    assert_unauthorized(await jwks_client.get(ME, headers=bearer(token)))
    assert jwks_server.requests == 0


# --- a shared HS256 secret ---------------------------------------------------------------


def hs256(token_claims: dict[str, Any], secret: str = SHARED_SECRET) -> str:
    return jwt.encode(token_claims, secret, algorithm="HS256")


async def test_shared_secret_token_is_accepted(client_with: ClientFor) -> None:
    http = client_with(auth_shared_secret=SHARED_SECRET, auth_issuer=ISSUER)
    token_claims = claims(audience=None, name="Grace")

    response = await http.get(ME, headers=bearer(hs256(token_claims)))

    assert response.status_code == 200, response.text
    assert response.json()["email"] == token_claims["email"]
    assert response.json()["display_name"] == "Grace"


@pytest.mark.parametrize(
    "case", ["wrong secret", "missing exp", "wrong iss", "expired", "asymmetric token"]
)
async def test_shared_secret_config_refuses(client_with: ClientFor, case: str) -> None:
    http = client_with(auth_shared_secret=SHARED_SECRET, auth_issuer=ISSUER)
    token = {
        "wrong secret": lambda: hs256(claims(), "another-secret-" + "z" * 32),
        "missing exp": lambda: hs256(claims(drop=("exp",))),
        "wrong iss": lambda: hs256(claims(issuer="https://evil.example")),
        "expired": lambda: hs256(claims(exp=int(time.time()) - 60)),
        "asymmetric token": lambda: ed25519_key().sign(claims()),
    }[case]()

    assert_unauthorized(await http.get(ME, headers=bearer(token)))


async def test_shared_secret_with_audience_checks_it(client_with: ClientFor) -> None:
    http = client_with(auth_shared_secret=SHARED_SECRET, auth_issuer=ISSUER, auth_audience=AUDIENCE)

    right = await http.get(ME, headers=bearer(hs256(claims(audience=AUDIENCE))))
    wrong = await http.get(ME, headers=bearer(hs256(claims(audience="someone-else"))))
    missing = await http.get(ME, headers=bearer(hs256(claims(audience=None))))

    assert right.status_code == 200, right.text
    assert_unauthorized(wrong)
    assert_unauthorized(missing)


async def test_same_subject_from_two_issuers_is_two_users(client_with: ClientFor) -> None:
    first_issuer, second_issuer = "https://x.example", "https://y.example"
    x = client_with(auth_shared_secret=SHARED_SECRET, auth_issuer=first_issuer)
    y = client_with(auth_shared_secret="y-secret-" + "y" * 32, auth_issuer=second_issuer)
    subject = "user-42"  # a subject both issuers happen to use
    x_token = bearer(hs256(claims(subject, issuer=first_issuer, audience=None)))
    y_token = bearer(
        hs256(claims(subject, issuer=second_issuer, audience=None), "y-secret-" + "y" * 32)
    )

    x_user = (await x.get(ME, headers=x_token)).json()
    y_user = (await y.get(ME, headers=y_token)).json()
    created = await x.post(TASKS, json={"title": "X's task"}, headers=x_token)

    assert x_user["id"] != y_user["id"]
    assert created.status_code == 201
    assert (await y.get(TASKS, headers=y_token)).json()["items"] == []
    assert (await y.get(f"{TASKS}/{created.json()['id']}", headers=y_token)).status_code == 404
    # Each app trusts only its own issuer: X's token is worthless at Y.
    assert_unauthorized(await y.get(ME, headers=x_token))


async def test_external_user_cannot_change_a_password(client_with: ClientFor) -> None:
    http = client_with(auth_shared_secret=SHARED_SECRET, auth_issuer=ISSUER)

    response = await http.post(
        f"{ME}/password",
        json={"current_password": "whatever-it-is", "new_password": "a brand new password"},
        headers=bearer(hs256(claims(audience=None))),
    )

    assert_problem(response, 403)


async def test_external_token_is_refused_when_the_issuer_is_not_configured(
    client: httpx.AsyncClient, signing_key: SigningKeyPair
) -> None:
    assert_unauthorized(await client.get(ME, headers=bearer(signing_key.sign(claims()))))
    assert_unauthorized(await client.get(ME, headers=bearer(hs256(claims()))))
