"""Request metrics (Prometheus) and one structured access-log line per request.

Both come from one pure ASGI middleware: it times the request, reads the status from the
response start and the route template from the scope once routing is done. Labels use
the route template (``/api/v1/tasks/{task_id}``), never the raw path, so cardinality stays
bounded; unmatched paths share one label. With several worker processes,
``PROMETHEUS_MULTIPROC_DIR`` (set by ``taskapi serve --workers N``) makes /metrics add up
every worker.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskapi.core.db import Database
from taskapi.core.rawsql import PostgresRunner

access_log = logging.getLogger("taskapi.access")

REQUESTS = Counter(
    "taskapi_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "taskapi_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Two pools per worker (docs/adr/0006): "session" (SQLAlchemy: writes, filtered
# listings, accounts) and "hot" (asyncpg: the hot reads on PostgreSQL).
POOL_IN_USE = Gauge(
    "taskapi_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "taskapi_db_pool_connections_open",
    "Database connections the pool holds open.",
    ["pool"],
    multiprocess_mode="livesum",
)


class _HotPoolGauges:
    def __init__(self) -> None:
        self._in_use = POOL_IN_USE.labels("hot")
        self._open = POOL_OPEN.labels("hot")

    def checked_out(self, open_connections: int) -> None:
        self._in_use.inc()
        self._open.set(open_connections)

    def checked_in(self) -> None:
        self._in_use.dec()


def watch_pool(database: Database) -> None:
    """Keep the pool gauges current from the pools' own events (no work per scrape)."""
    pool = database.engine.sync_engine.pool
    in_use, opened = POOL_IN_USE.labels("session"), POOL_OPEN.labels("session")

    @event.listens_for(pool, "connect")
    def _opened(*_: Any) -> None:
        opened.inc()

    @event.listens_for(pool, "close")
    def _closed(*_: Any) -> None:
        opened.dec()

    @event.listens_for(pool, "checkout")
    def _checked_out(*_: Any) -> None:
        in_use.inc()

    @event.listens_for(pool, "checkin")
    def _checked_in(*_: Any) -> None:
        in_use.dec()

    if isinstance(database.runner, PostgresRunner):
        database.runner.watcher = _HotPoolGauges()


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app dies before answering

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                state = scope.get("state", {})
                access_log.info(
                    "%s %s %s",
                    method,
                    route,
                    status,
                    extra={
                        "request_id": state.get("request_id"),
                        "user_id": state.get("user_id"),
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )


async def metrics_endpoint(_: Request) -> Response:
    """Prometheus text format; with several workers, the sum over all of them."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
