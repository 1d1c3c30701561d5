"""`/api/{user_id}/tasks…`: the phase II paths, authorised by the same bearer token.

`{user_id}` must be the token's subject (403 otherwise). PUT changes only the fields it
is given: these front ends do not know about priority, tags or recurrence and must not
wipe them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from taskapi.compat.dependencies import PathOwnedTask, PathOwner
from taskapi.compat.schemas import SORT_KEYS, CompatSort, CompatTask
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.core.models import utcnow
from taskapi.tasks import service as task_service
from taskapi.tasks.query import Status, TaskFilters, TaskSort
from taskapi.tasks.schemas import TaskCreate, TaskRead, TaskUpdate


class SubjectConvertor(StringConvertor):
    """A path segment that is not an API version ("v1", "v2"…): /api/v2/… stays a 404."""

    regex = r"(?!v[0-9]+/)[^/]+"


register_url_convertor("subject", SubjectConvertor())

router = APIRouter(prefix="/api/{user_id:subject}/tasks", tags=["compatibility (phase II)"])

MAX_LISTED = 1000
ERRORS = problem_responses(401, 403, 404, 422)


def _compat(task: TaskRead, owner_subject: str) -> CompatTask:
    return CompatTask.model_validate({**task.model_dump(), "user_id": owner_subject})


@router.get("", response_model=list[CompatTask], responses=problem_responses(401, 403, 422))
async def list_tasks(
    owner: PathOwner,
    session: SessionDep,
    status_: Annotated[Status, Query(alias="status")] = Status.all,
    sort: Annotated[CompatSort, Query(description="created (newest first), title, due_date")] = (
        CompatSort.created_desc
    ),
) -> list[CompatTask]:
    """All of the user's tasks (at most 1,000; use /api/v1/tasks to page through more)."""
    filters = TaskFilters(status=status_, now=utcnow())
    tasks = await task_service.list_all(
        session, owner, filters, TaskSort.parse(SORT_KEYS[sort]), MAX_LISTED
    )
    return [_compat(task, owner.subject) for task in tasks]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CompatTask,
    dependencies=[JsonBody],
    responses=problem_responses(401, 403, 413, 415, 422),
)
async def create_task(
    data: TaskCreate, owner: PathOwner, session: SessionDep, response: Response
) -> CompatTask:
    """Create a task."""
    task = await task_service.create(session, owner, data)
    response.headers["Location"] = f"/api/{owner.subject}/tasks/{task.id}"
    return _compat(task, owner.subject)


@router.get("/{task_id}", response_model=CompatTask, responses=ERRORS)
async def get_task(task: PathOwnedTask, owner: PathOwner, session: SessionDep) -> CompatTask:
    """One task."""
    return _compat(await task_service.one_view(session, task), owner.subject)


@router.put(
    "/{task_id}",
    response_model=CompatTask,
    dependencies=[JsonBody],
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def update_task(
    data: TaskUpdate, task: PathOwnedTask, owner: PathOwner, session: SessionDep
) -> CompatTask:
    """Update the fields given."""
    return _compat(await task_service.update(session, task, data, None), owner.subject)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
)
async def delete_task(task: PathOwnedTask, owner: PathOwner, session: SessionDep) -> Response:
    """Delete a task."""
    await task_service.delete(session, owner, task, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{task_id}/complete",
    response_model=CompatTask,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def toggle_complete(task: PathOwnedTask, owner: PathOwner, session: SessionDep) -> CompatTask:
    """Toggle `completed`."""
    if task.completed:
        toggled = await task_service.reopen(session, task)
    else:
        toggled, _ = await task_service.complete(session, task)
    return _compat(toggled, owner.subject)
