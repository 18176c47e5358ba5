"""idempotency keys (Idempotency-Key header, D90-D92)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:40:52.285067
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "idempotency_keys",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_idempotency_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("project_id", "key", name=op.f("uq_idempotency_keys_project_id_key")),
    )
    op.create_index("ix_idempotency_keys_expiry", "idempotency_keys", ["project_id", "expires_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_idempotency_keys_expiry", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
