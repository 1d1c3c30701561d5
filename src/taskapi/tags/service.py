"""Business rules of tags: listing, renaming (merging), deleting, and tagging tasks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.core.models import utcnow
from taskapi.core.owner import Owner
from taskapi.tags import repository
from taskapi.tags.errors import TagNotFound
from taskapi.tags.models import Tag
from taskapi.tags.schemas import TagRead, TagRename, TagSummary
from taskapi.tasks import repository as task_repository


async def list_tags(session: AsyncSession, user: Owner) -> list[TagSummary]:
    rows = await repository.summaries(session, user.id)
    return [TagSummary(name=name, task_count=count) for name, count in rows]


async def _get(session: AsyncSession, user: Owner, name: str) -> Tag:
    tag = await repository.get_by_name(session, user.id, name)
    if tag is None:
        raise TagNotFound()
    return tag


async def rename(session: AsyncSession, user: Owner, name: str, data: TagRename) -> TagRead:
    """Rename a tag; onto another existing tag's name, merge the two."""
    tag = await _get(session, user, name)
    target = await repository.get_by_name(session, user.id, data.name)
    # The tasks' tag lists change: new versions, so cached ETags stop matching.
    await task_repository.touch_tagged(session, user.id, tag.id, utcnow())
    if target is None or target.id == tag.id:
        await repository.rename(session, tag, data.name)
        return TagRead(name=data.name)
    await repository.merge_into(session, user.id, tag, target)
    return TagRead(name=target.name)


async def delete(session: AsyncSession, user: Owner, name: str) -> None:
    tag = await _get(session, user, name)
    await task_repository.touch_tagged(session, user.id, tag.id, utcnow())
    await repository.delete_tag(session, user.id, tag)


async def set_task_tags(
    session: AsyncSession, user_id: uuid.UUID, task_id: uuid.UUID, names: Sequence[str]
) -> list[str]:
    """Replace the task's tags; return them as stored (first spelling wins), alphabetical."""
    tags = await repository.ensure(session, user_id, names)
    await repository.replace_links(session, user_id, task_id, [tag.id for tag in tags])
    return [tag.name for tag in sorted(tags, key=lambda tag: tag.name_key)]


async def tags_of(
    session: AsyncSession, user_id: uuid.UUID, task_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    return await repository.names_by_task(session, user_id, task_ids)
