"""Access tokens: their claims, and every way a forged or broken one must be refused.

The attacks all go to GET /api/v1/users/me, which needs nothing but a valid token.
"""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Awaitable, Callable

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from taskapi.core.config import Settings
from tests.auth.helpers import (
    AUDIENCE,
    ISSUER,
    ME,
    assert_unauthorized,
    b64url_json,
    bearer,
    forge_access_token,
    get_me,
    unverified_claims,
)
from tests.conftest import TEST_SECRET
from tests.factories import SignedInUser, login, register, signed_in_user

OTHER_KEY = "another-signing-key-" + "y" * 32


async def test_access_token_carries_sub_exp_iat_iss_aud_and_jti(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    before = int(time.time())
    user = await signed_in_user(client)
    after = int(time.time())

    claims = unverified_claims(user.access_token)

    assert {"sub", "exp", "iat", "iss", "aud", "jti"} <= set(claims)
    assert claims["sub"] == user.id
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE or claims["aud"] == [AUDIENCE]
    assert before - 1 <= claims["iat"] <= after + 1
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl
    assert isinstance(claims["jti"], str)
    assert claims["jti"]


async def test_access_token_header_names_hs256(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)

    assert jwt.get_unverified_header(user.access_token)["alg"] == "HS256"


async def test_every_access_token_has_its_own_jti(client: httpx.AsyncClient) -> None:
    user = await signed_in_user(client)
    second = await login(client, user.email)

    assert (
        unverified_claims(user.access_token)["jti"]
        != unverified_claims(second["access_token"])["jti"]
    )


async def test_access_token_verifies_with_the_configured_secret(
    client: httpx.AsyncClient,
) -> None:
    user = await signed_in_user(client)

    claims = jwt.decode(
        user.access_token,
        TEST_SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
    )

    assert claims["sub"] == user.id


async def test_well_formed_token_built_with_the_test_secret_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    """The control for the attacks below: the forger itself makes valid tokens."""
    user = await signed_in_user(client)

    response = await get_me(client, forge_access_token(user.id))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id


# --- attacks ---------------------------------------------------------------------------

Attack = Callable[[httpx.AsyncClient, SignedInUser], Awaitable[dict[str, str]]]


async def no_header(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return {}


async def basic_scheme(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}


async def token_scheme(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return {"Authorization": f"Token {user.access_token}"}


async def no_scheme(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return {"Authorization": user.access_token}


async def bearer_without_token(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return {"Authorization": "Bearer "}


async def garbage(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer("not.a.jwt")


async def refresh_token_as_access(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(user.refresh_token)


async def expired(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    now = int(time.time())
    return bearer(forge_access_token(user.id, iat=now - 7200, exp=now - 3600))


async def tampered_subject(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    victim = await register(client)
    header, _payload, signature = user.access_token.split(".")
    claims = unverified_claims(user.access_token)
    claims["sub"] = victim["id"]
    return bearer(f"{header}.{b64url_json(claims)}.{signature}")


async def alg_none(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    claims = unverified_claims(forge_access_token(user.id))
    return bearer(f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}.")


async def alg_none_keeping_signature(
    client: httpx.AsyncClient, user: SignedInUser
) -> dict[str, str]:
    _, payload, signature = user.access_token.split(".")
    return bearer(f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}")


async def wrong_audience(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(forge_access_token(user.id, aud="some-other-api"))


async def wrong_issuer(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(forge_access_token(user.id, iss="https://evil.example.com"))


async def other_key(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(forge_access_token(user.id, key=OTHER_KEY))


async def other_hmac_algorithm(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    with warnings.catch_warnings():
        # The right key under the wrong algorithm is the point; PyJWT finds it short.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return bearer(forge_access_token(user.id, key=TEST_SECRET, algorithm="HS512"))


async def subject_not_a_uuid(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(forge_access_token("not-a-uuid"))


async def subject_unknown_user(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
    return bearer(forge_access_token(str(uuid.uuid4())))


def missing(claim: str) -> Attack:
    async def attack(client: httpx.AsyncClient, user: SignedInUser) -> dict[str, str]:
        return bearer(forge_access_token(user.id, drop=[claim]))

    return attack


ATTACKS: list[tuple[str, Attack]] = [
    ("missing-header", no_header),
    ("basic-scheme", basic_scheme),
    ("token-scheme", token_scheme),
    ("no-scheme", no_scheme),
    ("bearer-without-token", bearer_without_token),
    ("garbage", garbage),
    ("refresh-token-as-access-token", refresh_token_as_access),
    ("expired", expired),
    ("tampered-subject", tampered_subject),
    ("alg-none", alg_none),
    ("alg-none-keeping-signature", alg_none_keeping_signature),
    ("wrong-audience", wrong_audience),
    ("wrong-issuer", wrong_issuer),
    ("signed-with-another-key", other_key),
    ("hs512-instead-of-hs256", other_hmac_algorithm),
    ("missing-sub", missing("sub")),
    ("missing-exp", missing("exp")),
    ("missing-iat", missing("iat")),
    ("missing-iss", missing("iss")),
    ("missing-aud", missing("aud")),
    ("missing-jti", missing("jti")),
    ("sub-not-a-uuid", subject_not_a_uuid),
    ("sub-of-no-user", subject_unknown_user),
]


@pytest.mark.parametrize(
    "attack", [attack for _, attack in ATTACKS], ids=[name for name, _ in ATTACKS]
)
async def test_bad_access_token_is_401_with_bearer_challenge(
    client: httpx.AsyncClient, attack: Attack
) -> None:
    user = await signed_in_user(client)
    headers = await attack(client, user)

    response = await client.get(ME, headers=headers)

    body = assert_unauthorized(response)
    assert "id" not in body
    assert user.email not in response.text
