"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.core.errors import problem_response
from taskapi.core.headers import API_CSP, BASELINE_HEADERS, DOCS_CSP

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


class ResponseHeadersMiddleware:
    """What every response carries: an ``X-Request-ID`` (a well-formed one from the
    request, or a new one) and the security headers; API answers are never cached.
    Headers a dependency put in ``request.state.response_headers`` are added too.

    One layer for both: each ASGI layer wraps ``send`` once more on the hot path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                # Anything else could smuggle text into logs: replace it.
                if _SAFE_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        path: str = scope["path"]
        csp = DOCS_CSP if path in DOCS_PATHS else API_CSP
        no_store = path.startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in BASELINE_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                # Set by request handling for whichever response is sent (RateLimit-*).
                for name, value in state.get("response_headers", {}).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in. An HTTPException, so FastAPI's body reader lets
    it through to the app's handlers (which answer problem+json) instead of making it a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {max_bytes} bytes")


class BodySizeLimitMiddleware:
    """Answer 413 for bodies over the cap, by Content-Length up front or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> ASGIApp:
        return problem_response(
            413, f"The request body exceeds the limit of {self.max_bytes} bytes"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body = False
        for name, value in scope["headers"]:
            if name == b"transfer-encoding":
                has_body = True
            elif name == b"content-length":
                has_body = True
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    await problem_response(400, "Invalid Content-Length header")(
                        scope, receive, send
                    )
                    return
                if declared > self.max_bytes:
                    await self._too_large()(scope, receive, send)
                    return
        # HTTP/1.1 (uvicorn): without either header a request has no body (every GET).
        if not has_body:
            await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._too_large()(scope, receive, send)
