"""Task routes under /api/v1/tasks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from taskapi.auth.dependencies import CurrentCaller
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.core.http import entity_tag, matches_if_none_match
from taskapi.core.pagination import MAX_CURSOR_LENGTH
from taskapi.idempotency.models import KEY_MAX_LENGTH
from taskapi.tasks import service
from taskapi.tasks.dependencies import CursorCodecDep, ListFilters, ListSort, OwnedTask
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
    Header(max_length=256, description="Change only if the ETag still matches (else 412)."),
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
    session: SessionDep,
    codec: CursorCodecDep,
    filters: ListFilters,
    sort: ListSort,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of a page.")
    ] = None,
) -> TaskPage:
    """List the caller's tasks, filtered and sorted, one keyset page at a time."""
    return await service.list_page(session, codec, user, filters, sort, limit, cursor)


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
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TaskRead:
    """Create a task (send `Idempotency-Key` to make retries safe)."""
    if idempotency_key is None:
        task = await service.create(session, user, data)
    else:
        task, replayed = await service.create_idempotent(
            session, user, data, idempotency_key, request.url.path
        )
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{router.prefix}/{task.id}"
    return _with_etag(response, task)


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
    session: SessionDep,
    response: Response,
    if_none_match: Annotated[str | None, Header(max_length=256)] = None,
) -> TaskRead | Response:
    """One task; answers 304 when If-None-Match names its current ETag."""
    task = await service.read(session, user, task_id)
    if matches_if_none_match(if_none_match, task.version):
        return Response(
            status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": entity_tag(task.version)}
        )
    return _with_etag(response, task)


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
