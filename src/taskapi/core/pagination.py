"""Opaque, tamper-evident keyset cursors.

A cursor is base64url(JSON payload + HMAC-SHA256 tag). The payload names the owner and
the sort it was made for, so a forged, truncated, foreign or mismatched cursor is a 422,
never a 500 and never a way to read another user's rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import orjson

from taskapi.core.errors import UnprocessableEntity

_TAG_BYTES = 16
MAX_CURSOR_LENGTH = 2048


class InvalidCursor(UnprocessableEntity):
    slug = "invalid-cursor"

    def __init__(self, detail: str = "The cursor is malformed or was not issued for this query"):
        super().__init__(detail, loc=("query", "cursor"), type_="cursor_invalid")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class CursorCodec:
    def __init__(self, secret: str) -> None:
        # A key of its own, so a cursor tag can never serve as anything else's signature.
        self._key = hmac.new(secret.encode(), b"taskapi.cursor.v1", hashlib.sha256).digest()

    def _tag(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, payload: dict[str, Any]) -> str:
        data = orjson.dumps(payload)
        return _encode(data + self._tag(data))

    def decode(self, cursor: str) -> dict[str, Any]:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor() from exc
        if _encode(raw) != cursor:  # non-canonical base64: unused bits were altered
            raise InvalidCursor()
        data, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if len(raw) <= _TAG_BYTES or not hmac.compare_digest(tag, self._tag(data)):
            raise InvalidCursor()
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidCursor() from exc
        if not isinstance(payload, dict):
            raise InvalidCursor()
        return payload
