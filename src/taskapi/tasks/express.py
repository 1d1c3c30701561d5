"""Express routes of the hottest requests (core/express.py explains the contract):
reading one task, listing a page, creating a task.

Each handler accepts only the canonical spelling of its parameters, a subset of what the
FastAPI route accepts, and declines (returns ``None``) on anything else *before* it
authenticates, so a declined request is counted and answered once, by the FastAPI route.
"""

from __future__ import annotations

import re
import uuid

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from taskapi.auth.dependencies import get_caller
from taskapi.core.express import ExpressRoute
from taskapi.core.http import ETAG_HEADER_MAX_LENGTH
from taskapi.core.pagination import MAX_CURSOR_LENGTH
from taskapi.tasks.query import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SortKey,
    Status,
    TaskFilters,
    TaskSort,
)
from taskapi.tasks.router import created_answer, page_answer, router, task_answer
from taskapi.tasks.schemas import TaskCreate

# Matched with fullmatch: "$" would also match before a trailing newline.
_CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_PAGE_SIZE = re.compile(r"[1-9][0-9]{0,2}")
_SORTS = {key.value: key for key in SortKey}
_STATUSES = {status.value: status for status in Status}
_LIST_PARAMETERS = frozenset({"limit", "cursor", "sort", "status"})


async def get_task(request: Request) -> Response | None:
    raw_id: str = request.path_params["task_id"]
    conditions = request.headers.getlist("if-none-match")
    if (
        not _CANONICAL_UUID.fullmatch(raw_id)
        or len(conditions) > 1
        or any(len(value) > ETAG_HEADER_MAX_LENGTH for value in conditions)
    ):
        return None
    user = await get_caller(request)
    return await task_answer(
        request, user, uuid.UUID(raw_id), conditions[0] if conditions else None
    )


async def list_tasks(request: Request) -> Response | None:
    """Only listings by status, sort, page size and cursor (no filters, no search)."""
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items) or not params.keys() <= _LIST_PARAMETERS:
        return None
    raw_limit = params.get("limit", str(DEFAULT_PAGE_SIZE))
    sort = _SORTS.get(params.get("sort", SortKey.created_at_desc.value))
    status = _STATUSES.get(params.get("status", Status.all.value))
    cursor = params.get("cursor")
    if (
        not _PAGE_SIZE.fullmatch(raw_limit)
        or int(raw_limit) > MAX_PAGE_SIZE
        or sort is None
        or status is None
        or (cursor is not None and len(cursor) > MAX_CURSOR_LENGTH)
    ):
        return None
    user = await get_caller(request)
    filters = TaskFilters(status=status)
    return await page_answer(request, user, filters, TaskSort.parse(sort), int(raw_limit), cursor)


_JSON = frozenset({"application/json", "application/json; charset=utf-8"})


async def create_task(request: Request) -> Response | None:
    """Only a JSON body that validates, without an Idempotency-Key."""
    content_type = request.headers.getlist("content-type")
    if (
        "idempotency-key" in request.headers
        or len(content_type) != 1
        or content_type[0].lower() not in _JSON
    ):
        return None
    body = await request.body()
    try:
        data = TaskCreate.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None  # the FastAPI route explains what is wrong (422)
    user = await get_caller(request)
    return await created_answer(request, user, data)


ROUTES = (
    ExpressRoute(router.prefix + "/{task_id}", "GET", get_task),
    ExpressRoute(router.prefix, "GET", list_tasks),
    ExpressRoute(router.prefix, "POST", create_task),
)
