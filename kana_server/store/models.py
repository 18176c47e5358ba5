"""SQLModel tables. Every project-scoped table carries `project_id`; entities have an integer `pk`
(creation order, stable under renames) beside the Kana `id` the customer chose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, identical on every dialect, so a migration can name what it alters (D61)."""
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC instants as naive timestamps on every dialect and returns them timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware → naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Naive UTC → aware."""
        return None if value is None else value.replace(tzinfo=UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function from the aware instant to SQLAlchemy's text for it (D123)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return sqlite_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, one function from SQLAlchemy's text to the aware instant (D123)."""
        usual = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or usual is None:
            return usual

        def process(value: Any) -> datetime | None:
            if type(value) is str:
                return datetime.fromisoformat(value + "+00:00")
            return usual(value)

        return process


SQLITE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
"""SQLAlchemy's text for a DATETIME on SQLite (`2026-01-02 03:04:05.123000`)."""


def sqlite_text(value: datetime | None) -> str | None:
    """An aware instant as SQLAlchemy's SQLite DATETIME stores it, in UTC (D123)."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is None:
        raise ValueError("naive datetime given to a UTC column")
    if zone is not UTC:
        value = value.astimezone(UTC)
    return SQLITE_FORMAT % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _json() -> Any:
    return Field(default=None, sa_type=JSON(none_as_null=True))


def _utc(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _project_fk() -> Any:
    return Field(sa_column_args=[ForeignKey("projects.id", ondelete="CASCADE")], index=False)


class ProjectRow(SQLModel, table=True):
    """A tenant: one private key, one public key, its own data and virtual clock."""

    __tablename__ = "projects"
    id: int | None = Field(default=None, primary_key=True)
    private_key: str = Field(max_length=255, unique=True)
    public_key: str = Field(max_length=255, unique=True)
    name: str = Field(max_length=255)
    token_secret: str = Field(max_length=128)
    catalog_version: int = Field(default=0, sa_type=BigInteger)
    subscription_seq: int = Field(default=0, sa_type=BigInteger)
    clock_offset_ms: int = Field(default=0, sa_type=BigInteger)
    clock_frozen_at: datetime | None = _utc(nullable=True)
    seed_digest: str | None = Field(default=None, max_length=128)
    created_at: datetime = _utc()


class FeatureRow(SQLModel, table=True):
    """A feature (binary or consumable)."""

    __tablename__ = "features"
    __table_args__ = (UniqueConstraint("project_id", "id"),)
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=255)
    name: str
    type: str = Field(max_length=16)
    unit_label: str | None = None
    unit_label_plural: str | None = None
    metadata_: Any = Field(default=None, sa_column=Column("metadata", JSON(none_as_null=True)))
    created_at: datetime = _utc()


class PackageRow(SQLModel, table=True):
    """A package: a base plan ("tier") or an add-on."""

    __tablename__ = "packages"
    __table_args__ = (UniqueConstraint("project_id", "id"),)
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=255)
    name: str
    is_addon: bool = False
    status: str = Field(max_length=16)
    metadata_: Any = Field(default=None, sa_column=Column("metadata", JSON(none_as_null=True)))
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class PackageFeatureRow(SQLModel, table=True):
    """A feature's entitlement inside one package."""

    __tablename__ = "package_features"
    package_pk: int = Field(sa_column_args=[ForeignKey("packages.pk", ondelete="CASCADE")], primary_key=True)
    feature_pk: int = Field(sa_column_args=[ForeignKey("features.pk")], primary_key=True)
    project_id: int = _project_fk()
    limit: int | None = Field(default=None, sa_type=BigInteger)
    reset_period: str | None = Field(default=None, max_length=8)
    overage_enabled: bool = False
    position: int = 0


class PackagePriceRow(SQLModel, table=True):
    """A price of a package at the billing provider."""

    __tablename__ = "package_prices"
    package_pk: int = Field(sa_column_args=[ForeignKey("packages.pk", ondelete="CASCADE")], primary_key=True)
    id: str = Field(max_length=255, primary_key=True)
    project_id: int = _project_fk()
    provider: str
    amount: int = Field(sa_type=BigInteger)
    display_amount: str
    currency: str
    interval: str | None = None
    position: int = 0


class AddonBaseRow(SQLModel, table=True):
    """An add-on limited to certain base packages (none listed: any base)."""

    __tablename__ = "addon_bases"
    addon_pk: int = Field(sa_column_args=[ForeignKey("packages.pk", ondelete="CASCADE")], primary_key=True)
    base_pk: int = Field(sa_column_args=[ForeignKey("packages.pk", ondelete="CASCADE")], primary_key=True)
    project_id: int = _project_fk()


class BillingTemplateRow(SQLModel, table=True):
    """A billing template: a package sold at one of its prices."""

    __tablename__ = "billing_templates"
    __table_args__ = (UniqueConstraint("project_id", "id"),)
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=255)
    package_pk: int = Field(sa_column_args=[ForeignKey("packages.pk", ondelete="CASCADE")])
    price_id: str | None = None


