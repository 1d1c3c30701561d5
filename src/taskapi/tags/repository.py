"""All SQL about tags and task–tag links. Every statement is scoped to one user."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, Uuid, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from taskapi.core.models import utcnow
from taskapi.core.sql import upsert_insert
from taskapi.tags.models import Tag, TaskTag, tag_key


def owned(user_id: uuid.UUID) -> Select[Tag]:
    return select(Tag).where(col(Tag.user_id) == user_id)


async def get_by_name(session: AsyncSession, user_id: uuid.UUID, name: str) -> Tag | None:
    result = await session.execute(owned(user_id).where(col(Tag.name_key) == tag_key(name)))
    return result.scalar_one_or_none()


async def ensure(session: AsyncSession, user_id: uuid.UUID, names: Sequence[str]) -> list[Tag]:
    """The user's tags with these names, creating the missing ones (race-safe)."""
    if not names:
        return []
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "name": name,
            "name_key": tag_key(name),
            "created_at": now,
        }
        for name in names
    ]
    await session.execute(upsert_insert(session, Tag).values(rows).on_conflict_do_nothing())
    keys = [row["name_key"] for row in rows]
    result = await session.execute(owned(user_id).where(col(Tag.name_key).in_(keys)))
    return list(result.scalars().all())


async def names_by_task(
    session: AsyncSession, user_id: uuid.UUID, task_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Tag names of each task, alphabetical (case-insensitive); tasks without tags absent."""
    ids = list(task_ids)
    if not ids:
        return {}
    result = await session.execute(
        select(col(TaskTag.task_id), col(Tag.name))
        .join(Tag, (col(Tag.id) == col(TaskTag.tag_id)) & (col(Tag.user_id) == user_id))
        .where(col(TaskTag.user_id) == user_id, col(TaskTag.task_id).in_(ids))
        .order_by(col(TaskTag.task_id), col(Tag.name_key))
    )
    names: dict[uuid.UUID, list[str]] = defaultdict(list)
    for task_id, name in result.all():
        names[task_id].append(name)
    return names


async def replace_links(
    session: AsyncSession, user_id: uuid.UUID, task_id: uuid.UUID, tag_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(TaskTag).where(col(TaskTag.user_id) == user_id, col(TaskTag.task_id) == task_id)
    )
    if tag_ids:
        rows = [{"task_id": task_id, "tag_id": tag_id, "user_id": user_id} for tag_id in tag_ids]
        await session.execute(upsert_insert(session, TaskTag).values(rows).on_conflict_do_nothing())


async def summaries(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[str, int]]:
    result = await session.execute(
        select(col(Tag.name), func.count(col(TaskTag.task_id)))
        .outerjoin(
            TaskTag, (col(TaskTag.tag_id) == col(Tag.id)) & (col(TaskTag.user_id) == user_id)
        )
        .where(col(Tag.user_id) == user_id)
        .group_by(col(Tag.id), col(Tag.name), col(Tag.name_key))
        .order_by(col(Tag.name_key))
    )
    return [(name, count) for name, count in result.all()]


def task_ids_with_tag(user_id: uuid.UUID, tag_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(col(TaskTag.task_id)).where(
        col(TaskTag.user_id) == user_id, col(TaskTag.tag_id) == tag_id
    )


async def rename(session: AsyncSession, tag: Tag, new_name: str) -> None:
    await session.execute(
        update(Tag)
        .where(col(Tag.user_id) == tag.user_id, col(Tag.id) == tag.id)
        .values(name=new_name, name_key=tag_key(new_name))
    )


async def merge_into(session: AsyncSession, user_id: uuid.UUID, source: Tag, target: Tag) -> None:
    """Give every task of ``source`` the tag ``target`` (no duplicates), then drop ``source``."""
    tasks_of_source = select(
        col(TaskTag.task_id), literal(target.id, Uuid()), col(TaskTag.user_id)
    ).where(col(TaskTag.user_id) == user_id, col(TaskTag.tag_id) == source.id)
    await session.execute(
        upsert_insert(session, TaskTag)
        .from_select(["task_id", "tag_id", "user_id"], tasks_of_source)
        .on_conflict_do_nothing()
    )
    await delete_tag(session, user_id, source)


async def delete_tag(session: AsyncSession, user_id: uuid.UUID, tag: Tag) -> None:
    # Links go with it through ON DELETE CASCADE.
    await session.execute(delete(Tag).where(col(Tag.user_id) == user_id, col(Tag.id) == tag.id))
