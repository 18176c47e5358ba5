"""Entitlements and usage: canUseFeature, recordUsage, showUsage, Feature.entitlement, currentUser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kana_server.domain import entitlements, usage
from kana_server.domain.current_user import CurrentUser, feature_ids_of, subscribed_packages
from kana_server.domain.entitlements import Decision, Grant
from kana_server.domain.errors import Unauthenticated
from kana_server.domain.model import Catalog, Feature, FeatureType, Subscription, UsageAction
from kana_server.services.base import ProjectService, require_feature, require_user
from kana_server.store.catalog import CatalogSnapshot
from kana_server.store.people import StoredSubscription, StoredUser
from kana_server.store.repository import ProjectStore
from kana_server.store.usage import CounterKey


@dataclass(frozen=True, slots=True)
class RecordResult:
    """recordUsage's answer: recorded or not (with the reason), and the period's usage after it."""

    recorded: bool
    reason: str | None = None
    used: int | None = None


@dataclass
class Holdings:
    """A user's subscriptions against the catalog, as one transaction sees them."""

    user: StoredUser
    stored: list[StoredSubscription]
    snapshot: CatalogSnapshot

    @property
    def subscriptions(self) -> list[Subscription]:
        return [s.subscription for s in self.stored]

    @property
    def catalog(self) -> Catalog:
        return self.snapshot.catalog

    def winner(self, feature_id: str) -> Grant | None:
        return entitlements.choose_winner(
            entitlements.grants_for(feature_id, self.subscriptions, self.catalog)
        )

    def counter_key(self, feature: Feature, winner: Grant, window_index: int) -> CounterKey:
        subscription_pk = next(s.pk for s in self.stored if s.subscription.id == winner.subscription.id)
        return (self.snapshot.feature_pks[feature.id], subscription_pk, window_index)


async def holdings_of(store: ProjectStore, user_id: str) -> Holdings:
    user = await require_user(store, user_id)
    return Holdings(user, await store.subscriptions_of(user.pk), await store.snapshot())


def _trace_data(user_id: str, feature: Feature, decision: Decision, delta: int) -> dict[str, Any]:
    winner = decision.winner
    return {
        "userId": user_id,
        "featureId": feature.id,
        "featureType": feature.type.value,
        "delta": delta,
        "winner": None
        if winner is None
        else {
            "subscriptionId": winner.subscription.id,
            "packageId": winner.package.id,
            "limit": winner.limit,
            "overageEnabled": winner.entitlement.overage_enabled,
            "resetPeriod": winner.entitlement.reset_period,
        },
        "period": None
        if decision.window is None
        else {"start": decision.window.start.isoformat(), "end": decision.window.end.isoformat()},
        "used": decision.consumption.used if decision.consumption else None,
        "budget": decision.consumption.budget if decision.consumption else None,
        "access": decision.access,
        "reason": decision.reason,
        "rule": decision.rule,
    }


