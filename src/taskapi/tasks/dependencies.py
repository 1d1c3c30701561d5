"""Load-and-check dependencies for task routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Request

from taskapi.auth.dependencies import CurrentUser
from taskapi.core.deps import SessionDep
from taskapi.core.pagination import CursorCodec
from taskapi.tasks import service
from taskapi.tasks.models import Task


async def get_owned_task(
    task_id: Annotated[uuid.UUID, Path(description="The task's id.")],
    user: CurrentUser,
    session: SessionDep,
) -> Task:
    """The caller's task, or 404: another user's task is answered as one that does not exist."""
    return await service.get(session, user, task_id)


def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


OwnedTask = Annotated[Task, Depends(get_owned_task)]
CursorCodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
