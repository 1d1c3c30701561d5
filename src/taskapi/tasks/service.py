"""Business rules of tasks. Every function acts for one owner; SQL lives in the repository."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from taskapi.core.errors import Conflict, PreconditionFailed, UnprocessableEntity
from taskapi.core.http import check_if_match
from taskapi.core.models import utcnow
from taskapi.core.pagination import CursorCodec, InvalidCursor
from taskapi.tasks import repository
from taskapi.tasks.errors import TaskNotFound
from taskapi.tasks.models import Task
from taskapi.tasks.query import Keyset, TaskFilters, TaskSort
from taskapi.tasks.recurrence import next_due
from taskapi.tasks.schemas import TaskCreate, TaskPage, TaskRead, TaskReplace, TaskUpdate
from taskapi.users.models import User


async def create(session: AsyncSession, user: User, data: TaskCreate) -> Task:
    now = utcnow()
    task = Task(
        user_id=user.id,
        **data.model_dump(),
        completed_at=now if data.completed else None,
        created_at=now,
        updated_at=now,
    )
    await repository.add(session, task)
    return task


async def get(session: AsyncSession, user: User, task_id: uuid.UUID) -> Task:
    task = await repository.get(session, user.id, task_id)
    if task is None:
        raise TaskNotFound()
    return task


def _cursor_payload(user: User, sort: TaskSort, keyset: Keyset) -> dict[str, Any]:
    return {"u": user.id.hex, "s": sort.key, "v": sort.dump_value(keyset.value), "i": keyset.id.hex}


def _read_cursor(codec: CursorCodec, cursor: str, user: User, sort: TaskSort) -> Keyset:
    payload = codec.decode(cursor)
    if payload.get("u") != user.id.hex or payload.get("s") != sort.key:
        raise InvalidCursor("The cursor was issued for another query; start again without it")
    try:
        task_id = uuid.UUID(str(payload.get("i")))
    except ValueError as exc:
        raise InvalidCursor() from exc
    return Keyset(sort.load_value(payload.get("v")), task_id)


async def list_page(
    session: AsyncSession,
    codec: CursorCodec,
    user: User,
    filters: TaskFilters,
    sort: TaskSort,
    limit: int,
    cursor: str | None,
) -> TaskPage:
    after = _read_cursor(codec, cursor, user, sort) if cursor else None
    rows = await repository.list_page(session, user.id, filters, sort, limit + 1, after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = (
        codec.encode(_cursor_payload(user, sort, sort.keyset_of(page[-1]))) if more else None
    )
    return TaskPage(items=[TaskRead.model_validate(task) for task in page], next_cursor=next_cursor)


async def _save(
    session: AsyncSession, task: Task, changes: dict[str, Any], if_match: str | None
) -> Task:
    """Apply the changes that differ; bump ``updated_at`` (the ORM bumps ``version``)."""
    check_if_match(if_match, task.version)
    changes = {name: value for name, value in changes.items() if getattr(task, name) != value}
    if "completed" in changes:
        changes["completed_at"] = utcnow() if changes["completed"] else None
    if not changes:
        return task
    for name, value in changes.items():
        setattr(task, name, value)
    task.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError as exc:  # another request changed it between our read and write
        if if_match is not None:
            raise PreconditionFailed("The task was changed by another request") from exc
        raise Conflict("The task was changed by another request; retry") from exc
    return task


async def update(session: AsyncSession, task: Task, data: TaskUpdate, if_match: str | None) -> Task:
    return await _save(session, task, data.model_dump(exclude_unset=True), if_match)


async def replace(
    session: AsyncSession, task: Task, data: TaskReplace, if_match: str | None
) -> Task:
    return await _save(session, task, data.model_dump(), if_match)


async def delete(session: AsyncSession, user: User, task: Task, if_match: str | None) -> None:
    check_if_match(if_match, task.version)
    if not await repository.delete_owned(session, user.id, task.id):
        raise TaskNotFound()


async def _spawn_next(session: AsyncSession, task: Task) -> Task | None:
    if task.recurrence is None or task.due_at is None or task.next_task_id is not None:
        return None
    try:
        due_at = next_due(task.due_at, task.recurrence)
    except (OverflowError, ValueError) as exc:
        raise UnprocessableEntity(
            "The next occurrence would fall after the year 9999", loc=("due_at",)
        ) from exc
    now = utcnow()
    successor = Task(
        user_id=task.user_id,
        title=task.title,
        description=task.description,
        priority=task.priority,
        due_at=due_at,
        recurrence=task.recurrence,
        created_at=now,
        updated_at=now,
    )
    await repository.add(session, successor)
    task.next_task_id = successor.id
    return successor


async def complete(session: AsyncSession, task: Task) -> tuple[Task, Task | None]:
    """Mark done (a no-op when already done); a recurring task yields its next occurrence."""
    if task.completed:
        return task, None
    try:
        async with session.begin_nested():
            successor = await _spawn_next(session, task)
            await _save(session, task, {"completed": True}, None)
    except Conflict:
        # A concurrent request won the race; if it completed the task, so did we.
        await session.refresh(task)
        if task.completed:
            return task, None
        raise
    return task, successor


async def reopen(session: AsyncSession, task: Task) -> Task:
    """Mark not done (a no-op when already pending)."""
    return await _save(session, task, {"completed": False}, None)
