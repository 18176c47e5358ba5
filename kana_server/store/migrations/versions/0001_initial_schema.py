"""Initial schema: projects, the catalog, users, subscriptions, usage counters and events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 09:39:59.305686
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("private_key", sa.String(length=255), nullable=False),
        sa.Column("public_key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_secret", sa.String(length=128), nullable=False),
        sa.Column("catalog_version", sa.BigInteger(), nullable=False),
        sa.Column("subscription_seq", sa.BigInteger(), nullable=False),
        sa.Column("clock_offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("clock_frozen_at", sa.DateTime(), nullable=True),
        sa.Column("seed_digest", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("private_key", name=op.f("uq_projects_private_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_projects_public_key")),
    )
    op.create_table(
        "features",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("unit_label", sa.String(), nullable=True),
        sa.Column("unit_label_plural", sa.String(), nullable=True),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_features_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_features")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_features_project_id_id")),
    )
    op.create_table(
        "packages",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("is_addon", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_packages_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_packages")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_packages_project_id_id")),
    )
    op.create_table(
        "users",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("billing_id", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_users_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_users")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_users_project_id_id")),
    )
    op.create_table(
        "addon_bases",
        sa.Column("addon_pk", sa.Integer(), nullable=False),
        sa.Column("base_pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["addon_pk"], ["packages.pk"], name=op.f("fk_addon_bases_addon_pk_packages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["base_pk"], ["packages.pk"], name=op.f("fk_addon_bases_base_pk_packages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_addon_bases_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("addon_pk", "base_pk", name=op.f("pk_addon_bases")),
    )
    op.create_table(
        "billing_templates",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("package_pk", sa.Integer(), nullable=False),
        sa.Column("price_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_pk"],
            ["packages.pk"],
            name=op.f("fk_billing_templates_package_pk_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_billing_templates_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_billing_templates")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_billing_templates_project_id_id")),
    )
    op.create_table(
        "package_features",
        sa.Column("package_pk", sa.Integer(), nullable=False),
        sa.Column("feature_pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("limit", sa.BigInteger(), nullable=True),
        sa.Column("reset_period", sa.String(length=8), nullable=True),
        sa.Column("overage_enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feature_pk"], ["features.pk"], name=op.f("fk_package_features_feature_pk_features")
        ),
        sa.ForeignKeyConstraint(
            ["package_pk"],
            ["packages.pk"],
            name=op.f("fk_package_features_package_pk_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_package_features_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_pk", "feature_pk", name=op.f("pk_package_features")),
    )
    op.create_table(
        "package_prices",
        sa.Column("package_pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("display_amount", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("interval", sa.String(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_pk"],
            ["packages.pk"],
            name=op.f("fk_package_prices_package_pk_packages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_package_prices_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("package_pk", "id", name=op.f("pk_package_prices")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("package_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("metadata", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["package_pk"], ["packages.pk"], name=op.f("fk_subscriptions_package_pk_packages")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_subscriptions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.pk"], name=op.f("fk_subscriptions_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("project_id", "id", name=op.f("uq_subscriptions_project_id_id")),
    )
    op.create_index("ix_subscriptions_user", "subscriptions", ["user_pk"])

    op.create_table(
        "usage_counters",
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("feature_pk", sa.Integer(), nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feature_pk"], ["features.pk"], name=op.f("fk_usage_counters_feature_pk_features")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_usage_counters_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_pk"],
            ["subscriptions.pk"],
            name=op.f("fk_usage_counters_subscription_pk_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.pk"], name=op.f("fk_usage_counters_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "user_pk", "feature_pk", "subscription_pk", "period_index", name=op.f("pk_usage_counters")
        ),
    )
    op.create_table(
        "usage_events",
        sa.Column("pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("feature_pk", sa.Integer(), nullable=False),
        sa.Column("subscription_pk", sa.Integer(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("used_after", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feature_pk"], ["features.pk"], name=op.f("fk_usage_events_feature_pk_features")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_usage_events_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_pk"],
            ["subscriptions.pk"],
            name=op.f("fk_usage_events_subscription_pk_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.pk"], name=op.f("fk_usage_events_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_usage_events")),
    )
    op.create_index(
        "ix_usage_events_period", "usage_events", ["subscription_pk", "feature_pk", "period_index", "pk"]
    )
    op.create_index("ix_usage_events_project", "usage_events", ["project_id", "pk"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_usage_events_project", "usage_events")
    op.drop_index("ix_usage_events_period", "usage_events")
    op.drop_table("usage_events")
    op.drop_table("usage_counters")
    op.drop_index("ix_subscriptions_user", "subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("package_prices")
    op.drop_table("package_features")
    op.drop_table("billing_templates")
    op.drop_table("addon_bases")
    op.drop_table("users")
    op.drop_table("packages")
    op.drop_table("features")
    op.drop_table("projects")
