"""Apply Alembic migrations programmatically (used by ``taskapi migrate`` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# Search objects that live only in migrations (one backend each): not model drift.
_MIGRATION_ONLY = {"search_vector", "ix_tasks_search_vector", "tasks_fts"}


def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    """Alembic's filter for comparing the database with the models."""
    return not (name in _MIGRATION_ONLY or (name or "").startswith("tasks_fts_"))


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision``; call it where no event loop is running."""
    command.upgrade(alembic_config(database_url), revision)
