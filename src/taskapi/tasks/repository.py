"""All SQL about tasks. Every statement starts from ``owned(user_id)``."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    column,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from taskapi.core.rawsql import RowValues, StatementRunner
from taskapi.core.sql import dialect_name
from taskapi.tags.models import Tag, TaskTag, tag_key
from taskapi.tasks import search
from taskapi.tasks.models import Task
from taskapi.tasks.query import Keyset, Status, TaskFilters, TaskSort


def owned(user_id: uuid.UUID) -> Select[Task]:
    """The caller's tasks: the one place a task query may start from."""
    return select(Task).where(col(Task.user_id) == user_id)


# What a client sees of a task; user_id and next_task_id stay inside.
VIEW_COLUMNS = [
    column
    for column in Task.__table__.columns  # type: ignore[attr-defined]
    if column.name not in {"user_id", "next_task_id"}
]


def _tag_names(user_id: Any, dialect: str, task_id: Any = None) -> Any:
    """The task's tag names as one value per row: text[] (PostgreSQL) or a JSON array.

    ``task_id`` is the column to correlate with (``tasks.id`` unless the rows come from
    a subquery)."""
    aggregate = func.array_agg if dialect == "postgresql" else func.json_group_array
    task_id = col(Task.id) if task_id is None else task_id
    return (
        select(aggregate(col(Tag.name)))
        .select_from(TaskTag)
        .join(Tag, (col(Tag.id) == col(TaskTag.tag_id)) & (col(Tag.user_id) == user_id))
        .where(col(TaskTag.task_id) == task_id, col(TaskTag.user_id) == user_id)
        .scalar_subquery()
        .label("tag_names")
    )


def owned_views(user_id: Any, dialect: str) -> Select[Any]:
    """The caller's tasks as read-only rows with their tag names: one query, no ORM objects.

    ``user_id`` is a value, or a bind parameter in the statements built once below.
    """
    return select(*VIEW_COLUMNS, _tag_names(user_id, dialect)).where(col(Task.user_id) == user_id)


# Statements of the hot paths, built once per dialect (and list shape) with named bind
# parameters: building a select() costs more than executing it (docs/adr/0005).
_USER = bindparam("user_id", type_=Uuid())


@functools.cache
def _read_one_statement(dialect: str) -> Select[Any]:
    task_id = bindparam("task_id", type_=Uuid())
    return owned_views(_USER, dialect).where(col(Task.id) == task_id)


@functools.cache
def _simple_list_statement(dialect: str, sort: TaskSort, status: Status, paged: bool) -> Any:
    """A listing filtered at most by status, on a non-null sort key."""
    statement = _filtered(
        owned_views(_USER, dialect), _USER, TaskFilters(status=status), [], dialect
    )
    if paged:
        after = tuple_(
            bindparam("after_value", type_=sort.column.type), bindparam("after_id", type_=Uuid())
        )
        row = tuple_(sort.column, col(Task.id))
        statement = statement.where(row < after if sort.descending else row > after)
    return _ordered(statement, sort).limit(bindparam("limit", type_=Integer()))


