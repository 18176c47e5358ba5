"""SQL for usage: append-only events plus one counter row per (user, feature, subscription, period)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, insert, or_, select

from kana_server.domain.model import UsageAction
from kana_server.store.scoped import USAGE_COUNTERS, USAGE_EVENTS, Scoped

CounterKey = tuple[int, int, int]
"""(feature_pk, subscription_pk, period_index) of one user's counter."""


class UsageStore(Scoped):
    """Usage reads and writes inside one transaction."""

    async def used(self, user_pk: int, key: CounterKey, *, lock: bool = False) -> int:
        """A period's usage (0 if nothing was recorded); `lock` holds the row for a read-check-write."""
        feature_pk, subscription_pk, period_index = key
        query = select(USAGE_COUNTERS.c.used).where(
            USAGE_COUNTERS.c.user_pk == user_pk,
            USAGE_COUNTERS.c.feature_pk == feature_pk,
            USAGE_COUNTERS.c.subscription_pk == subscription_pk,
            USAGE_COUNTERS.c.period_index == period_index,
        )
        if lock:
            query = query.with_for_update()
        value = (await self.conn.execute(query)).scalar_one_or_none()
        return int(value or 0)

    async def used_many(self, user_pk: int, keys: Iterable[CounterKey]) -> dict[CounterKey, int]:
        """Several periods' usage of one user in one query (0 for those without a counter)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        rows = (
            await self.conn.execute(
                select(
                    USAGE_COUNTERS.c.feature_pk,
                    USAGE_COUNTERS.c.subscription_pk,
                    USAGE_COUNTERS.c.period_index,
                    USAGE_COUNTERS.c.used,
                ).where(
                    USAGE_COUNTERS.c.user_pk == user_pk,
                    or_(
                        *(
                            and_(
                                USAGE_COUNTERS.c.feature_pk == f,
                                USAGE_COUNTERS.c.subscription_pk == s,
                                USAGE_COUNTERS.c.period_index == i,
                            )
                            for f, s, i in wanted
                        )
                    ),
                )
            )
        ).all()
        found = {(r.feature_pk, r.subscription_pk, r.period_index): int(r.used) for r in rows}
        return {key: found.get(key, 0) for key in wanted}

    async def counters_of(self, user_pk: int, feature_pk: int) -> dict[tuple[int, int], int]:
        """Every recorded period of one user and feature: (subscription_pk, period_index) → used."""
        rows = (
            await self.conn.execute(
                select(
                    USAGE_COUNTERS.c.subscription_pk, USAGE_COUNTERS.c.period_index, USAGE_COUNTERS.c.used
                ).where(USAGE_COUNTERS.c.user_pk == user_pk, USAGE_COUNTERS.c.feature_pk == feature_pk)
            )
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
        feature_pk, subscription_pk, period_index = key
        statement = self.upsert(USAGE_COUNTERS).values(
            user_pk=user_pk,
            feature_pk=feature_pk,
            subscription_pk=subscription_pk,
            period_index=period_index,
            project_id=self.project_id,
            used=delta,
        )
        new_used = statement.excluded.used if action is UsageAction.SET else USAGE_COUNTERS.c.used + delta
        statement = statement.on_conflict_do_update(
            index_elements=["user_pk", "feature_pk", "subscription_pk", "period_index"],
            set_={"used": new_used},
        ).returning(USAGE_COUNTERS.c.used)
        used_after = int((await self.conn.execute(statement)).scalar_one())
        await self.conn.execute(
            insert(USAGE_EVENTS).values(
                project_id=self.project_id,
                user_pk=user_pk,
                feature_pk=feature_pk,
                subscription_pk=subscription_pk,
                period_index=period_index,
                action=action.value,
                delta=delta,
                used_after=used_after,
                recorded_at=now,
            )
        )
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
