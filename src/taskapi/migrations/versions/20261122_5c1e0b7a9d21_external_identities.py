"""external identities on users

Revision ID: 5c1e0b7a9d21
Revises: 99da502a733b
Create Date: 2026-11-22 23:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e0b7a9d21"
down_revision: str | None = "99da502a733b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deleted_identities",
        sa.Column("auth_issuer", sa.String(length=255), nullable=False),
        sa.Column("auth_subject", sa.String(length=255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("auth_issuer", "auth_subject", name=op.f("pk_deleted_identities")),
    )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email", existing_type=sa.String(length=320), nullable=True)
        batch.alter_column("email_key", existing_type=sa.String(length=320), nullable=True)
        batch.add_column(sa.Column("auth_issuer", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("auth_subject", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_users_auth_issuer_auth_subject"), ["auth_issuer", "auth_subject"]
        )


def downgrade() -> None:
    # External accounts have no e-mail key; they cannot exist in the older schema.
    op.execute("DELETE FROM users WHERE auth_issuer IS NOT NULL")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_auth_issuer_auth_subject"), type_="unique")
        batch.drop_column("auth_subject")
        batch.drop_column("auth_issuer")
        batch.alter_column("email_key", existing_type=sa.String(length=320), nullable=False)
        batch.alter_column("email", existing_type=sa.String(length=320), nullable=False)
    op.drop_table("deleted_identities")
