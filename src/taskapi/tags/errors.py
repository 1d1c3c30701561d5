from __future__ import annotations

from taskapi.core.errors import NotFound


class TagNotFound(NotFound):
    slug, default_detail = "tag-not-found", "Tag not found"
