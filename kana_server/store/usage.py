"""SQL for usage: append-only events plus one counter row per (user, feature, subscription, period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kana_server.domain.model import UsageAction
from kana_server.store import statements
from kana_server.store.scoped import USAGE_EVENTS, Scoped

CounterKey = tuple[int, int, int]
"""(feature_pk, subscription_pk, period_index) of one user's counter."""


def _counter_params(user_pk: int, key: CounterKey) -> dict[str, Any]:
    feature_pk, subscription_pk, period_index = key
    return {
        "user_pk": user_pk,
        "feature_pk": feature_pk,
        "subscription_pk": subscription_pk,
        "period_index": period_index,
    }


class UsageStore(Scoped):
    """Usage reads and writes inside one transaction."""

    async def used(self, user_pk: int, key: CounterKey, *, lock: bool = False) -> int:
        """A period's usage (0 if nothing was recorded); `lock` holds the row for a read-check-write."""
        query = statements.COUNTER_USED_FOR_UPDATE if lock else statements.COUNTER_USED
        value = (await self.run(query, _counter_params(user_pk, key))).scalar_one_or_none()
        return int(value or 0)

    async def used_many(self, user_pk: int, keys: Iterable[CounterKey]) -> dict[CounterKey, int]:
        """Several periods' usage of one user (0 for those without a counter): one prepared lookup per
        counter, cheaper than building a statement for each set of keys (D103)."""
        found: dict[CounterKey, int] = {}
        for key in dict.fromkeys(keys):
            value = (
                await self.run(statements.COUNTER_USED, _counter_params(user_pk, key))
            ).scalar_one_or_none()
            found[key] = int(value or 0)
        return found

    async def counters_of(self, user_pk: int, feature_pk: int) -> dict[tuple[int, int], int]:
        """Every recorded period of one user and feature: (subscription_pk, period_index) → used."""
        rows = (
            await self.run(statements.COUNTERS_OF_FEATURE, {"user_pk": user_pk, "feature_pk": feature_pk})
        ).all()
        return {(r.subscription_pk, r.period_index): int(r.used) for r in rows}

    async def record(
        self,
        user_pk: int,
        key: CounterKey,
        action: UsageAction,
        delta: int,
        now: datetime,
    ) -> int:
        """Append one event and move its counter with one atomic upsert; returns the period's new usage."""
        params = _counter_params(user_pk, key)
        params["project_id"] = self.project_id
        params["delta"] = delta
        is_set = action is UsageAction.SET
        if self.dialect == "postgresql":
            upserted = await self.conn.execute(statements.COUNTER_UPSERT_POSTGRESQL[is_set], params)
        else:
            upserted = await self.run(statements.COUNTER_UPSERT[is_set], params)
        used_after = int(upserted.scalar_one())
        params["action"] = action.value
        params["used_after"] = used_after
        params["recorded_at"] = now
        await self.run(statements.EVENT_INSERT, params)
        return used_after

    async def period_events(self, key: CounterKey) -> list[tuple[UsageAction, int]]:
        """A period's events in order (to check the counter against a replay)."""
        feature_pk, subscription_pk, period_index = key
        rows = (
            await self.conn.execute(
                select(USAGE_EVENTS.c.action, USAGE_EVENTS.c.delta)
                .where(
                    USAGE_EVENTS.c.subscription_pk == subscription_pk,
                    USAGE_EVENTS.c.feature_pk == feature_pk,
                    USAGE_EVENTS.c.period_index == period_index,
                )
                .order_by(USAGE_EVENTS.c.pk)
            )
        ).all()
        return [(UsageAction(r.action), int(r.delta)) for r in rows]
