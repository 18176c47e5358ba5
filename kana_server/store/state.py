"""SQL for a project's whole state: export reads, batched import writes, and saved snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from kana_server.domain.model import UsageAction, User
from kana_server.domain.state import StoredSubscriptionState, UsageRecord
from kana_server.store import statements
from kana_server.store.people import stored_subscription, subscriptions_query
from kana_server.store.scoped import (
    FEATURES,
    PACKAGES,
    PROJECTS,
    SNAPSHOTS,
    SUBSCRIPTIONS,
    USAGE_EVENTS,
    USERS,
    Scoped,
)

EVENT_COLUMNS = (
    "user_pk",
    "feature_pk",
    "subscription_pk",
    "period_index",
    "action",
    "delta",
    "used_after",
    "recorded_at",
)
"""The order of a usage event's values in `StateStore.insert_usage_events`."""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A saved snapshot without its data."""

    name: str
    created_at: datetime
    counts: dict[str, int]
    size: int


@dataclass(frozen=True, slots=True)
class SnapshotData:
    """A saved snapshot with its (compressed) export document."""

    info: SnapshotInfo
    seed_digest: str | None
    data: bytes


class StateStore(Scoped):
    """Whole-project reads and batched writes inside one transaction."""

    async def is_empty(self) -> bool:
        """Whether the project has no feature, package or user (an import needs an empty project)."""
        for target in (FEATURES, PACKAGES, USERS):
            found = await self.conn.execute(
                select(target.c.project_id).where(target.c.project_id == self.project_id).limit(1)
            )
            if found.first() is not None:
                return False
        return True

    async def project_name(self) -> str:
        """The project's name (Kana's `app`)."""
        result = await self.conn.execute(select(PROJECTS.c.name).where(PROJECTS.c.id == self.project_id))
        return str(result.scalar_one())

    async def subscription_states(self) -> list[StoredSubscriptionState]:
        """Every subscription with the instant its status last changed, oldest first."""
        rows = (await self.conn.execute(subscriptions_query(self.project_id))).all()
        return [
            StoredSubscriptionState(stored_subscription(r).subscription, r.status_changed_at) for r in rows
        ]

    async def usage_records(self) -> list[UsageRecord]:
        """Every usage event in the order it was recorded."""
        rows = await self.conn.execute(
            select(
                USERS.c.id.label("user_id"),
                FEATURES.c.id.label("feature_id"),
                SUBSCRIPTIONS.c.id.label("subscription_id"),
                USAGE_EVENTS.c.period_index,
                USAGE_EVENTS.c.action,
                USAGE_EVENTS.c.delta,
                USAGE_EVENTS.c.recorded_at,
            )
            .join(USERS, USERS.c.pk == USAGE_EVENTS.c.user_pk)
            .join(FEATURES, FEATURES.c.pk == USAGE_EVENTS.c.feature_pk)
            .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.pk == USAGE_EVENTS.c.subscription_pk)
            .where(USAGE_EVENTS.c.project_id == self.project_id)
            .order_by(USAGE_EVENTS.c.pk)
        )
        actions = {a.value: a for a in UsageAction}
        return [UsageRecord(r[0], r[1], r[2], r[3], actions[r[4]], r[5], r[6]) for r in rows]

    async def user_keys(self) -> dict[str, int]:
        """Every user's key by id."""
        rows = await self.conn.execute(
            select(USERS.c.id, USERS.c.pk).where(USERS.c.project_id == self.project_id)
        )
        return {r.id: r.pk for r in rows}

    async def subscription_keys(self) -> dict[str, int]:
        """Every subscription's key by id."""
        rows = await self.conn.execute(
            select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.pk).where(
                SUBSCRIPTIONS.c.project_id == self.project_id
            )
        )
        return {r.id: r.pk for r in rows}

    async def insert_users(self, users: Sequence[User], now: datetime) -> None:
        """Create many users in one statement."""
        if users:
            await self.conn.execute(
                insert(USERS),
                [
                    {
                        "project_id": self.project_id,
                        "id": u.id,
                        "billing_id": u.billing_id,
                        "name": u.name,
                        "email": u.email,
                        "metadata": u.metadata,
                        "created_at": now,
                    }
                    for u in users
                ],
            )

    async def insert_subscription_states(
        self,
        records: Sequence[StoredSubscriptionState],
        user_pks: dict[str, int],
        package_pks: dict[str, int],
    ) -> None:
        """Create many subscriptions as they were; later generated ids continue after the highest."""
        if records:
            await self.conn.execute(
                insert(SUBSCRIPTIONS),
                [
                    {
                        "project_id": self.project_id,
                        "id": r.subscription.id,
                        "user_pk": user_pks[r.subscription.user_id],
                        "package_pk": package_pks[r.subscription.package_id],
                        "status": r.subscription.status.value,
                        "metadata": r.subscription.metadata,
                        "started_at": r.subscription.started_at,
                        "status_changed_at": r.status_changed_at,
                    }
                    for r in records
                ],
            )
            highest = max((int(r.subscription.id) for r in records if r.subscription.id.isdigit()), default=0)
            await self.conn.execute(
                update(PROJECTS)
                .where(PROJECTS.c.id == self.project_id, PROJECTS.c.subscription_seq < highest)
                .values(subscription_seq=highest)
            )

    async def insert_usage_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append a batch of usage events, each a tuple in `EVENT_COLUMNS` order, in one executemany."""
        if rows:
            await self.run_rows(statements.EVENT_INSERT, EVENT_COLUMNS, rows)

    async def insert_usage_counters(self, rows: Sequence[dict[str, Any]]) -> None:
        """Create the period counters of imported events (the project had no usage before)."""
        if rows:
            await self.run_many(
                statements.COUNTER_INSERT, [{"project_id": self.project_id, **r} for r in rows]
            )

    # snapshots ---------------------------------------------------------------------------------------

    async def save_snapshot(
        self, name: str, data: bytes, info: SnapshotInfo, seed_digest: str | None
    ) -> None:
        """Create or replace a named snapshot."""
        await self.delete_snapshot(name)
        await self.conn.execute(
            insert(SNAPSHOTS).values(
                project_id=self.project_id,
                name=name,
                created_at=info.created_at,
                seed_digest=seed_digest,
                counts=info.counts,
                size=info.size,
                data=data,
            )
        )

    async def saved_snapshot(self, name: str) -> SnapshotData | None:
        """A snapshot with its data, or None."""
        row = (
            await self.conn.execute(
                select(SNAPSHOTS).where(SNAPSHOTS.c.project_id == self.project_id, SNAPSHOTS.c.name == name)
            )
        ).first()
        if row is None:
            return None
        return SnapshotData(
            SnapshotInfo(row.name, row.created_at, row.counts, row.size), row.seed_digest, row.data
        )

    async def list_snapshots(self) -> list[SnapshotInfo]:
        """The project's snapshots, oldest first (without their data)."""
        rows = await self.conn.execute(
            select(SNAPSHOTS.c.name, SNAPSHOTS.c.created_at, SNAPSHOTS.c.counts, SNAPSHOTS.c.size)
            .where(SNAPSHOTS.c.project_id == self.project_id)
            .order_by(SNAPSHOTS.c.created_at, SNAPSHOTS.c.pk)
        )
        return [SnapshotInfo(r.name, r.created_at, r.counts, r.size) for r in rows]

    async def delete_snapshot(self, name: str) -> bool:
        """Delete a snapshot; whether it existed."""
        result = await self.conn.execute(
            delete(SNAPSHOTS).where(SNAPSHOTS.c.project_id == self.project_id, SNAPSHOTS.c.name == name)
        )
        return bool(result.rowcount)
