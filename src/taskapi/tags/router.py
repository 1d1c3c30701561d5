"""Tag routes under /api/v1/tags."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from taskapi.auth.dependencies import CurrentCaller
from taskapi.core.deps import JsonBody, SessionDep
from taskapi.core.errors import problem_responses
from taskapi.tags import service
from taskapi.tags.schemas import TagRead, TagRename, TagSummary

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])

# ":path" so that a tag name may contain "/" (sent percent-encoded as %2F).
TagPath = Annotated[
    str, Path(min_length=1, max_length=200, description="The tag's name (any case).")
]


@router.get("", response_model=list[TagSummary], responses=problem_responses(401))
async def list_tags(user: CurrentCaller, session: SessionDep) -> list[TagSummary]:
    """The caller's tags with how many tasks carry each."""
    return await service.list_tags(session, user)


@router.patch(
    "/{name:path}",
    response_model=TagRead,
    dependencies=[JsonBody],
    responses=problem_responses(401, 404, 413, 415, 422),
)
async def rename_tag(
    name: TagPath, data: TagRename, user: CurrentCaller, session: SessionDep
) -> TagRead:
    """Rename a tag; renaming onto an existing tag merges the two."""
    return await service.rename(session, user, name, data)


@router.delete(
    "/{name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 404, 422),
)
async def delete_tag(name: TagPath, user: CurrentCaller, session: SessionDep) -> Response:
    """Delete a tag: it is removed from every task of the caller."""
    await service.delete(session, user, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
