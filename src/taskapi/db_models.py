"""Imports every table model, so the metadata Alembic compares against is complete."""

from sqlmodel import SQLModel

from taskapi.auth.models import RefreshToken
from taskapi.idempotency.models import IdempotencyRecord
from taskapi.tags.models import Tag, TaskTag
from taskapi.tasks.models import Task
from taskapi.users.models import DeletedIdentity, User

metadata = SQLModel.metadata

__all__ = [
    "DeletedIdentity",
    "IdempotencyRecord",
    "RefreshToken",
    "Tag",
    "Task",
    "TaskTag",
    "User",
    "metadata",
]
