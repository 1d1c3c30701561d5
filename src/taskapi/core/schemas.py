"""The base every request schema builds on, and shared field types."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    field_validator,
)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_contains_nul(item) for item in value)
    return False


NO_NUL_PATTERN = "^[^\\x00]*$"
# At least one visible character and no NUL (for values that are trimmed).
NOT_BLANK_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def _document_no_nul(schema: dict[str, Any]) -> None:
    """Say in the OpenAPI document what the validator enforces: no NUL in any string."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and "pattern" not in node and "format" not in node:
                node["pattern"] = NO_NUL_PATTERN
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema.get("properties", {}))


class RequestModel(BaseModel):
    """Unknown (and so server-owned) fields are errors; NUL characters are refused.

    PostgreSQL cannot store NUL in text, and nothing a person types contains one.
    """

    model_config = ConfigDict(
        extra="forbid", str_max_length=100_000, json_schema_extra=_document_no_nul
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


_RFC3339_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _timestamp_text(value: object) -> object:
    """Only RFC 3339 text is a timestamp: pydantic would also take 0 or "0" as 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_PREFIX.match(value):
        raise ValueError("must be an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z")
    return value


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. year 9999 at a negative offset
        raise ValueError("timestamp is out of range") from exc


UTCTimestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text), AfterValidator(_to_utc)]
"""An RFC 3339 timestamp with an offset, normalised to UTC."""
