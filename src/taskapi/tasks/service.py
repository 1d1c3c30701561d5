"""Business rules of tasks. Every function acts for one owner; SQL lives in the repositories.

Functions that answer a client return ``TaskRead`` views (the row plus its tag names);
the ORM ``Task`` stays inside the service layer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from taskapi.core.db import Database
from taskapi.core.errors import Conflict, PreconditionFailed, UnprocessableEntity
from taskapi.core.http import check_if_match
from taskapi.core.models import utcnow
from taskapi.core.owner import Owner
from taskapi.core.pagination import CursorCodec, InvalidCursor
from taskapi.core.rawsql import StatementRunner
from taskapi.idempotency import service as idempotency
from taskapi.tags import service as tag_service
from taskapi.tags.models import tag_key
from taskapi.tasks import repository
from taskapi.tasks.errors import TaskNotFound
from taskapi.tasks.models import Task
from taskapi.tasks.query import Keyset, TaskFilters, TaskSort
from taskapi.tasks.recurrence import next_due
from taskapi.tasks.schemas import TaskCreate, TaskRead, TaskReplace, TaskUpdate

VIEW_FIELDS = tuple(TaskRead.model_fields)  # in the order clients see them
TASK_FIELDS = tuple(name for name in VIEW_FIELDS if name != "tags")


def view(task: Task, tags: Sequence[str]) -> TaskRead:
    values = {name: getattr(task, name) for name in TASK_FIELDS}
    return TaskRead.model_validate({**values, "tags": list(tags)})


def _tag_list(value: str | bytes | list[str | None] | None) -> list[str]:
    """Tag names from the aggregate column: a JSON array (SQLite), text[] or NULL."""
    names: list[str | None] = orjson.loads(value) if isinstance(value, str | bytes) else value or []
    return sorted((name for name in names if name is not None), key=tag_key)


# A task as the client sees it: ``TaskRead``'s fields in order, as a dict that
# ``core.http.render_json`` writes exactly as pydantic would write the model. The hot
# reads answer with these: no model object per row, no second validation.
TaskView = dict[str, Any]


def _task_view(values: Mapping[Any, Any], tags: list[str]) -> TaskView:
    return {name: tags if name == "tags" else values[name] for name in VIEW_FIELDS}


def view_values(values: Mapping[Any, Any]) -> TaskView:
    """A row of ``repository.owned_views`` (values come typed from the database)."""
    return _task_view(values, _tag_list(values["tag_names"]))


def view_of_row(values: Mapping[Any, Any]) -> TaskRead:
    return TaskRead.model_construct(**view_values(values))


async def read(runner: StatementRunner, owner: Owner, task_id: uuid.UUID) -> TaskView:
    row = await repository.read(runner, owner.id, task_id)
    if row is None:
        raise TaskNotFound()
    return view_values(row)


async def views(session: AsyncSession, user_id: uuid.UUID, tasks: Sequence[Task]) -> list[TaskRead]:
    """Views of many tasks with their tags, loaded in one query."""
    tags = await tag_service.tags_of(session, user_id, [task.id for task in tasks])
    return [view(task, tags.get(task.id, [])) for task in tasks]


async def one_view(session: AsyncSession, task: Task) -> TaskRead:
    return (await views(session, task.user_id, [task]))[0]


async def _insert(session: AsyncSession, task: Task, tags: Sequence[str]) -> TaskRead:
    await repository.add(session, task)
    return view(task, await tag_service.set_task_tags(session, task.user_id, task.id, tags))


def _new_task(user: Owner, data: TaskCreate) -> dict[str, Any]:
    """The columns of a task about to be created."""
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "user_id": user.id,
        **data.model_dump(exclude={"tags"}),
        "completed_at": now if data.completed else None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


async def create(session: AsyncSession, user: Owner, data: TaskCreate) -> TaskRead:
    return await _insert(session, Task(**_new_task(user, data)), data.tags)


async def create_task(database: Database, user: Owner, data: TaskCreate) -> TaskView:
    """POST /tasks (without an Idempotency-Key). On PostgreSQL the task and its tags
    are written by one statement, committed when it returns (docs/adr/0006)."""
    if database.runner.dialect != "postgresql":
        async with database.session() as session:
            created = await create(session, user, data)
            await session.commit()
        return created.model_dump()
    values = _new_task(user, data)
    tags = await repository.insert_with_tags(database.runner, values, data.tags)
    return _task_view(values, tags)


async def create_idempotent(
    session: AsyncSession, user: Owner, data: TaskCreate, key: str, path: str
) -> tuple[TaskRead, bool]:
    """Create once per (user, key): a retry returns the first result, flagged as replayed."""
    request = idempotency.fingerprint("POST", path, data.model_dump(mode="json"))
    stored = await idempotency.claim(session, user.id, key, request)
    if stored is not None:
        return TaskRead.model_validate_json(stored.body), True
    created = await create(session, user, data)
    await idempotency.store(session, user.id, key, 201, created.model_dump_json())
    return created, False


async def get(session: AsyncSession, user: Owner, task_id: uuid.UUID) -> Task:
    task = await repository.get(session, user.id, task_id)
    if task is None:
        raise TaskNotFound()
    return task


def _cursor_payload(user: Owner, sort: TaskSort, keyset: Keyset) -> dict[str, Any]:
    return {"u": user.id.hex, "s": sort.key, "v": sort.dump_value(keyset.value), "i": keyset.id.hex}


def _read_cursor(codec: CursorCodec, cursor: str, user: Owner, sort: TaskSort) -> Keyset:
    payload = codec.decode(cursor)
    if payload.get("u") != user.id.hex or payload.get("s") != sort.key:
        raise InvalidCursor("The cursor was issued for another query; start again without it")
    try:
        task_id = uuid.UUID(str(payload.get("i")))
    except ValueError as exc:
        raise InvalidCursor() from exc
    return Keyset(sort.load_value(payload.get("v")), task_id)


async def list_page(
    database: Database,
    codec: CursorCodec,
    user: Owner,
    filters: TaskFilters,
    sort: TaskSort,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """A ``TaskPage`` as a dict of ``TaskView`` items (see ``view_values``)."""
    after = _read_cursor(codec, cursor, user, sort) if cursor else None
    rows: Sequence[Mapping[Any, Any]]
    if repository.is_simple(filters, sort):
        rows = await repository.list_simple(
            database.runner, user.id, filters.status, sort, limit + 1, after
        )
    else:
        # Filters and search: statements shaped per request, planned with their values
        # on the session's connections (docs/query-plans.md).
        async with database.session(read_only=True) as session:
            found = await repository.list_page(session, user.id, filters, sort, limit + 1, after)
            rows = [row._mapping for row in found]
    page, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        next_cursor = codec.encode(_cursor_payload(user, sort, sort.keyset_of(page[-1])))
    return {"items": [view_values(row) for row in page], "next_cursor": next_cursor}


async def list_all(
    session: AsyncSession, user: Owner, filters: TaskFilters, sort: TaskSort, cap: int
) -> list[TaskRead]:
    """Up to ``cap`` tasks in one response (for clients that do not page)."""
    rows = await repository.list_page(session, user.id, filters, sort, cap, None)
    return [view_of_row(row._mapping) for row in rows]


async def _save(
    session: AsyncSession, task: Task, changes: dict[str, Any], if_match: str | None
) -> tuple[TaskRead, TaskRead | None]:
    """Apply what differs; bump ``updated_at`` (the ORM bumps ``version``).

    Returns the task and, when this change completed a recurring task (by any route),
    the next occurrence it created.
    """
    check_if_match(if_match, task.version)
    current_tags = (await tag_service.tags_of(session, task.user_id, [task.id])).get(task.id, [])
    new_tags = changes.pop("tags", None)
    tags_change = new_tags is not None and sorted(map(tag_key, new_tags)) != sorted(
        map(tag_key, current_tags)
    )
    changes = {name: value for name, value in changes.items() if getattr(task, name) != value}
    if "completed" in changes:
        changes["completed_at"] = utcnow() if changes["completed"] else None
    if not changes and not tags_change:
        return view(task, current_tags), None
    for name, value in changes.items():
        setattr(task, name, value)
    task.updated_at = utcnow()
    if tags_change:
        current_tags = await tag_service.set_task_tags(session, task.user_id, task.id, new_tags)
    successor = await _spawn_next(session, task, current_tags) if changes.get("completed") else None
    try:
        await session.flush()
    except StaleDataError as exc:  # another request changed it between our read and write
        if if_match is not None:
            raise PreconditionFailed("The task was changed by another request") from exc
        raise Conflict("The task was changed by another request; retry") from exc
    return view(task, current_tags), successor


async def update(
    session: AsyncSession, task: Task, data: TaskUpdate, if_match: str | None
) -> TaskRead:
    saved, _ = await _save(session, task, data.model_dump(exclude_unset=True), if_match)
    return saved


async def replace(
    session: AsyncSession, task: Task, data: TaskReplace, if_match: str | None
) -> TaskRead:
    saved, _ = await _save(session, task, data.model_dump(), if_match)
    return saved


async def delete(session: AsyncSession, user: Owner, task: Task, if_match: str | None) -> None:
    check_if_match(if_match, task.version)
    if not await repository.delete_owned(session, user.id, task.id):
        raise TaskNotFound()


async def _spawn_next(session: AsyncSession, task: Task, tags: Sequence[str]) -> TaskRead | None:
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
    # Linked before the insert flushes, so the task's own UPDATE happens once (one
    # version bump for the whole change).
    task.next_task_id = successor.id
    return await _insert(session, successor, tags)


async def complete(session: AsyncSession, task: Task) -> tuple[TaskRead, TaskRead | None]:
    """Mark done (a no-op when already done); a recurring task yields its next occurrence."""
    if task.completed:
        return await one_view(session, task), None
    try:
        async with session.begin_nested():
            return await _save(session, task, {"completed": True}, None)
    except Conflict:
        # A concurrent request won the race; if it completed the task, so did we.
        await session.refresh(task)
        if task.completed:
            return await one_view(session, task), None
        raise


async def reopen(session: AsyncSession, task: Task) -> TaskRead:
    """Mark not done (a no-op when already pending)."""
    reopened, _ = await _save(session, task, {"completed": False}, None)
    return reopened
