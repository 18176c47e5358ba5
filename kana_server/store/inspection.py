"""SQL for the inspector page: a page of users and a user's usage events over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from kana_server.domain.model import UsageAction, User
from kana_server.store.scoped import USAGE_EVENTS, USERS, Scoped


@dataclass(frozen=True, slots=True)
class StoredUsageEvent:
    """One recorded usage event, with the surrogate key of the subscription it counted against."""

    at: datetime
    action: UsageAction
    delta: int
    used_after: int
    subscription_pk: int
    period_index: int


class InspectionStore(Scoped):
    """Reads for the inspector page inside one transaction."""

    async def users_page(self, limit: int) -> tuple[list[User], int]:
        """The first `limit` users in creation order, and how many there are."""
        total = (
            await self.conn.execute(
                select(func.count()).select_from(USERS).where(USERS.c.project_id == self.project_id)
            )
        ).scalar_one()
        rows = (
            await self.conn.execute(
                select(USERS.c.id, USERS.c.billing_id, USERS.c.name, USERS.c.email, USERS.c.metadata)
                .where(USERS.c.project_id == self.project_id)
                .order_by(USERS.c.pk)
                .limit(limit)
            )
        ).all()
        return [User(r.id, r.billing_id, r.name, r.email, r.metadata) for r in rows], int(total)

    async def usage_events(
        self, subscription_pks: Sequence[int], feature_pk: int, limit: int
    ) -> list[StoredUsageEvent]:
        """The newest `limit` events of one feature counted against these subscriptions, oldest first."""
        if not subscription_pks:
            return []
        rows = (
            await self.conn.execute(
                select(
                    USAGE_EVENTS.c.recorded_at,
                    USAGE_EVENTS.c.action,
                    USAGE_EVENTS.c.delta,
                    USAGE_EVENTS.c.used_after,
                    USAGE_EVENTS.c.subscription_pk,
                    USAGE_EVENTS.c.period_index,
                )
                .where(
                    USAGE_EVENTS.c.subscription_pk.in_(list(subscription_pks)),
                    USAGE_EVENTS.c.feature_pk == feature_pk,
                )
                .order_by(USAGE_EVENTS.c.pk.desc())
                .limit(limit)
            )
        ).all()
        return [
            StoredUsageEvent(
                r.recorded_at,
                UsageAction(r.action),
                int(r.delta),
                int(r.used_after),
                int(r.subscription_pk),
                int(r.period_index),
            )
            for r in reversed(rows)
        ]