class UsageService(ProjectService):
    """Entitlement reads and usage writes."""

    async def _decide(
        self, holdings: Holdings, store: ProjectStore, feature: Feature, delta: int
    ) -> Decision:
        now = self.clock.now()
        grants = entitlements.grants_for(feature.id, holdings.subscriptions, holdings.catalog)
        winner = entitlements.choose_winner(grants)
        used = 0
        if winner is not None and feature.type is FeatureType.CONSUMABLE:
            window = winner.window_at(now)
            used = await store.used(holdings.user.pk, holdings.counter_key(feature, winner, window.index))
        decision = entitlements.decide(feature, winner, used, delta, now)
        trace = _trace_data(holdings.user.user.id, feature, decision, delta)
        trace["considered"] = [
            {"subscriptionId": g.subscription.id, "packageId": g.package.id, "limit": g.limit} for g in grants
        ]
        self.trace("entitlement", trace)
        return decision

    async def can_use_feature(self, user_id: str, feature_id: str, delta: int = 1) -> Decision:
        """Whether the user may use `delta` of the feature now, and why."""
        entitlements.check_delta(delta)
        async with self.reading() as store:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            return await self._decide(holdings, store, feature, delta)

    async def entitlement(self, user_id: str, feature_id: str) -> Decision:
        """Feature.entitlement(userId): the decision for one unit."""
        return await self.can_use_feature(user_id, feature_id, 1)

    async def entitlements(self, user_id: str, feature_ids: list[str] | None = None) -> dict[str, Decision]:
        """Decisions (for one unit) for many features of one user, reading all counters in one query."""
        now = self.clock.now()
        async with self.reading() as store:
            holdings = await holdings_of(store, user_id)
            return await decide_all(store, holdings, feature_ids or list(holdings.catalog.features), now)

    async def current_user(self, user_id: str, user_key: int | None = None) -> CurrentUser:
        """The Client API's currentUser: live packages and the winning decision for each of their features.

        The caller authenticated as this user: an unknown user, or a user token whose user was renamed
        (its internal key no longer matches, D18), is an authentication error (D43).
        """
        now = self.clock.now()
        async with self.reading() as store:
            found = await store.get_user(user_id)
            if found is None:
                raise Unauthenticated(f'user "{user_id}" not found')
            if user_key is not None and found.pk != user_key:
                raise Unauthenticated("the user token is no longer valid: its user was renamed")
            holdings = Holdings(found, await store.subscriptions_of(found.pk), await store.snapshot())
            packages = subscribed_packages(holdings.subscriptions, holdings.catalog)
            feature_ids = feature_ids_of(packages, holdings.catalog)
            decisions = await decide_all(store, holdings, feature_ids, now)
        return CurrentUser(found.user, packages, holdings.catalog.features, decisions)

    async def record_usage(
        self, user_id: str, feature_id: str, delta: int = 1, action: UsageAction = UsageAction.ADD
    ) -> RecordResult:
        """Record usage in the winning subscription's current period: ADD (negative reverts) or SET."""
        usage.check_event(action, delta)
        now = self.clock.now()
        async with self.writing() as store:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            result, trace = await record_event(store, holdings, feature, action, delta, now)
        self.trace("recordUsage", trace)
        return result

    async def show_usage(self, user_id: str, feature_id: str) -> usage.UsageReport:
        """The current period and the completed ones, with the usage recorded in each."""
        async with self.reading() as store:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            winner = holdings.winner(feature.id)
            counters = await store.counters_of(holdings.user.pk, holdings.snapshot.feature_pks[feature.id])
        ids = {s.pk: s.subscription.id for s in holdings.stored}
        keyed = {usage.UsageKey(ids[sub_pk], index): used for (sub_pk, index), used in counters.items()}
        return usage.usage_report(
            feature, winner, holdings.subscriptions, holdings.catalog, keyed, self.clock.now()
        )


async def decide_all(
    store: ProjectStore, holdings: Holdings, feature_ids: list[str], now: datetime
) -> dict[str, Decision]:
    """Decisions (for one unit) for several features of one user, reading all counters in one query."""
    catalog = holdings.catalog
    wanted = [catalog.features[f] for f in feature_ids if f in catalog.features]
    winners: dict[str, tuple[Grant | None, CounterKey | None]] = {}
    for feature in wanted:
        winner = holdings.winner(feature.id)
        key = None
        if winner is not None and feature.type is FeatureType.CONSUMABLE:
            key = holdings.counter_key(feature, winner, winner.window_at(now).index)
        winners[feature.id] = (winner, key)
    used = await store.used_many(holdings.user.pk, [k for _, k in winners.values() if k is not None])
    return {
        feature.id: entitlements.decide(
            feature, winners[feature.id][0], used.get(winners[feature.id][1] or (0, 0, 0), 0), 1, now
        )
        for feature in wanted
    }


async def record_event(
    store: ProjectStore, holdings: Holdings, feature: Feature, action: UsageAction, delta: int, at: datetime
) -> tuple[RecordResult, dict[str, Any]]:
    """Record one usage event at `at` inside the caller's transaction (recordUsage, seeds, imports)."""
    winner = holdings.winner(feature.id)
    refusal = usage.refusal(feature, winner)
    trace: dict[str, Any] = {
        "userId": holdings.user.user.id,
        "featureId": feature.id,
        "delta": delta,
        "action": action,
    }
    if refusal is not None or winner is None:
        return RecordResult(recorded=False, reason=refusal), trace | {"recorded": False, "reason": refusal}
    window = winner.window_at(at)
    key = holdings.counter_key(feature, winner, window.index)
    before = await store.used(holdings.user.pk, key, lock=True)
    usage.apply(action, delta, before)  # refuses a revert below zero before anything is written
    after = await store.record(holdings.user.pk, key, action, delta, at)
    return RecordResult(recorded=True, used=after), trace | {
        "recorded": True,
        "subscriptionId": winner.subscription.id,
        "packageId": winner.package.id,
        "period": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "usedBefore": before,
        "usedAfter": after,
    }
