"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from taskapi.core.db import Database
from taskapi.core.errors import ServiceUnavailable, problem_responses
from taskapi.core.observability import metrics_endpoint
from taskapi.core.ratelimit import RateLimiter

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    database: str | None = None
    rate_limit_store: str | None = Field(
        default=None,
        description="memory, redis, or 'redis unavailable' (then per-user API limits are "
        "off and sign-in limits are counted per process until Redis answers again).",
    )


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status; database pool usage."""
    return await metrics_endpoint(request)


@router.get("/readyz", response_model=Health, responses=problem_responses(503))
async def readyz(request: Request) -> Health:
    """The service can reach its database (503 when it cannot)."""
    database: Database = request.app.state.database
    try:
        await database.ping()
    except Exception as exc:  # any failure to answer SELECT 1 means "not ready"
        raise ServiceUnavailable("The database is not reachable") from exc
    limiter: RateLimiter = request.app.state.rate_limiter
    store = limiter.store if limiter.store_healthy else f"{limiter.store} unavailable"
    return Health(status="ok", database="ok", rate_limit_store=store)
