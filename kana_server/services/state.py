"""A project's whole state ([X]): export, import, and named snapshots kept in the database."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from kana_server.domain import restore
from kana_server.domain.clock import ClockState
from kana_server.domain.config import ConfigError, ConfigProblem, KanaConfig, parse_config
from kana_server.domain.errors import Conflict, SnapshotNotFound
from kana_server.domain.ids import check_id
from kana_server.domain.publish import plan_publish
from kana_server.domain.state import ProjectState, state_document
from kana_server.services.base import ProjectService
from kana_server.services.catalog import apply_plan
from kana_server.store.repository import ProjectStore
from kana_server.store.state import SnapshotInfo

Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as a long import advances; phases: "usage"."""

EVENT_BATCH = 10_000
"""Usage events written per statement (executemany) during imports and restores."""


def _no_progress(phase: str, done: int, total: int) -> None:
    """Default: nobody is watching."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import wrote."""

    features: int
    packages: int
    users: int
    subscriptions: int
    usage: int

    def as_dict(self) -> dict[str, int]:
        """The counts by section name."""
        return {
            "features": self.features,
            "packages": self.packages,
            "users": self.users,
            "subscriptions": self.subscriptions,
            "usage": self.usage,
        }


async def write_usage(
    store: ProjectStore, plan: restore.UsagePlan, progress: Progress = _no_progress
) -> None:
    """Write planned usage events in batches, then their periods' counters (the project had none)."""
    snapshot = await store.snapshot()
    features = snapshot.feature_pks
    users = await store.user_keys()
    subscriptions = await store.subscription_keys()
    events = plan.events
    total = len(events)
    for start in range(0, total, EVENT_BATCH):
        await store.insert_usage_events(
            [  # in EVENT_COLUMNS order
                (
                    users[r.user_id],
                    features[r.feature_id],
                    subscriptions[r.subscription_id],
                    r.period_index,
                    r.action.value,
                    r.delta,
                    e.used_after,
                    r.at,
                )
                for e in events[start : start + EVENT_BATCH]
                for r in (e.record,)
            ]
        )
        progress("usage", min(start + EVENT_BATCH, total), total)
    await store.insert_usage_counters(
        [
            {
                "user_pk": users[user_id],
                "feature_pk": features[feature_id],
                "subscription_pk": subscriptions[subscription_id],
                "period_index": period_index,
                "used": used,
            }
            for (user_id, feature_id, subscription_id, period_index), used in plan.counters.items()
        ]
    )


async def load_state(
    store: ProjectStore,
    config: KanaConfig,
    real_now: datetime,
    *,
    source: str,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Write a whole document into an empty project, inside the caller's transaction (D53)."""
    if config.clock is not None:
        await store.set_clock(
            ClockState(timedelta(milliseconds=config.clock.offset_ms), config.clock.frozen_at)
        )
    now = (await store.clock()).now(real_now)
    plan = plan_publish(config, (await store.snapshot()).catalog, now)
    if plan.errors:
        raise ConfigError(source, [ConfigProblem(n.path, n.text) for n in plan.notes if n.is_error])
    await apply_plan(store, plan, now)
    snapshot = await store.snapshot()
    users = restore.plan_users(config.users or [], source=source)
    records = restore.plan_subscriptions(
        config.subscriptions or [], {u.id for u in users}, snapshot.catalog, now, source=source
    )
    by_user: dict[str, list[Any]] = {u.id: [] for u in users}
    for record in records:
        by_user[record.subscription.user_id].append(record.subscription)
    usage = restore.plan_usage(config.usage or [], by_user, snapshot.catalog, now, source=source)
    await store.insert_users(users, now)
    await store.insert_subscription_states(records, await store.user_keys(), snapshot.package_pks)
    await write_usage(store, usage, progress)
    return ImportReport(
        features=len(plan.features),
        packages=len(plan.packages),
        users=len(users),
        subscriptions=len(records),
        usage=len(usage.events),
    )


def encode_snapshot(document: dict[str, Any]) -> tuple[bytes, int]:
    """A document as stored in a snapshot: compressed JSON, and its uncompressed size."""
    raw = orjson.dumps(document)
    return zlib.compress(raw, 6), len(raw)


def decode_snapshot(data: bytes, name: str) -> KanaConfig:
    """A stored snapshot back as a config."""
    return parse_config(orjson.loads(zlib.decompress(data)), f"snapshot {name}")


def _counts(document: dict[str, Any]) -> dict[str, int]:
    packages = sum(len(items) for section in ("packages", "addons") for items in document[section].values())
    return {
        "features": len(document["features"]),
        "packages": packages,
        "users": len(document["users"]),
        "subscriptions": len(document["subscriptions"]),
        "usage": len(document["usage"]),
    }


class ProjectStateService(ProjectService):
    """Export, import and snapshots of one project."""

    async def export_state(self) -> ProjectState:
        """Everything the project holds, read in one transaction."""

        async def work(store: ProjectStore) -> ProjectState:
            snapshot = await store.snapshot()
            return ProjectState(
                app=await store.project_name(),
                clock=await store.clock(),
                catalog=snapshot.catalog,
                users=await store.list_users(),
                subscriptions=await store.subscription_states(),
                usage=await store.usage_records(),
            )

        return await self.read(work, long=True)

    async def export_document(self) -> dict[str, Any]:
        """The project as an export document (`GET /_kana/state`, `kana-server export`)."""
        return state_document(await self.export_state())

    async def import_state(
        self,
        config: KanaConfig,
        *,
        replace: bool = False,
        source: str = "import",
        progress: Progress = _no_progress,
    ) -> ImportReport:
        """Load an export into this project, all or nothing: it must be empty unless `replace` (D53)."""

        async def work(store: ProjectStore) -> ImportReport:
            if not await store.is_empty():
                if not replace:
                    raise Conflict(
                        "The project is not empty: reset it first, or replace its contents "
                        "(kana-server import --replace)"
                    )
                await store.reset()
            return await load_state(
                store, config, self.env.real_clock.now(), source=source, progress=progress
            )

        return await self.write(work, long=True)

    async def save_snapshot(self, name: str) -> SnapshotInfo:
        """Save the project's state under a name (replacing a snapshot of that name)."""
        check_id("Snapshot", name)
        document = await self.export_document()
        data, size = await asyncio.to_thread(encode_snapshot, document)
        info = SnapshotInfo(name, self.env.real_clock.now(), _counts(document), size)
        await self.write(lambda store: store.save_snapshot(name, data, info, self.project.seed_digest))
        return info

    async def restore_snapshot(self, name: str) -> SnapshotInfo:
        """Replace the project's state with a snapshot's, in one transaction (D55)."""
        check_id("Snapshot", name)
        saved = await self.read(lambda store: store.saved_snapshot(name))
        if saved is None:
            raise SnapshotNotFound(name)
        config = await asyncio.to_thread(decode_snapshot, saved.data, name)

        async def work(store: ProjectStore) -> None:
            await store.reset()
            await load_state(store, config, self.env.real_clock.now(), source=f"snapshot {name}")
            await store.set_seed_digest(saved.seed_digest)

        await self.write(work, long=True)
        return saved.info

    async def snapshots(self) -> list[SnapshotInfo]:
        """The project's snapshots, oldest first."""
        return await self.read(lambda store: store.list_snapshots())

    async def delete_snapshot(self, name: str) -> None:
        """Delete a snapshot."""
        check_id("Snapshot", name)
        if not await self.write(lambda store: store.delete_snapshot(name)):
            raise SnapshotNotFound(name)
