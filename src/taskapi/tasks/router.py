"""Task routes under /api/v1/tasks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from taskapi.auth.authenticator import Principal
from taskapi.auth.dependencies import CurrentCaller
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.core.http import (
    ETAG_HEADER_MAX_LENGTH,
    entity_tag,
    json_response,
    matches_if_none_match,
    raw_json_response,
    render_json,
)
from taskapi.core.pagination import MAX_CURSOR_LENGTH
from taskapi.idempotency.models import KEY_MAX_LENGTH
from taskapi.tasks import service
from taskapi.tasks.dependencies import ListFilters, ListSort, OwnedTask
from taskapi.tasks.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskFilters, TaskSort
from taskapi.tasks.schemas import (
    TaskCompletion,
    TaskCreate,
    TaskPage,
    TaskRead,
    TaskReplace,
    TaskUpdate,
)

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])

IfMatch = Annotated[
    str | None,
    Header(
        max_length=ETAG_HEADER_MAX_LENGTH,
        description="Change only if the ETag still matches (else 412).",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe create: the same key and body return the first result (24 h).",
    ),
]
WRITE_ERRORS = problem_responses(401, 404, 409, 412, 413, 415, 422)


def _with_etag(response: Response, task: TaskRead) -> TaskRead:
    response.headers["ETag"] = entity_tag(task.version)
    return task


@router.get("", response_model=TaskPage, responses=problem_responses(401, 422))
async def list_tasks(
    user: CurrentCaller,
    request: Request,
    filters: ListFilters,
    sort: ListSort,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of a page.")
    ] = None,
) -> Response:
    """List the caller's tasks, filtered and sorted, one keyset page at a time."""
    return await page_answer(request, user, filters, sort, limit, cursor)


async def page_answer(
    request: Request,
    user: Principal,
    filters: TaskFilters,
    sort: TaskSort,
    limit: int,
    cursor: str | None,
) -> Response:
    """GET /tasks once its parameters are read (shared with tasks/express.py)."""
    state = request.app.state
    page = await service.list_page(
        state.database, state.cursor_codec, user, filters, sort, limit, cursor
    )
    return raw_json_response(render_json(page))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
    dependencies=[JsonBody],
    responses=problem_responses(401, 409, 413, 415, 422),
)
async def create_task(
    data: TaskCreate,
    user: CurrentCaller,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a task (send `Idempotency-Key` to make retries safe)."""
    headers: dict[str, str] = {}
    if idempotency_key is None:
        return await created_answer(request, user, data)
    task, replayed = await service.create_idempotent(
        session, user, data, idempotency_key, request.url.path
    )
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    headers |= _created_headers(task.id, task.version)
    return json_response(task, status_code=status.HTTP_201_CREATED, headers=headers)


def _created_headers(task_id: uuid.UUID, version: int) -> dict[str, str]:
    return {"Location": f"{router.prefix}/{task_id}", "ETag": entity_tag(version)}


async def created_answer(request: Request, user: Principal, data: TaskCreate) -> Response:
    """POST /tasks without an Idempotency-Key, once the body is read (shared with
    tasks/express.py)."""
    task = await service.create_task(request.app.state.database, user, data)
    headers = _created_headers(task["id"], task["version"])
    return raw_json_response(
        render_json(task), status_code=status.HTTP_201_CREATED, headers=headers
    )


@router.get(
    "/{task_id}",
    response_model=TaskRead,
    responses={
        304: {"description": "Not modified: If-None-Match names the current ETag"},
        **problem_responses(401, 404, 422),
    },
)
async def get_task(
    task_id: Annotated[uuid.UUID, Path(description="The task's id.")],
    user: CurrentCaller,
    request: Request,
    if_none_match: Annotated[str | None, Header(max_length=ETAG_HEADER_MAX_LENGTH)] = None,
) -> Response:
    """One task; answers 304 when If-None-Match names its current ETag."""
    return await task_answer(request, user, task_id, if_none_match)


async def task_answer(
    request: Request, user: Principal, task_id: uuid.UUID, if_none_match: str | None
) -> Response:
    """GET /tasks/{task_id} once its parameters are read (shared with tasks/express.py)."""
    task = await service.read(request.app.state.database.runner, user, task_id)
    version: int = task["version"]
    headers = {"ETag": entity_tag(version)}
    if matches_if_none_match(if_none_match, version):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return raw_json_response(render_json(task), headers=headers)


@router.patch(
    "/{task_id}", response_model=TaskRead, dependencies=[JsonBody], responses=WRITE_ERRORS
)
async def update_task(
    data: TaskUpdate,
    task: OwnedTask,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> TaskRead:
    """Change some fields of a task."""
    return _with_etag(response, await service.update(session, task, data, if_match))


@router.put("/{task_id}", response_model=TaskRead, dependencies=[JsonBody], responses=WRITE_ERRORS)
async def replace_task(
    data: TaskReplace,
    task: OwnedTask,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> TaskRead:
    """Replace a task: fields not given return to their defaults."""
    return _with_etag(response, await service.replace(session, task, data, if_match))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 404, 412, 422),
)
async def delete_task(
    task: OwnedTask, user: CurrentCaller, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """Delete a task."""
    await service.delete(session, user, task, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{task_id}/complete",
    response_model=TaskCompletion,
    responses=problem_responses(401, 404, 409, 422),
)
async def complete_task(task: OwnedTask, session: SessionDep, response: Response) -> TaskCompletion:
    """Mark a task done (idempotent); a recurring task returns its next occurrence as `next`."""
    done, successor = await service.complete(session, task)
    _with_etag(response, done)
    return TaskCompletion.model_validate({**done.model_dump(), "next": successor})


@router.post(
    "/{task_id}/reopen", response_model=TaskRead, responses=problem_responses(401, 404, 409, 422)
)
async def reopen_task(task: OwnedTask, session: SessionDep, response: Response) -> TaskRead:
    """Mark a task not done (idempotent)."""
    return _with_etag(response, await service.reopen(session, task))
