"""Assertions about RFC 9457 problem+json responses, shared by the test modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
LEAK_MARKERS = ("Traceback", "sqlalchemy", "SELECT", 'File "')


def assert_no_leak(response: httpx.Response) -> None:
    """No stack trace or SQL in the body or headers, whatever the status."""
    text = response.text + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker!r} leaked in a {response.status_code} response"


def assert_problem(
    response: httpx.Response,
    status: int,
    *,
    detail: str | None = None,
    loc: Sequence[str | int] | None = None,
) -> dict[str, Any]:
    """A problem document with ``status``; on 422, one error whose ``loc`` is ``loc``.

    ``loc`` matches an error whose location equals it, or starts with it (pydantic adds
    the index or the union member after the field name).
    """
    assert response.status_code == status, response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str), member
        assert body[member], member
    if detail is not None:
        assert body["detail"] == detail
    if status == 422:
        assert isinstance(body.get("errors"), list), body
        assert body["errors"], body
        for issue in body["errors"]:
            assert set(issue) == {"loc", "msg", "type"}
    if loc is not None:
        expected = list(loc)
        locations = [issue["loc"] for issue in body["errors"]]
        assert any(found[: len(expected)] == expected for found in locations), (
            f"no error at {expected}; errors at {locations}"
        )
    assert_no_leak(response)
    return body
