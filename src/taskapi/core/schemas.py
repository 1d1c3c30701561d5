"""The base every request schema builds on, and shared field types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, field_validator


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_contains_nul(item) for item in value)
    return False


class RequestModel(BaseModel):
    """Unknown (and so server-owned) fields are errors; NUL characters are refused.

    PostgreSQL cannot store NUL in text, and nothing a person types contains one.
    """

    model_config = ConfigDict(extra="forbid", str_max_length=100_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. year 9999 at a negative offset
        raise ValueError("timestamp is out of range") from exc


UTCTimestamp = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An RFC 3339 timestamp with an offset, normalised to UTC."""


def trimmed(value: str) -> str:
    return value.strip()
