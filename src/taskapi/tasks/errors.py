from __future__ import annotations

from taskapi.core.errors import NotFound


class TaskNotFound(NotFound):
    slug, default_detail = "task-not-found", "Task not found"
