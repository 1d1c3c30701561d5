"""A body that is not JSON on the JSON auth routes is a 415 problem, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.helpers import (
    LOGIN,
    REFRESH,
    REGISTER,
    assert_problem,
    try_login,
)
from tests.factories import DEFAULT_PASSWORD, register

NON_JSON_BODIES = [
    pytest.param(
        '{"email": "{email}", "password": "{password}"}', "text/plain", id="json-as-text-plain"
    ),
    pytest.param("email={email}&password={password}", "text/plain", id="text-plain"),
    pytest.param(
        "<login><email>{email}</email><password>{password}</password></login>",
        "application/xml",
        id="application-xml",
    ),
    pytest.param("<login><email>{email}</email></login>", "text/xml", id="text-xml"),
]


def fill(template: str, email: str) -> str:
    return template.replace("{email}", email).replace("{password}", DEFAULT_PASSWORD)


@pytest.mark.parametrize(("template", "content_type"), NON_JSON_BODIES)
async def test_non_json_login_is_415_problem(
    client: httpx.AsyncClient, template: str, content_type: str
) -> None:
    user = await register(client)

    response = await client.post(
        LOGIN, content=fill(template, user["email"]), headers={"Content-Type": content_type}
    )

    assert_problem(response, 415)
    assert "access_token" not in response.text


@pytest.mark.parametrize(("template", "content_type"), NON_JSON_BODIES)
async def test_non_json_register_is_415_problem_and_creates_no_account(
    client: httpx.AsyncClient, template: str, content_type: str
) -> None:
    email = "non-json-register@example.com"

    response = await client.post(
        REGISTER, content=fill(template, email), headers={"Content-Type": content_type}
    )

    assert_problem(response, 415)
    assert (await try_login(client, email, DEFAULT_PASSWORD)).status_code == 401


@pytest.mark.parametrize(("template", "content_type"), NON_JSON_BODIES)
async def test_non_json_refresh_is_415_problem(
    client: httpx.AsyncClient, template: str, content_type: str
) -> None:
    response = await client.post(
        REFRESH, content=fill(template, "x@example.com"), headers={"Content-Type": content_type}
    )

    assert_problem(response, 415)


@pytest.mark.parametrize("path", [LOGIN, REGISTER, REFRESH])
@pytest.mark.parametrize(
    "content",
    ['{"email": "a@example.com", "password": ', "{'email': 'a'}", "\xff\xfe", "null"],
    ids=["truncated", "single-quotes", "not-utf8", "null"],
)
async def test_malformed_json_is_a_4xx_problem_not_500(
    client: httpx.AsyncClient, path: str, content: str
) -> None:
    response = await client.post(
        path, content=content.encode("latin-1"), headers={"Content-Type": "application/json"}
    )

    assert response.status_code in {400, 422}, response.text
    assert_problem(response, response.status_code)


@pytest.mark.parametrize("path", [LOGIN, REGISTER])
async def test_body_without_content_type_is_a_4xx_problem_not_500(
    client: httpx.AsyncClient, path: str
) -> None:
    body = f'{{"email": "a@example.com", "password": "{DEFAULT_PASSWORD}"}}'

    response = await client.post(path, content=body.encode())

    assert response.status_code in {400, 401, 415, 422}, response.text
    assert_problem(response, response.status_code)
