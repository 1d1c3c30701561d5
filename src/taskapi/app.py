"""The application factory: settings in, a ready FastAPI app out."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute, iter_route_contexts

from taskapi import __version__, health
from taskapi.auth import router as auth_router
from taskapi.auth.authenticator import Authenticator
from taskapi.auth.dependencies import SECURITY_SCHEMES, get_caller
from taskapi.auth.external import ExternalVerifier
from taskapi.auth.guard import LoginGuard
from taskapi.auth.jwks import JwksCache
from taskapi.auth.service import TokenService
from taskapi.compat import router as compat_router
from taskapi.core.clientip import parse_networks
from taskapi.core.config import Settings, get_settings
from taskapi.core.db import Database
from taskapi.core.errors import PROBLEM_MEDIA_TYPE, install_error_handlers, method_table
from taskapi.core.express import install_express_routes
from taskapi.core.logging import configure_logging
from taskapi.core.middleware import (
    BodySizeLimitMiddleware,
    ResponseHeadersMiddleware,
)
from taskapi.core.observability import ObservabilityMiddleware, watch_pool
from taskapi.core.pagination import CursorCodec
from taskapi.core.ratelimit import RateLimiter, parse_limit
from taskapi.core.security import AccessTokenCodec, PasswordHasher
from taskapi.tags import router as tags_router
from taskapi.tasks import express as tasks_express
from taskapi.tasks import router as tasks_router
from taskapi.users import router as users_router

DESCRIPTION = """\
A multi-user task API. Sign in (`POST /api/v1/auth/login`, or **Authorize** above with
your e-mail as the username), then manage your tasks. Every error is
`application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far (routes, models, SQLAlchemy, pydantic) lives as long
        # as the process: moved out of the collector's sight, a full collection no
        # longer walks it. Measured: GET p99 126 -> 23 ms (docs/adr/0006).
        gc.collect()
        gc.freeze()
        yield
        await app.state.http.aclose()
        await app.state.database.dispose()

    app = FastAPI(
        title="Task API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's native OpenTelemetry asks the tracer, meter and logger providers on
        # every request (3 % of a GET's CPU); the service has its own metrics and logs.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    watch_pool(app.state.database)
    app.state.hasher = PasswordHasher(settings)
    codec = AccessTokenCodec(settings)
    app.state.tokens = TokenService(codec, settings.refresh_token_ttl)
    # One outbound HTTP client (connection reuse) for the issuer's JWKS.
    app.state.http = httpx.AsyncClient(follow_redirects=False)
    app.state.authenticator = Authenticator(
        codec if settings.local_auth else None,
        settings.jwt_issuer,
        _external_verifier(settings, lambda: app.state.http),
        sessions=app.state.database.session,
        user_cache_seconds=settings.auth_cache_seconds,
    )
    app.state.cursor_codec = CursorCodec(settings.signing_key)
    app.state.trusted_networks = parse_networks(settings.trusted_proxies)
    app.state.rate_limiter = RateLimiter(settings)
    app.state.auth_limit = parse_limit(settings.rate_limit_auth)
    app.state.api_limit = parse_limit(settings.rate_limit_api)
    app.state.login_guard = LoginGuard(app.state.rate_limiter, settings)

    install_error_handlers(app)
    app.include_router(health.router)
    if settings.local_auth:
        app.include_router(auth_router.router)
    app.include_router(users_router.router)
    app.include_router(tasks_router.router)
    app.include_router(tags_router.router)
    # Last: its /api/{user_id}/… paths must not shadow /api/v1/….
    app.include_router(compat_router.router)
    if settings.express_routes:
        install_express_routes(app, tasks_express.ROUTES)

    # Outermost last: the request id wraps everything, so even a 413 carries one.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                "X-Request-ID",
                "Idempotent-Replayed",
            ],
        )
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(ResponseHeadersMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.state.method_table = method_table(app.openapi(), {"{user_id}": "{user_id:subject}"})
    return app


def _external_verifier(
    settings: Settings, http: Callable[[], httpx.AsyncClient]
) -> ExternalVerifier | None:
    if not settings.external_auth:
        return None
    jwks = None
    if settings.auth_jwks_url:
        jwks = JwksCache(
            settings.auth_jwks_url,
            ttl=settings.auth_jwks_cache_ttl,
            min_refetch_seconds=settings.auth_jwks_min_refetch_seconds,
            client=http,
        )
    return ExternalVerifier(settings, jwks)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, corrected to say what the service really answers on errors."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                # A body that is not even UTF-8 is refused before validation.
                operation["responses"].setdefault(
                    "400", {"description": "The body cannot be read (e.g. not UTF-8)"}
                )
            for code, response in operation.get("responses", {}).items():
                if code[0] in "45":
                    # Errors are problem+json only (FastAPI also lists application/json,
                    # and its own 422 shape, which this service never sends).
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    _declare_security(app, schema)
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def _declare_security(app: FastAPI, schema: dict[str, Any]) -> None:
    """Routes that authenticate the caller (``get_caller``) require a bearer token."""
    requirement: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]
    secured = False
    # FastAPI nests included routers; iter_route_contexts yields each route with its
    # full path.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _depends_on(route.dependant, get_caller):
            path_item = schema["paths"].get(context.path_format, {})
            for method in context.methods or ():
                operation = path_item.get(method.lower())
                if operation is not None:
                    operation["security"] = requirement
                    secured = True
    if secured:
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES


def create_app_from_environment() -> FastAPI:
    """ASGI entry point: ``uvicorn --factory taskapi.app:create_app_from_environment``."""
    return create_app()
