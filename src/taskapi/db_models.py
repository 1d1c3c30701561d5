"""Imports every table model, so the metadata Alembic compares against is complete."""

from sqlmodel import SQLModel

from taskapi.auth.models import RefreshToken
from taskapi.tasks.models import Task
from taskapi.users.models import User

metadata = SQLModel.metadata

__all__ = ["RefreshToken", "Task", "User", "metadata"]
