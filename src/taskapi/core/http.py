"""Small HTTP helpers: entity tags."""

from __future__ import annotations

from taskapi.core.errors import PreconditionFailed


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
