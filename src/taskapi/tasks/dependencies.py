"""Load-and-check dependencies for task routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import StringConstraints

from taskapi.auth.dependencies import CurrentCaller
from taskapi.core.deps import SessionDep
from taskapi.core.errors import UnprocessableEntity
from taskapi.core.models import utcnow
from taskapi.core.pagination import CursorCodec
from taskapi.core.schemas import UTCTimestamp
from taskapi.tags.models import TAG_MAX_LENGTH
from taskapi.tasks import service
from taskapi.tasks.models import Priority, Task
from taskapi.tasks.query import SortKey, Status, TaskFilters, TaskSort
from taskapi.tasks.schemas import MAX_TAGS_PER_TASK

MAX_QUERY_LENGTH = 500


async def get_owned_task(
    task_id: Annotated[uuid.UUID, Path(description="The task's id.")],
    user: CurrentCaller,
    session: SessionDep,
) -> Task:
    """The caller's task, or 404: another user's task is answered as one that does not exist."""
    return await service.get(session, user, task_id)


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


async def get_list_filters(
    status: Annotated[Status, Query(description="Completion state.")] = Status.all,
    priority: Annotated[
        list[Priority] | None, Query(description="Repeatable: tasks with any of these.")
    ] = None,
    tag: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=TAG_MAX_LENGTH)]] | None,
        Query(
            max_length=MAX_TAGS_PER_TASK,
            description="Repeatable: tasks with all of these tags (ignoring case).",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description="Words to find in title or description: every word, as a prefix, any case.",
        ),
    ] = None,
    due_before: Annotated[UTCTimestamp | None, Query(description="Due strictly before.")] = None,
    due_after: Annotated[UTCTimestamp | None, Query(description="Due strictly after.")] = None,
    overdue: Annotated[bool, Query(description="Due in the past and not completed.")] = False,
) -> TaskFilters:
    tags = tuple(dict.fromkeys(name.strip() for name in tag or ()))
    if len(tags) > MAX_TAGS_PER_TASK:
        raise UnprocessableEntity(
            f"At most {MAX_TAGS_PER_TASK} tag filters", loc=("query", "tag"), type_="too_long"
        )
    if any(not 1 <= len(name) <= TAG_MAX_LENGTH for name in tags):
        raise UnprocessableEntity(
            f"Each tag must be 1–{TAG_MAX_LENGTH} characters", loc=("query", "tag")
        )
    return TaskFilters(
        status=status,
        priorities=tuple(dict.fromkeys(priority or ())),
        tags=tags,
        text=q if q and q.strip() else None,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
        now=utcnow(),
    )


async def get_sort(
    sort: Annotated[
        SortKey,
        Query(description="Sort key, `-` prefix for descending; ties broken by id."),
    ] = SortKey.created_at_desc,
) -> TaskSort:
    return TaskSort.parse(sort)


OwnedTask = Annotated[Task, Depends(get_owned_task)]
CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
ListFilters = Annotated[TaskFilters, Depends(get_list_filters)]
ListSort = Annotated[TaskSort, Depends(get_sort)]
