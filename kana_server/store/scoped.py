"""The base of every project-scoped store: one connection (one transaction) and one project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel

from kana_server.store import models
from kana_server.store.prepared import Prepared
from kana_server.store.sqlite_thread import InlineConnection


def table(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


PROJECTS = table(models.ProjectRow)
FEATURES = table(models.FeatureRow)
PACKAGES = table(models.PackageRow)
PACKAGE_FEATURES = table(models.PackageFeatureRow)
PACKAGE_PRICES = table(models.PackagePriceRow)
ADDON_BASES = table(models.AddonBaseRow)
BILLING_TEMPLATES = table(models.BillingTemplateRow)
USERS = table(models.UserRow)
SUBSCRIPTIONS = table(models.SubscriptionRow)
USAGE_COUNTERS = table(models.UsageCounterRow)
USAGE_EVENTS = table(models.UsageEventRow)
SNAPSHOTS = table(models.SnapshotRow)
CHECKOUT_SESSIONS = table(models.CheckoutSessionRow)
IDEMPOTENCY_KEYS = table(models.IdempotencyKeyRow)


def dialect_insert(dialect: str, target: Table) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (the one place SQL differs by dialect)."""
    if dialect == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


async def run_prepared(conn: Any, prepared: Prepared, values: dict[str, Any]) -> Any:
    """Run a prepared statement: on the SQLite driver directly (D103), else through SQLAlchemy."""
    if isinstance(conn, InlineConnection):
        return conn.run(prepared, values)
    return await conn.execute(prepared.statement, values)


class Connection(Protocol):
    """What a transaction's statements run on: an `AsyncConnection` (PostgreSQL) or an
    `InlineConnection` (SQLite, on its database thread, see store/sqlite_thread.py)."""

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement."""
        ...


class Scoped:
    """A transaction's connection bound to one project."""

    def __init__(self, conn: Connection, project_id: int, dialect: str) -> None:
        self.conn = conn
        self.project_id = project_id
        self.dialect = dialect

    async def run(self, prepared: Prepared, values: dict[str, Any]) -> Any:
        """Run one of the hot path's statements (D103)."""
        return await run_prepared(self.conn, prepared, values)

    async def run_many(self, prepared: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        """Run one of the bulk statements once per row (imports, D103)."""
        if isinstance(self.conn, InlineConnection):
            self.conn.run_many(prepared, rows)
        else:
            await self.conn.execute(prepared.statement, list(rows))

    async def run_rows(
        self, prepared: Prepared, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Run one of the bulk statements once per row given as a tuple in `names`' order; the
        project's id fills its `project_id` (imports build a million of these: no dict per row)."""
        fixed = {"project_id": self.project_id}
        if isinstance(self.conn, InlineConnection):
            bind = prepared.binder(names, fixed)
            self.conn.run_bound(prepared, [bind(row) for row in rows])
        else:
            await self.conn.execute(
                prepared.statement, [dict(zip(names, row, strict=True)) | fixed for row in rows]
            )

    def upsert(self, target: Table) -> Any:
        """An INSERT that supports ON CONFLICT on this dialect."""
        return dialect_insert(self.dialect, target)