class UserRow(SQLModel, table=True):
    """An end user of the customer's product."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("project_id", "id"),)
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=255)
    billing_id: str | None = None
    name: str | None = None
    email: str | None = None
    metadata_: Any = Field(default=None, sa_column=Column("metadata", JSON(none_as_null=True)))
    created_at: datetime = _utc()


class SubscriptionRow(SQLModel, table=True):
    """A user's subscription to a package; `started_at` anchors its reset periods."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("project_id", "id"), Index("ix_subscriptions_user", "user_pk"))
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=32)
    user_pk: int = Field(sa_column_args=[ForeignKey("users.pk", ondelete="CASCADE")])
    package_pk: int = Field(sa_column_args=[ForeignKey("packages.pk")])
    status: str = Field(max_length=24)
    metadata_: Any = Field(default=None, sa_column=Column("metadata", JSON(none_as_null=True)))
    started_at: datetime = _utc()
    status_changed_at: datetime = _utc()


class UsageCounterRow(SQLModel, table=True):
    """The running total of one period: updated atomically with each event, so reads never sum events."""

    __tablename__ = "usage_counters"
    user_pk: int = Field(sa_column_args=[ForeignKey("users.pk", ondelete="CASCADE")], primary_key=True)
    feature_pk: int = Field(sa_column_args=[ForeignKey("features.pk")], primary_key=True)
    subscription_pk: int = Field(
        sa_column_args=[ForeignKey("subscriptions.pk", ondelete="CASCADE")], primary_key=True
    )
    period_index: int = Field(primary_key=True, sa_type=Integer)
    project_id: int = _project_fk()
    used: int = Field(default=0, sa_type=BigInteger)


class UsageEventRow(SQLModel, table=True):
    """One recorded usage event (append-only)."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_period", "subscription_pk", "feature_pk", "period_index", "pk"),
        Index("ix_usage_events_project", "project_id", "pk"),
    )
    pk: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite")
    )
    project_id: int = _project_fk()
    user_pk: int = Field(sa_column_args=[ForeignKey("users.pk", ondelete="CASCADE")])
    feature_pk: int = Field(sa_column_args=[ForeignKey("features.pk")])
    subscription_pk: int = Field(sa_column_args=[ForeignKey("subscriptions.pk", ondelete="CASCADE")])
    period_index: int
    action: str = Field(max_length=8)
    delta: int = Field(sa_type=BigInteger)
    used_after: int = Field(sa_type=BigInteger)
    recorded_at: datetime = _utc()


class SnapshotRow(SQLModel, table=True):
    """A saved copy of a project's state ([X] `/_kana/snapshots`): its export document, compressed.

    Stored in the database so that every worker process sees it; kept across project resets (D55)."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    name: str = Field(max_length=255)
    created_at: datetime = _utc()
    seed_digest: str | None = Field(default=None, max_length=128)
    counts: Any = _json()
    size: int = Field(default=0, sa_type=BigInteger)
    data: bytes = Field(sa_type=LargeBinary)


class CheckoutSessionRow(SQLModel, table=True):
    """A subscription link's checkout session ([X]); `id` is unique across projects (no key on its page)."""

    __tablename__ = "checkout_sessions"
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    id: str = Field(max_length=64, unique=True)
    template_id: str = Field(max_length=255)
    package_id: str = Field(max_length=255)
    price_id: str | None = Field(default=None, max_length=255)
    user_pk: int | None = Field(
        default=None, sa_column_args=[ForeignKey("users.pk", ondelete="CASCADE")], nullable=True
    )
    success_url: str = Field(max_length=2048)
    cancel_url: str = Field(max_length=2048)
    status: str = Field(max_length=16)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    completed_at: datetime | None = _utc(nullable=True)


class IdempotencyKeyRow(SQLModel, table=True):
    """An Idempotency-Key a mutation was sent with ([X], D90-D92): the request's fingerprint and, once
    known, its answer. Claimed in the mutation's first write transaction, so it commits with its writes."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("project_id", "key"),
        Index("ix_idempotency_keys_expiry", "project_id", "expires_at"),
    )
    pk: int | None = Field(default=None, primary_key=True)
    project_id: int = _project_fk()
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    response: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)


PROJECT_TABLES: tuple[type[SQLModel], ...] = (
    IdempotencyKeyRow,
    CheckoutSessionRow,
    UsageEventRow,
    UsageCounterRow,
    SubscriptionRow,
    BillingTemplateRow,
    AddonBaseRow,
    PackagePriceRow,
    PackageFeatureRow,
    PackageRow,
    FeatureRow,
    UserRow,
)
"""Every project-scoped table, children first: a project reset empties exactly these (test-checked)."""

KEPT_ON_RESET: tuple[type[SQLModel], ...] = (SnapshotRow,)
"""Project-scoped tables a reset leaves alone: saved snapshots survive it (D55, test-checked)."""
