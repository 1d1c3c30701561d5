"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from taskapi.core.db import Database
from taskapi.core.errors import AppError, Conflict, UnsupportedMediaType


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route succeeds, else rolled back.

    Used with ``scope="function"`` so the commit happens before the response is sent:
    a client never sees a 2xx for a write that did not reach the database.
    """
    database: Database = request.app.state.database
    # GET and HEAD never write (external-account provisioning on a first GET commits
    # statement by statement, which is all it needs).
    read_only = request.method in {"GET", "HEAD"}
    async with database.session(read_only=read_only) as session:
        try:
            yield session
        except AppError as error:
            if error.commit_transaction:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except StaleDataError as exc:
            raise Conflict("The resource was changed by another request; retry") from exc


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def require_json_body(request: Request) -> None:
    """Refuse a body that is not JSON with 415 instead of a confusing validation error."""
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    if not has_body:
        return
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise UnsupportedMediaType()


JsonBody = Depends(require_json_body)
