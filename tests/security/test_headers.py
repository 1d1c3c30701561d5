"""Security headers on every kind of response, and CORS for the configured origins only."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import AppFactory
from tests.security.helpers import ME, REFRESH, TASKS, client_at, new_user_headers

ALLOWED_ORIGIN = "https://app.example"


def csp_directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            directives[name.lower()] = sources
    return directives


def allows(directives: dict[str, list[str]], directive: str, url: str) -> bool:
    """Whether ``url`` may be loaded under ``directive`` (falling back to default-src)."""
    sources = directives.get(directive, directives.get("default-src", []))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    return (
        origin in sources
        or f"{origin}/" in sources
        or (not urlsplit(url).netloc and "'self'" in sources)
    )


async def every_kind_of_response(
    app_factory: AppFactory, *, with_docs: bool = True
) -> dict[str, httpx.Response]:
    async with client_at(app_factory(), "192.0.2.1") as setup:
        headers = await new_user_headers(setup)
    app = app_factory(rate_limit_auth="1/minute")
    async with client_at(app, "198.51.100.90") as http:
        responses = {
            "200": await http.get(ME, headers=headers),
            "401": await http.get(ME),
            "404": await http.get(f"{TASKS}/{uuid.uuid4()}", headers=headers),
            "404 route": await http.get("/api/v1/nothing-here"),
            "422": await http.post(TASKS, json={}, headers=headers),
            "first refresh": await http.post(REFRESH, json={"refresh_token": "junk"}),
            "429": await http.post(REFRESH, json={"refresh_token": "junk"}),
            "healthz": await http.get("/healthz"),
        }
        if with_docs:
            responses["docs"] = await http.get("/docs")
            responses["openapi"] = await http.get("/openapi.json")
    expected = {"200": 200, "401": 401, "404": 404, "404 route": 404, "422": 422, "429": 429}
    for name, status in expected.items():
        assert responses[name].status_code == status, (name, responses[name].text)
    return responses


async def test_every_response_has_nosniff_referrer_policy_csp_and_no_server_header(
    make_app: AppFactory,
) -> None:
    responses = await every_kind_of_response(make_app)
    for name, response in responses.items():
        assert response.headers.get("X-Content-Type-Options") == "nosniff", name
        assert response.headers.get("Referrer-Policy"), name
        assert "default-src" in response.headers.get("Content-Security-Policy", ""), name
        assert "server" not in response.headers, name
        assert "x-powered-by" not in response.headers, name
    assert csp_directives(responses["openapi"])["default-src"] == ["'none'"]


async def test_api_responses_are_never_stored_and_forbid_every_source(
    make_app: AppFactory,
) -> None:
    responses = await every_kind_of_response(make_app, with_docs=False)
    for name in ("200", "401", "404", "404 route", "422", "429"):
        response = responses[name]
        assert response.headers.get("Cache-Control") == "no-store", name
        directives = csp_directives(response)
        assert directives["default-src"] == ["'none'"], name
        assert "script-src" not in directives, name


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_csp_allows_every_asset_the_page_loads(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    directives = csp_directives(response)
    html = response.text
    scripts = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    stylesheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    stylesheets += re.findall(r'<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"', html)
    icons = re.findall(r'<link[^>]*rel="[^"]*icon"[^>]*href="([^"]+)"', html)
    assert scripts, "the page loads no script?"

    for url in scripts:
        assert allows(directives, "script-src", url), f"{page}: script {url} is blocked"
    for url in stylesheets:
        assert allows(directives, "style-src", url), f"{page}: stylesheet {url} is blocked"
    for url in icons:
        assert allows(directives, "img-src", url), f"{page}: icon {url} is blocked"
    if re.search(r"<script>", html):  # the inline start-up script
        assert "'unsafe-inline'" in directives.get("script-src", [])
    assert "'self'" in directives.get("connect-src", [])  # it fetches /openapi.json
    assert "https://cdn.jsdelivr.net" in directives.get("script-src", [])


async def test_unexpected_500_still_carries_the_security_headers(app: FastAPI) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/broken-for-test", broken)
    async with client_at(app, "198.51.100.91", raise_app_exceptions=False) as http:
        response = await http.get("/api/v1/broken-for-test")

    assert response.status_code == 500
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert csp_directives(response)["default-src"] == ["'none'"]
    assert response.headers.get("Cache-Control") == "no-store"


async def test_cors_allowed_origin_gets_the_allow_origin_header(make_app: AppFactory) -> None:
    app = make_app(cors_origins=f"{ALLOWED_ORIGIN},https://other.example")
    async with client_at(app, "198.51.100.92") as http:
        allowed = await http.get("/healthz", headers={"Origin": ALLOWED_ORIGIN})
        refused = await http.get("/healthz", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert allowed.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_cors_preflight_works_for_an_allowed_origin_only(make_app: AppFactory) -> None:
    app = make_app(cors_origins=ALLOWED_ORIGIN)
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with client_at(app, "198.51.100.93") as http:
        allowed = await http.options(TASKS, headers={"Origin": ALLOWED_ORIGIN, **preflight})
        refused = await http.options(TASKS, headers={"Origin": "https://evil.example", **preflight})

    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    allowed_headers = allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers
    assert refused.headers.get("Access-Control-Allow-Origin") != "https://evil.example"
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_without_cors_origins_no_origin_is_allowed(make_app: AppFactory) -> None:
    async with client_at(make_app(), "198.51.100.94") as http:
        response = await http.get("/healthz", headers={"Origin": ALLOWED_ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers
