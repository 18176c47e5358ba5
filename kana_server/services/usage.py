"""Entitlements and usage: canUseFeature, recordUsage, showUsage, Feature.entitlement, currentUser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from kana_server.domain import entitlements, usage
from kana_server.domain.current_user import CurrentUser, feature_ids_of, subscribed_packages
from kana_server.domain.entitlements import Decision, Grant
from kana_server.domain.errors import Unauthenticated, UserNotFound
from kana_server.domain.ids import check_id
from kana_server.domain.model import Catalog, Feature, FeatureType, Subscription, UsageAction, Window
from kana_server.services.base import ProjectService, TraceData, TraceSink, require_feature
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
    """The user's holdings, or UserNotFoundError (the user, its subscriptions and the catalog version
    come from one statement)."""
    check_id("User", user_id)
    found = await store.user_holdings(user_id)
    if found is None:
        raise UserNotFound(user_id)
    return Holdings(found.user, found.subscriptions, await store.snapshot(found.catalog_version))


def _grant_json(grant: Grant) -> dict[str, Any]:
    return {
        "subscriptionId": grant.subscription.id,
        "packageId": grant.package.id,
        "isAddon": grant.package.is_addon,
        "startedAt": grant.subscription.started_at.isoformat(),
        "limit": grant.limit,
        "overageEnabled": grant.entitlement.overage_enabled,
        "resetPeriod": grant.entitlement.reset_period,
    }


def _window_json(window: Window | None) -> dict[str, Any] | None:
    return None if window is None else {"start": window.start.isoformat(), "end": window.end.isoformat()}


def choice_trace(feature: Feature, grants: list[Grant], winner: Grant | None) -> dict[str, Any]:
    """The part of a decision trace that says which subscriptions were considered and why one won."""
    return {
        "considered": [_grant_json(g) for g in grants],
        "winner": None if winner is None else _grant_json(winner),
        "why": None if winner is None else entitlements.why_winner(feature, grants, winner),
    }


def decision_trace(
    user_id: str, feature: Feature, grants: list[Grant], decision: Decision, delta: int
) -> dict[str, Any]:
    """The decision trace of an entitlement read (canUseFeature, Feature.entitlement): D83."""
    return {
        "userId": user_id,
        "featureId": feature.id,
        "featureType": feature.type.value,
        "delta": delta,
        **choice_trace(feature, grants, decision.winner),
        "period": _window_json(decision.window),
        "used": decision.consumption.used if decision.consumption else None,
        "budget": decision.consumption.budget if decision.consumption else None,
        "overageEnabled": decision.consumption.overage_enabled if decision.consumption else None,
        "access": decision.access,
        "reason": decision.reason,
        "rule": decision.rule,
    }


async def decide_all(
    store: ProjectStore, holdings: Holdings, feature_ids: list[str], now: datetime, trace: TraceSink
) -> dict[str, Decision]:
    """Decisions (for one unit) for several features of one user, reading all counters in one query."""
    catalog = holdings.catalog
    features = [catalog.features[f] for f in feature_ids if f in catalog.features]
    choices: dict[str, tuple[list[Grant], Grant | None, CounterKey | None]] = {}
    for feature in features:
        grants = entitlements.grants_for(feature.id, holdings.subscriptions, holdings.catalog)
        winner = entitlements.choose_winner(grants)
        key = None
        if winner is not None and feature.type is FeatureType.CONSUMABLE:
            key = holdings.counter_key(feature, winner, winner.window_at(now).index)
        choices[feature.id] = (grants, winner, key)
    used = await store.used_many(holdings.user.pk, [k for _, _, k in choices.values() if k is not None])
    decisions: dict[str, Decision] = {}
    for feature in features:
        grants, winner, key = choices[feature.id]
        decision = entitlements.decide(feature, winner, 0 if key is None else used.get(key, 0), 1, now)
        trace("entitlement", partial(decision_trace, holdings.user.user.id, feature, grants, decision, 1))
        decisions[feature.id] = decision
    return decisions


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
        self.trace(
            "entitlement", partial(decision_trace, holdings.user.user.id, feature, grants, decision, delta)
        )
        return decision

    async def can_use_feature(self, user_id: str, feature_id: str, delta: int = 1) -> Decision:
        """Whether the user may use `delta` of the feature now, and why."""
        entitlements.check_delta(delta)

        async def work(store: ProjectStore) -> Decision:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            return await self._decide(holdings, store, feature, delta)

        return await self.read(work)

    async def entitlement(self, user_id: str, feature_id: str) -> Decision:
        """Feature.entitlement(userId): the decision for one unit."""
        return await self.can_use_feature(user_id, feature_id, 1)

    async def entitlements(self, user_id: str, feature_ids: list[str] | None = None) -> dict[str, Decision]:
        """Decisions (for one unit) for many features of one user, reading all counters in one query."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> dict[str, Decision]:
            holdings = await holdings_of(store, user_id)
            return await decide_all(
                store, holdings, feature_ids or list(holdings.catalog.features), now, self.trace
            )

        return await self.read(work)

    async def current_user(self, user_id: str, user_key: int | None = None) -> CurrentUser:
        """The Client API's currentUser: live packages and the winning decision for each of their features.

        The caller authenticated as this user: an unknown user, or a user token whose user was renamed
        (its internal key no longer matches, D18), is an authentication error (D43).
        """
        now = self.clock.now()

        async def work(store: ProjectStore) -> CurrentUser:
            found = await store.user_holdings(user_id)
            if found is None:
                raise Unauthenticated(f'user "{user_id}" not found')
            if user_key is not None and found.user.pk != user_key:
                raise Unauthenticated("the user token is no longer valid: its user was renamed")
            holdings = Holdings(found.user, found.subscriptions, await store.snapshot(found.catalog_version))
            packages = subscribed_packages(holdings.subscriptions, holdings.catalog)
            feature_ids = feature_ids_of(packages, holdings.catalog)
            decisions = await decide_all(store, holdings, feature_ids, now, self.trace)
            return CurrentUser(found.user.user, packages, holdings.catalog.features, decisions)

        return await self.read(work)

    async def record_usage(
        self, user_id: str, feature_id: str, delta: int = 1, action: UsageAction = UsageAction.ADD
    ) -> RecordResult:
        """Record usage in the winning subscription's current period: ADD (negative reverts) or SET."""
        usage.check_event(action, delta)
        now = self.clock.now()

        async def work(store: ProjectStore) -> tuple[RecordResult, TraceData]:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            return await record_event(store, holdings, feature, action, delta, now)

        result, trace = await self.write(work)
        self.trace("recordUsage", trace)
        return result

    async def show_usage(self, user_id: str, feature_id: str) -> usage.UsageReport:
        """The current period and the completed ones, with the usage recorded in each."""

        async def work(store: ProjectStore) -> tuple[Holdings, Feature, dict[tuple[int, int], int]]:
            holdings = await holdings_of(store, user_id)
            feature = require_feature(holdings.snapshot, feature_id)
            counters = await store.counters_of(holdings.user.pk, holdings.snapshot.feature_pks[feature.id])
            return holdings, feature, counters

        holdings, feature, counters = await self.read(work)
        winner = holdings.winner(feature.id)
        ids = {s.pk: s.subscription.id for s in holdings.stored}
        keyed = {usage.UsageKey(ids[sub_pk], index): used for (sub_pk, index), used in counters.items()}
        return usage.usage_report(
            feature, winner, holdings.subscriptions, holdings.catalog, keyed, self.clock.now()
        )


