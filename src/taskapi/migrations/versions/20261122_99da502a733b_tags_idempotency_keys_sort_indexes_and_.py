"""tags, idempotency keys, sort indexes and full-text search

Revision ID: 99da502a733b
Revises: dfb5d7eddf18
Create Date: 2026-11-22 22:57:41.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "99da502a733b"
down_revision: str | None = "dfb5d7eddf18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
SORT_INDEXES = {
    "ix_tasks_user_id_updated_at_id": ["user_id", "updated_at", "id"],
    "ix_tasks_user_id_due_at_id": ["user_id", "due_at", "id"],
    "ix_tasks_user_id_priority_id": ["user_id", "priority", "id"],
    "ix_tasks_user_id_title_id": ["user_id", "title", "id"],
}

# SQLite: an external-content FTS5 index over tasks(title, description), keyed by the
# tasks table's rowid and kept in sync by triggers (the pattern of the FTS5 manual).
SQLITE_SEARCH_UP = [
    """CREATE VIRTUAL TABLE tasks_fts USING fts5(
        title, description, content='tasks', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER tasks_fts_after_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO tasks_fts(rowid, title, description)
        VALUES (new.rowid, new.title, new.description);
    END""",
    """CREATE TRIGGER tasks_fts_after_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO tasks_fts(tasks_fts, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
    END""",
    """CREATE TRIGGER tasks_fts_after_update AFTER UPDATE OF title, description ON tasks BEGIN
        INSERT INTO tasks_fts(tasks_fts, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
        INSERT INTO tasks_fts(rowid, title, description)
        VALUES (new.rowid, new.title, new.description);
    END""",
    "INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild')",
]
SQLITE_SEARCH_DOWN = [
    "DROP TRIGGER tasks_fts_after_update",
    "DROP TRIGGER tasks_fts_after_delete",
    "DROP TRIGGER tasks_fts_after_insert",
    "DROP TABLE tasks_fts",
]

# PostgreSQL: a stored generated tsvector ('simple': no stemming, no stop words) with GIN.
# Case folding follows the database's LC_CTYPE: use a UTF-8 one (C.UTF-8, en_US.UTF-8).
POSTGRES_SEARCH_UP = [
    # ASCII punctuation becomes a space first: PostgreSQL's parser would otherwise keep
    # "example.com", "a@b.org" or "milk/eggs" as one token, where SQLite's sees words.
    """ALTER TABLE tasks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig,
            regexp_replace(title || ' ' || description, '[[:punct:]]+', ' ', 'g'))) STORED""",
    "CREATE INDEX ix_tasks_search_vector ON tasks USING gin (search_vector)",
]
POSTGRES_SEARCH_DOWN = [
    "DROP INDEX ix_tasks_search_vector",
    "ALTER TABLE tasks DROP COLUMN search_vector",
]


def _execute(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"])

    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_key", sa.String(length=150), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_tags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("user_id", "name_key", name=op.f("uq_tags_user_id_name_key")),
    )
    op.create_table(
        "task_tags",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_task_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_tags_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_tags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "tag_id", name=op.f("pk_task_tags")),
    )
    op.create_index("ix_task_tags_tag_id_task_id", "task_tags", ["tag_id", "task_id"])
    op.create_index(op.f("ix_task_tags_user_id"), "task_tags", ["user_id"])

    for name, columns in SORT_INDEXES.items():
        op.create_index(name, "tasks", columns)

    dialect = op.get_bind().dialect.name
    _execute(POSTGRES_SEARCH_UP if dialect == "postgresql" else SQLITE_SEARCH_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _execute(POSTGRES_SEARCH_DOWN if dialect == "postgresql" else SQLITE_SEARCH_DOWN)
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="tasks")
    op.drop_index(op.f("ix_task_tags_user_id"), table_name="task_tags")
    op.drop_index("ix_task_tags_tag_id_task_id", table_name="task_tags")
    op.drop_table("task_tags")
    op.drop_table("tags")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
