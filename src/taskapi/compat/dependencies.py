from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from taskapi.auth.authenticator import Principal
from taskapi.auth.dependencies import CurrentCaller
from taskapi.core.deps import SessionDep
from taskapi.core.errors import Forbidden
from taskapi.tasks import service as task_service
from taskapi.tasks.models import Task

UserIdPath = Annotated[
    str, Path(min_length=1, max_length=255, description="Must equal the token's subject.")
]


async def get_path_owner(user_id: UserIdPath, principal: CurrentCaller) -> Principal:
    """The caller, if the path names the caller; 403 otherwise (as the phase II spec says)."""
    if user_id != principal.subject:
        raise Forbidden("The user id in the path is not the signed-in user")
    return principal


PathOwner = Annotated[Principal, Depends(get_path_owner)]


async def get_path_owned_task(
    task_id: Annotated[uuid.UUID, Path(description="The task's id.")],
    owner: PathOwner,
    session: SessionDep,
) -> Task:
    return await task_service.get(session, owner, task_id)


PathOwnedTask = Annotated[Task, Depends(get_path_owned_task)]
