"""Small HTTP helpers: entity tags, JSON answers built without FastAPI's second pass."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from taskapi.core.errors import PreconditionFailed


def _uuid_text(value: object) -> str:
    # asyncpg returns its own uuid.UUID subclass, which orjson does not take as a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def render_json(value: object) -> bytes:
    """JSON as pydantic would write the response models: UTC times end in "Z", enums
    as their values (tests/core/test_render.py checks the two agree)."""
    return orjson.dumps(value, default=_uuid_text, option=orjson.OPT_UTC_Z)


def raw_json_response(
    body: bytes, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(body, status_code, headers, media_type="application/json")


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """The model as JSON, serialized once by pydantic-core. A route returning this skips
    FastAPI's validate-then-serialize of its ``response_model`` (which still documents
    the answer); use it only with a model the route built itself."""
    body = model.__pydantic_serializer__.to_json(model)
    return raw_json_response(body, status_code=status_code, headers=headers)


ETAG_HEADER_MAX_LENGTH = 256  # If-Match / If-None-Match: longer is refused (422)


def entity_tag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",") if part.strip()]


def matches_if_none_match(header: str | None, version: int) -> bool:
    """True when ``If-None-Match`` names the current version (so the answer is 304)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or entity_tag(version) in tags


def check_if_match(header: str | None, version: int) -> None:
    """Raise 412 when ``If-Match`` is given and names no current version."""
    if header is None:
        return
    tags = _tags(header)
    if "*" not in tags and entity_tag(version) not in tags:
        raise PreconditionFailed(
            f"If-Match does not match the current version ({entity_tag(version)})"
        )