async def _execute(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Any:
    # Core execution on the session's connection: no ORM compile or identity-map work.
    connection = await session.connection()
    return await connection.execute(statement, params or {})


async def read(runner: StatementRunner, user_id: uuid.UUID, task_id: uuid.UUID) -> RowValues | None:
    statement = _read_one_statement(runner.dialect)
    rows = await runner.fetch(statement, {"user_id": user_id, "task_id": task_id})
    return rows[0] if rows else None


def _typed(name: str, column: str | None = None) -> Any:
    """A bind parameter typed like a ``tasks`` column (its conversions apply)."""
    return bindparam(name, type_=Task.__table__.c[column or name].type)  # type: ignore[attr-defined]


# PostgreSQL: a task with its tags in one statement, so one round trip and one implicit
# transaction (docs/adr/0006). Tags are created if missing; ON CONFLICT DO UPDATE (not
# DO NOTHING) returns the existing tag even when another transaction created it after
# this statement's snapshot, and it locks the tag against a concurrent delete. Rows are
# locked in name_key order, so two creates naming the same tags in another order cannot
# deadlock. The links' foreign key to the new task is checked at the end of the
# statement, when the task exists.
_INSERT_WITH_TAGS = (
    text(
        """
    WITH tag_rows AS (
        INSERT INTO tags (id, user_id, name, name_key, created_at)
        SELECT new.id, :user_id, new.name, new.name_key, :created_at
        FROM unnest(:tag_ids, :tag_names, :tag_keys) AS new (id, name, name_key)
        ORDER BY new.name_key
        ON CONFLICT (user_id, name_key) DO UPDATE SET name_key = excluded.name_key
        RETURNING id, name, name_key
    ), new_task AS (
        INSERT INTO tasks (
            id, user_id, title, description, completed, completed_at, priority, due_at,
            recurrence, created_at, updated_at, version
        ) VALUES (
            :id, :user_id, :title, :description, :completed, :completed_at, :priority,
            :due_at, :recurrence, :created_at, :updated_at, 1
        )
    ), links AS (
        INSERT INTO task_tags (task_id, tag_id, user_id)
        SELECT :id, tag_rows.id, :user_id FROM tag_rows
    )
    SELECT name, name_key FROM tag_rows
    """
    )
    .bindparams(
        _typed("id"),
        _typed("user_id"),
        _typed("title"),
        _typed("description"),
        _typed("completed"),
        _typed("completed_at"),
        _typed("priority"),
        _typed("due_at"),
        _typed("recurrence"),
        _typed("created_at"),
        _typed("updated_at"),
        bindparam("tag_ids", type_=postgresql.ARRAY(Uuid())),
        bindparam("tag_names", type_=postgresql.ARRAY(String())),
        bindparam("tag_keys", type_=postgresql.ARRAY(String())),
    )
    .columns(column("name", String()), column("name_key", String()))
)


async def insert_with_tags(
    runner: StatementRunner, values: dict[str, Any], tag_names: Sequence[str]
) -> list[str]:
    """PostgreSQL only. Insert the task (``values``: its columns); return its tags as
    stored (an existing tag keeps its first spelling), alphabetical ignoring case."""
    keys = [tag_key(name) for name in tag_names]
    rows = await runner.fetch(
        _INSERT_WITH_TAGS,
        {
            **values,
            "tag_ids": [uuid.uuid4() for _ in keys],
            "tag_names": list(tag_names),
            "tag_keys": keys,
        },
    )
    return [row["name"] for row in sorted(rows, key=lambda row: row["name_key"])]


async def get(session: AsyncSession, user_id: uuid.UUID, task_id: uuid.UUID) -> Task | None:
    """The ORM object, for changing it."""
    result = await session.execute(owned(user_id).where(col(Task.id) == task_id))
    task: Task | None = result.scalar_one_or_none()
    return task


async def add(session: AsyncSession, task: Task) -> None:
    session.add(task)
    await session.flush()


async def delete_owned(session: AsyncSession, user_id: uuid.UUID, task_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(Task).where(col(Task.user_id) == user_id, col(Task.id) == task_id)
    )
    return bool(getattr(result, "rowcount", 0))


def _has_tag(user_id: uuid.UUID, tag_id: uuid.UUID) -> ColumnElement[bool]:
    # By id, not by name: with the id as a plain value the planner knows which tag it
    # is and can choose between walking the sort index and reading the tag's tasks
    # (824 ms -> 0.2 ms for a common tag of a 200k-task user, docs/query-plans.md).
    return exists().where(
        col(TaskTag.task_id) == col(Task.id),
        col(TaskTag.user_id) == user_id,
        col(TaskTag.tag_id) == tag_id,
    )


async def _tag_ids(
    session: AsyncSession, user_id: uuid.UUID, names: tuple[str, ...]
) -> list[uuid.UUID] | None:
    """The ids of the named tags, or None if one of them does not exist (no task has it)."""
    keys = {tag_key(name) for name in names}
    result = await session.execute(
        select(col(Tag.id)).where(col(Tag.user_id) == user_id, col(Tag.name_key).in_(keys))
    )
    ids = list(result.scalars().all())
    return ids if len(ids) == len(keys) else None


def _filtered(
    statement: Select[Any],
    user_id: Any,
    filters: TaskFilters,
    tag_ids: list[uuid.UUID],
    dialect: str,
) -> Select[Any]:
    if filters.status is Status.pending:
        statement = statement.where(col(Task.completed).is_(False))
    elif filters.status is Status.completed:
        statement = statement.where(col(Task.completed).is_(True))
    if filters.priorities:
        statement = statement.where(col(Task.priority).in_(filters.priorities))
    if filters.due_before is not None:
        statement = statement.where(col(Task.due_at) < filters.due_before)
    if filters.due_after is not None:
        statement = statement.where(col(Task.due_at) > filters.due_after)
    for tag_id in tag_ids:  # all of them
        statement = statement.where(_has_tag(user_id, tag_id))
    if filters.text is not None:
        statement = statement.where(search.matches(dialect, filters.text))
    if filters.overdue and filters.now is not None:
        statement = statement.where(
            col(Task.due_at) < filters.now,
            col(Task.completed).is_(False),
        )
    return statement


def _after(sort: TaskSort, keyset: Keyset) -> ColumnElement[bool]:
    """Rows strictly after ``keyset`` in sort order, as one index-friendly row comparison."""
    left = tuple_(sort.column, col(Task.id))
    right = tuple_(
        bindparam(None, keyset.value, type_=sort.column.type),
        bindparam(None, keyset.id, type_=Uuid()),
    )
    return left < right if sort.descending else left > right


def _ordered(statement: Select[Any], sort: TaskSort) -> Select[Any]:
    if sort.descending:
        return statement.order_by(sort.column.desc(), col(Task.id).desc())
    return statement.order_by(sort.column.asc(), col(Task.id).asc())


async def _fetch(session: AsyncSession, statement: Select[Any]) -> list[Row[Any]]:
    return list((await _execute(session, statement)).all())


def is_simple(filters: TaskFilters, sort: TaskSort) -> bool:
    """Filtered at most by status, on a non-null sort key: one index range in sort order,
    the same plan for every user and cursor (so the hot path may run it)."""
    return not (
        sort.nullable
        or filters.priorities
        or filters.tags
        or filters.text
        or filters.due_before
        or filters.due_after
        or filters.overdue
    )


async def list_simple(
    runner: StatementRunner,
    user_id: uuid.UUID,
    status: Status,
    sort: TaskSort,
    limit: int,
    after: Keyset | None,
) -> list[RowValues]:
    """``list_page`` for a listing that ``is_simple``: one statement built once."""
    statement = _simple_list_statement(runner.dialect, sort, status, after is not None)
    params: dict[str, Any] = {"user_id": user_id, "limit": limit}
    if after is not None:
        params.update(after_value=after.value, after_id=after.id)
    return await runner.fetch(statement, params)


# A tag filter first walks the sort index, at most this many rows, checking each row's
# tags. PostgreSQL cannot estimate a tag filter: tag and owner are correlated across the
# join, so for a tag on most of a user's tasks it expects a handful of rows, reads every
# tagged task and sorts them (8 ms for 715 tasks, docs/performance.md). Walking finds a
# page of a common tag in a few dozen rows. Only when the walk comes back short (a rare
# tag, or few tasks) is the tag's own list read, which is what suits a rare tag.
TAG_WALK_ROWS = 2_000


def _carries(task_id: Any, user_id: uuid.UUID, tag_id: uuid.UUID) -> ColumnElement[bool]:
    # A scalar subquery, not EXISTS: the planner keeps it a per-row check instead of
    # turning it into the join it misestimates.
    link = (
        select(literal(1))
        .where(
            col(TaskTag.task_id) == task_id,
            col(TaskTag.user_id) == user_id,
            col(TaskTag.tag_id) == tag_id,
        )
        .limit(1)
        .scalar_subquery()
    )
    return link.is_not(None)


async def _walk_tagged(
    session: AsyncSession,
    user_id: uuid.UUID,
    filters: TaskFilters,
    tag_ids: list[uuid.UUID],
    sort: TaskSort,
    limit: int,
    after: Keyset | None,
) -> list[Row[Any]]:
    """The first ``limit`` tagged tasks among the next ``TAG_WALK_ROWS`` in sort order."""
    dialect = dialect_name(session)
    window = _filtered(owned(user_id), user_id, filters, [], dialect)
    if after is not None:
        window = window.where(_after(sort, after))
    walked = _ordered(window, sort).limit(TAG_WALK_ROWS).subquery("walked")
    key, task_id = walked.c[sort.field], walked.c.id
    statement = (
        select(
            *(walked.c[column.name] for column in VIEW_COLUMNS),
            _tag_names(user_id, dialect, task_id),
        )
        .where(*(_carries(task_id, user_id, tag_id) for tag_id in tag_ids))
        .order_by(*((key.desc(), task_id.desc()) if sort.descending else (key, task_id)))
        .limit(limit)
    )
    return await _fetch(session, statement)


async def list_page(
    session: AsyncSession,
    user_id: uuid.UUID,
    filters: TaskFilters,
    sort: TaskSort,
    limit: int,
    after: Keyset | None,
) -> list[Row[Any]]:
    """Up to ``limit`` task views after ``after`` in sort order (ties broken by id).

    A nullable sort key (``due_at``) puts tasks without a value last in both
    directions. That is read as two index range scans, the dated tasks and then the
    undated ones, instead of one OR that no index can serve.
    """
    dialect = dialect_name(session)
    tag_ids: list[uuid.UUID] = []
    if filters.tags:
        found = await _tag_ids(session, user_id, filters.tags)
        if found is None:
            return []
        tag_ids = found
        if filters.text is None and not sort.nullable:
            walked = await _walk_tagged(session, user_id, filters, tag_ids, sort, limit, after)
            if len(walked) == limit:
                return walked
    base = _filtered(owned_views(user_id, dialect), user_id, filters, tag_ids, dialect)
    if not sort.nullable:
        statement = base if after is None else base.where(_after(sort, after))
        return await _fetch(session, _ordered(statement, sort).limit(limit))

    rows: list[Row[Any]] = []
    column: Any = sort.column
    if after is None or after.value is not None:
        dated = base.where(column.is_not(None))
        if after is not None:
            dated = dated.where(_after(sort, after))
        rows = await _fetch(session, _ordered(dated, sort).limit(limit))
    if len(rows) < limit:
        undated = base.where(column.is_(None))
        if after is not None and after.value is None:
            undated = undated.where(
                col(Task.id) < after.id if sort.descending else col(Task.id) > after.id
            )
        # Ordered as the dated part (all due_at here are NULL, so effectively by id):
        # that keeps it a range scan of the user's (user_id, due_at, id) index.
        rows += await _fetch(session, _ordered(undated, sort).limit(limit - len(rows)))
    return rows


async def touch_tagged(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, now: datetime
) -> None:
    """New version for every task carrying the tag (its tag list is about to change)."""
    tagged = select(col(TaskTag.task_id)).where(
        col(TaskTag.user_id) == user_id, col(TaskTag.tag_id) == tag_id
    )
    await session.execute(
        update(Task)
        .where(col(Task.user_id) == user_id, col(Task.id).in_(tagged))
        .values(version=col(Task.version) + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
