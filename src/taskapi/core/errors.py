"""Domain errors and their rendering as RFC 9457 problem+json.

Services raise ``AppError`` subclasses; one set of handlers (installed by
``install_error_handlers``) turns them, validation errors, HTTP errors and anything
unexpected into ``application/problem+json``. No handler ever puts a traceback, SQL or
input values into a response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, cast

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from taskapi.core.headers import API_CSP, BASELINE_HEADERS

logger = logging.getLogger("taskapi.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://taskapi.dev/problems/"
DB_RETRY_AFTER_SECONDS = 2


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Task not found"])
    errors: list[ValidationIssue] | None = Field(
        default=None, description="Present on 422: one entry per invalid input."
    )


class AppError(Exception):
    """Base of every error a service may raise; carries its HTTP rendering."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    default_detail: ClassVar[str] = "Bad request"
    # Some failures must still persist what led to them (revoking a refresh-token
    # family on reuse, counting a failed login): the session dependency commits then.
    commit_transaction: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, headers: Mapping[str, str] | None = None):
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class NotFound(AppError):
    status, slug, default_detail = 404, "not-found", "Resource not found"


class Conflict(AppError):
    status, slug, default_detail = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, default_detail = 412, "precondition-failed", "The resource has changed"


class Unauthorized(AppError):
    status, slug, default_detail = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, *, error: str | None = "invalid_token"):
        challenge = "Bearer" if error is None else f'Bearer error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    status, slug, default_detail = 403, "forbidden", "Forbidden"


class UnprocessableEntity(AppError):
    status, slug, default_detail = 422, "validation-error", "The request is not valid"

    def __init__(self, detail: str, *, loc: Sequence[str | int] = (), type_: str = "value_error"):
        super().__init__(detail)
        self.errors = [ValidationIssue(loc=list(loc), msg=detail, type=type_)]


class UnsupportedMediaType(AppError):
    status, slug = 415, "unsupported-media-type"
    default_detail = "The request body must be JSON (Content-Type: application/json)"


class ServiceUnavailable(AppError):
    status, slug = 503, "service-unavailable"
    default_detail = "The database is unavailable; retry shortly"

    def __init__(self, detail: str | None = None, *, retry_after: int = DB_RETRY_AFTER_SECONDS):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[ValidationIssue] | None = None,
) -> Response:
    """Render one problem+json response."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or phrase.lower().replace(" ", "-")),
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [issue.model_dump() for issue in errors]
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_issues(errors: Sequence[Any]) -> list[ValidationIssue]:
    """Keep only where, what and why: never echo the rejected input (it may be a password)."""
    return [
        ValidationIssue(
            loc=_clean_loc(err.get("loc", ())),
            msg=str(err.get("msg", "")),
            type=str(err.get("type", "")),
        )
        for err in errors
    ]


def _summary(issues: Sequence[ValidationIssue]) -> str:
    first = issues[0]
    where = ".".join(str(part) for part in first.loc) or "request"
    more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
    return f"{where}: {first.msg}{more}"


async def _app_error(_: Request, exc: Exception) -> Response:
    error = cast(AppError, exc)
    return problem_response(
        error.status,
        error.detail,
        slug=error.slug,
        headers=error.headers,
        errors=getattr(error, "errors", None),
    )


async def _validation_error(_: Request, exc: Exception) -> Response:
    issues = validation_issues(cast(RequestValidationError, exc).errors())
    return problem_response(422, _summary(issues), slug="validation-error", errors=issues)


MethodTable = list[tuple[re.Pattern[str], frozenset[str]]]


def method_table(openapi: dict[str, Any], convertors: dict[str, str] | None = None) -> MethodTable:
    """Path regex -> methods, from the OpenAPI document (built once at start-up).

    ``convertors`` restores path convertors the document does not show, e.g.
    ``{"{user_id}": "{user_id:subject}"}``.
    """
    table: MethodTable = []
    for template, operations in openapi.get("paths", {}).items():
        for plain, typed in (convertors or {}).items():
            template = template.replace(plain, typed)
        methods = {method.upper() for method in operations}
        if "GET" in methods:
            methods.add("HEAD")
        regex, _, _ = compile_path(template)
        table.append((regex, frozenset(methods)))
    return table


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette lists only the first route's)."""
    table: MethodTable = getattr(request.app.state, "method_table", [])
    path = request.scope["path"]
    methods = {m for regex, route_methods in table if regex.match(path) for m in route_methods}
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    error = cast(StarletteHTTPException, exc)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    headers = dict(error.headers or {})
    if error.status_code == 404 and detail == "Not Found":
        detail = "No such route"
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(error.status_code, detail, headers=headers)


async def _database_error(_: Request, exc: Exception) -> Response:
    # Connection refused, server restarting, pool exhausted: the client may retry.
    logger.warning("database unavailable: %s", type(exc).__name__)
    error = ServiceUnavailable()
    return problem_response(error.status, error.detail, slug=error.slug, headers=error.headers)


async def _integrity_error(_: Request, exc: Exception) -> Response:
    # Services check what they can; a constraint can still lose a race (e.g. a write by
    # an account another worker just deleted). Never a 500, never the SQL.
    logger.info("integrity error answered 409: %s", type(exc).__name__)
    return problem_response(
        409, "The request conflicts with the current state of the data; retry", slug="conflict"
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error", exc_info=exc)
    # This answer is sent from outside every middleware: carry their headers here.
    headers = {**BASELINE_HEADERS, "Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        headers["X-Request-ID"] = request_id
    return problem_response(
        500, "An unexpected error occurred", slug="internal-error", headers=headers
    )


# SQLSTATEs that mean "not now" rather than "bad request": connection exceptions (class
# 08), admin/crash shutdown and "starting up" (57P01-57P03), too many connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _sqlstate(exc: BaseException | None) -> str | None:
    seen = 0
    while exc is not None and seen < 5:  # the driver error may sit a few causes deep
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if isinstance(state, str):
            return state
        exc, seen = exc.__cause__ or getattr(exc, "orig", None), seen + 1
    return None


def is_unavailable_database_error(exc: BaseException) -> bool:
    """True for errors that mean "the database is not reachable now", not "bad SQL"."""
    if isinstance(exc, PoolTimeoutError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.InternalClientError) or (
        isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)
    ):
        # The hot path's connection was lost mid-operation or is closed (core/rawsql.py
        # drops such a connection): the next request gets a new one. Other interface
        # errors (bad arguments) are bugs: 500.
        return True
    state = _sqlstate(exc)
    if state is not None and state.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, (ConnectionError, OSError, TimeoutError))


def is_transaction_conflict(exc: BaseException) -> bool:
    """Deadlock or serialization failure (SQLSTATE class 40): this request lost a race
    with another one and may simply be retried."""
    state = _sqlstate(exc)
    return state is not None and state.startswith("40")


async def _database_or_unexpected(request: Request, exc: Exception) -> Response:
    if is_transaction_conflict(exc):
        return await _integrity_error(request, exc)
    if is_unavailable_database_error(exc):
        return await _database_error(request, exc)
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return await _integrity_error(request, exc)
    return await _unexpected_error(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Database trouble is handled by type, inside the app, so it never reaches the
    # server-error layer (which would log it as a crash and re-raise it).
    # asyncpg's own errors come from the hot path (core/rawsql.py), which bypasses
    # SQLAlchemy and so its exception wrapping.
    for database_error in (
        DBAPIError,
        PoolTimeoutError,
        ConnectionError,
        OSError,
        TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ):
        app.add_exception_handler(database_error, _database_or_unexpected)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the problems a route may answer with."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
