"""Express routes: the hottest requests answered without FastAPI's per-request work.

FastAPI solves a route's dependencies, validates its parameters and serializes its
answer on every request: about 200 µs of a GET's 650 µs here (docs/adr/0006). An
express route sits in front of one FastAPI route (same path, same method) with a lean
handler that parses the few parameters of the *common, well-formed* request itself and
then calls the same service code. Whenever the handler meets anything it does not fully
understand (an odd parameter, a non-canonical id, a repeated header, a body it cannot
validate), it returns ``None`` before doing anything (what it read of the body is
replayed), and the request is routed again without the express routes: the FastAPI
route, which stays the reference (validation, errors, OpenAPI), answers it. So an
express route can only ever be a faster way to the same answer.

``TASKAPI_EXPRESS_ROUTES=false`` turns them off (tests/tasks/test_express.py compares
both ways).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import Message, Receive, Scope, Send

ExpressHandler = Callable[[Request], Awaitable[Response | None]]

_DECLINED = "taskapi.express_declined"


class ExpressRoute(BaseRoute):
    def __init__(self, path: str, method: str, handler: ExpressHandler) -> None:
        self.path = path
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.method = method
        self.handler = handler
        self.name = handler.__name__

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Only a full match, never a partial one: a wrong method is the FastAPI route's
        # business (405 with Allow), as if this route did not exist.
        if scope["type"] != "http" or scope["method"] != self.method or scope.get(_DECLINED):
            return Match.NONE, {}
        match = self.path_regex.match(get_route_path(scope))
        if match is None:
            return Match.NONE, {}
        path_params = dict(scope.get("path_params", {}))
        for key, value in match.groupdict().items():
            path_params[key] = self.param_convertors[key].convert(value)
        # "route" labels the metrics and access log with this path template.
        return Match.FULL, {"endpoint": self.handler, "path_params": path_params, "route": self}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What the handler read of the body is kept, to be read again if it declines.
        received: list[Message] = []

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        request = Request(scope, recording_receive, send)
        declined = False

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal declined
            response = await self.handler(request)
            if response is None:
                declined = True
                return
            await response(scope, receive, send)

        # The app's exception handlers answer what the handler raises (401, 404, 503…),
        # exactly as they do for FastAPI routes.
        await wrap_app_handling_exceptions(answer, request)(scope, receive, send)
        if declined:
            scope[_DECLINED] = True
            replay = iter(received)

            async def replaying_receive() -> Message:
                return next(replay, None) or await receive()

            router: Any = scope["router"]
            await router(scope, replaying_receive, send)


def install_express_routes(app: FastAPI, routes: Sequence[ExpressRoute]) -> None:
    """Put the routes first, so they are tried before the FastAPI routes they front."""
    app.router.routes[0:0] = list(routes)
