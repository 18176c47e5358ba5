"""Reads for the inspector page ([X]): the project at a glance, one user's usage, usage over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kana_server.domain import periods
from kana_server.domain.clock import ClockState, project_clock_state
from kana_server.domain.entitlements import Decision
from kana_server.domain.model import (
    Catalog,
    Feature,
    FeatureType,
    Package,
    Project,
    Subscription,
    UsageAction,
    User,
    Window,
)
from kana_server.services.base import ProjectService, require_feature
from kana_server.services.usage import Holdings, decide_all, holdings_of
from kana_server.store.catalog import CatalogSnapshot
from kana_server.store.inspection import StoredUsageEvent
from kana_server.store.repository import ProjectStore

MAX_USERS = 500
"""Users listed on the page (the rest are counted)."""
MAX_EVENTS = 500
"""Usage events drawn in one chart (the newest)."""


@dataclass(frozen=True)
class Overview:
    """The project at a glance: its clock, catalog and (the first) users."""

    project: Project
    clock: ClockState
    now: datetime
    catalog: Catalog
    users: list[User]
    users_total: int


@dataclass(frozen=True)
class UserUsage:
    """One user: subscriptions, and the decision for every feature of the catalog."""

    user: User
    subscriptions: list[tuple[Subscription, Package | None]]
    features: list[tuple[Feature, Decision]]
    now: datetime


@dataclass(frozen=True)
class UsagePoint:
    """One recorded event, with the period it counted in and that period's budget."""

    at: datetime
    action: UsageAction
    delta: int
    used_after: int
    subscription_id: str
    package_id: str
    window: Window
    budget: int | None


@dataclass(frozen=True)
class UsageHistory:
    """A user's usage of one feature over time, and the period that runs now."""

    user: User
    feature: Feature
    points: list[UsagePoint]
    current: Decision | None
    now: datetime


class InspectorService(ProjectService):
    """What the inspector page shows."""

    async def overview(self) -> Overview:
        """The project's clock, catalog and first users."""

        async def work(store: ProjectStore) -> tuple[CatalogSnapshot, list[User], int]:
            return (await store.snapshot(), *await store.users_page(MAX_USERS))

        snapshot, users, total = await self.read(work)
        clock = project_clock_state(self.project)
        return Overview(self.project, clock, self.clock.now(), snapshot.catalog, users, total)

    async def user_usage(self, user_id: str) -> UserUsage:
        """A user's subscriptions and, per feature, access, used/budget and the current period."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> tuple[Holdings, list[Feature], dict[str, Decision]]:
            holdings = await holdings_of(store, user_id)
            features = list(holdings.catalog.features.values())
            return (
                holdings,
                features,
                await decide_all(store, holdings, [f.id for f in features], now, self.trace),
            )

        holdings, features, decisions = await self.read(work)
        packages = holdings.catalog.packages
        return UserUsage(
            holdings.user.user,
            [(s, packages.get(s.package_id)) for s in holdings.subscriptions],
            [(f, decisions[f.id]) for f in features],
            now,
        )

    async def usage_history(self, user_id: str, feature_id: str) -> UsageHistory:
        """The newest usage events of a user and feature, each with its period and budget."""
        now = self.clock.now()

        async def work(
            store: ProjectStore,
        ) -> tuple[Holdings, Feature, list[StoredUsageEvent], Decision | None]:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            pks = [s.pk for s in holdings.stored]
            events = await store.usage_events(pks, holdings.snapshot.feature_pks[feature.id], MAX_EVENTS)
            current = None
            if feature.type is FeatureType.CONSUMABLE:
                current = (await decide_all(store, holdings, [feature.id], now, self.trace))[feature.id]
            return holdings, feature, events, current

        holdings, feature, events, current = await self.read(work)
        by_pk = {s.pk: s.subscription for s in holdings.stored}
        points: list[UsagePoint] = []
        for event in events:
            subscription = by_pk[event.subscription_pk]
            package = holdings.catalog.packages.get(subscription.package_id)
            entitlement = package.feature(feature.id) if package else None
            reset = entitlement.reset_period if entitlement else None
            points.append(
                UsagePoint(
                    at=event.at,
                    action=event.action,
                    delta=event.delta,
                    used_after=event.used_after,
                    subscription_id=subscription.id,
                    package_id=subscription.package_id,
                    window=periods.window(subscription.started_at, reset, event.period_index),
                    budget=entitlement.limit if entitlement else None,
                )
            )
        return UsageHistory(holdings.user.user, feature, points, current, now)