def record_trace(
    user_id: str,
    feature: Feature,
    action: UsageAction,
    delta: int,
    grants: list[Grant],
    winner: Grant | None,
    outcome: RecordResult,
    window: Window | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    """The decision trace of a usage event (recordUsage, createUsageEvent)."""
    trace: dict[str, Any] = {
        "userId": user_id,
        "featureId": feature.id,
        "featureType": feature.type.value,
        "action": action.value,
        "delta": delta,
        **choice_trace(feature, grants, winner),
        "recorded": outcome.recorded,
    }
    if not outcome.recorded or winner is None:
        return trace | {"reason": outcome.reason}
    return trace | {
        "period": _window_json(window),
        "usedBefore": before,
        "usedAfter": outcome.used,
        "budget": winner.limit,
        "rule": "counted in the winning subscription's current period (D4); limits are not enforced "
        "when recording",
    }


async def record_event(
    store: ProjectStore, holdings: Holdings, feature: Feature, action: UsageAction, delta: int, at: datetime
) -> tuple[RecordResult, TraceData]:
    """Record one usage event at `at` inside the caller's transaction (recordUsage, seeds, imports)."""
    grants = entitlements.grants_for(feature.id, holdings.subscriptions, holdings.catalog)
    winner = entitlements.choose_winner(grants)
    refusal = usage.refusal(feature, winner)
    user_id = holdings.user.user.id
    if refusal is not None or winner is None:
        result = RecordResult(recorded=False, reason=refusal)
        return result, partial(record_trace, user_id, feature, action, delta, grants, winner, result)
    window = winner.window_at(at)
    key = holdings.counter_key(feature, winner, window.index)
    before = await store.used(holdings.user.pk, key, lock=True)
    usage.apply(action, delta, before)  # refuses a revert below zero before anything is written
    after = await store.record(holdings.user.pk, key, action, delta, at)
    result = RecordResult(recorded=True, used=after)
    return result, partial(
        record_trace, user_id, feature, action, delta, grants, winner, result, window, before
    )
