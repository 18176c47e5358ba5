"""Entitlement rules: which subscription grants a feature, its period, and whether the user has access.

Pure: the caller supplies the user's subscriptions, the catalog, the usage of the winning period and
"now". Nothing here reads a clock, a database or a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kana_server.domain import periods
from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import (
    Catalog,
    Consumption,
    Feature,
    FeatureType,
    Package,
    PackageFeature,
    Subscription,
    Window,
)

REASON_CONSUMABLE_OK = (
    "The user has a subcription to a package with this consumable feature and either has an "
    "allowance remaining or overage is enabled."
)
"""Kana's documented reason, verbatim (typo included)."""
REASON_CONSUMABLE_EXHAUSTED = (
    "The user has a subscription to a package with this consumable feature but has no allowance "
    "remaining and overage is not enabled."
)
REASON_BINARY_OK = "The user has a subscription to a package with this binary feature."
REASON_NO_SUBSCRIPTION = "The user does not have a subscription to a package with this feature."
REASON_BINARY_NOT_RECORDED = "Usage cannot be recorded for a binary feature."


@dataclass(frozen=True, slots=True)
class Grant:
    """One live subscription whose package contains the feature, with that package's entitlement."""

    subscription: Subscription
    package: Package
    entitlement: PackageFeature

    @property
    def limit(self) -> int | None:
        """The package's limit for the feature (None: unlimited)."""
        return self.entitlement.limit

    def window_at(self, now: datetime) -> Window:
        """The reset period of this subscription that contains `now`."""
        return periods.window_at(self.subscription.started_at, self.entitlement.reset_period, now)


@dataclass(frozen=True, slots=True)
class Decision:
    """What canUseFeature answers, plus how it was reached (for the ledger's decision trace)."""

    access: bool
    reason: str
    consumption: Consumption | None
    winner: Grant | None
    window: Window | None
    rule: str


def has_live_base(subscriptions: list[Subscription], catalog: Catalog) -> bool:
    """Whether the user holds a live base package ("tier")."""
    return any(
        s.is_live and (p := catalog.packages.get(s.package_id)) is not None and not p.is_addon
        for s in subscriptions
    )


def grants_for(feature_id: str, subscriptions: list[Subscription], catalog: Catalog) -> list[Grant]:
    """Live subscriptions whose package holds the feature; add-ons count only beside a live base (D6)."""
    base_is_live = has_live_base(subscriptions, catalog)
    grants: list[Grant] = []
    for subscription in subscriptions:
        if not subscription.is_live:
            continue
        package = catalog.packages.get(subscription.package_id)
        if package is None or (package.is_addon and not base_is_live):
            continue
        entitlement = package.feature(feature_id)
        if entitlement is not None:
            grants.append(Grant(subscription, package, entitlement))
    return grants


def _rank(grant: Grant) -> tuple[int, int, datetime, int]:
    """Sort key: unlimited first, then the highest limit, then the earliest subscription (D5)."""
    unlimited = 0 if grant.limit is None else 1
    limit = -(grant.limit or 0)
    subscription = grant.subscription
    return (unlimited, limit, subscription.started_at, _numeric_id(subscription.id))


def _numeric_id(subscription_id: str) -> int:
    """Subscription ids are generated as increasing integers; compare them as such."""
    return int(subscription_id) if subscription_id.isdigit() else 0


def choose_winner(grants: list[Grant]) -> Grant | None:
    """The package with the highest limit wins; limits are never added (Kana)."""
    return min(grants, key=_rank) if grants else None


def why_winner(feature: Feature, grants: list[Grant], winner: Grant) -> str:
    """Why `winner` won among `grants` (D5), in words, for the ledger's decision trace."""
    others = [g for g in grants if g is not winner]
    if not others:
        return "the only live package with this feature"
    if feature.type is FeatureType.BINARY:
        return "binary feature held by several live packages: the earliest subscription is reported (D5)"
    if winner.limit is None:
        if any(g.limit is None for g in others):
            return "unlimited, like another live package: the earliest subscription wins the tie (D5)"
        return "unlimited beats any limit (D5)"
    if any(g.limit == winner.limit for g in others):
        return f"tie at limit {winner.limit}: the earliest subscription wins (D5)"
    runner_up = max(g.limit or 0 for g in others)
    return f"highest limit wins ({winner.limit} > {runner_up}); limits are not added"


def check_delta(delta: int) -> int:
    """canUseFeature's delta must not be negative (D7)."""
    if delta < 0:
        raise InvalidInput(f"delta must not be negative (got {delta})")
    return delta


def decide(feature: Feature, winner: Grant | None, used: int, delta: int, now: datetime) -> Decision:
    """Access and reason for using `delta` of a feature, given the winning grant and its period's usage."""
    check_delta(delta)
    if winner is None:
        return Decision(False, REASON_NO_SUBSCRIPTION, None, None, None, "no live package holds the feature")
    if feature.type is FeatureType.BINARY:
        return Decision(True, REASON_BINARY_OK, None, winner, None, "binary feature in a live package")
    entitlement = winner.entitlement
    window = winner.window_at(now)
    consumption = Consumption(
        used=used, budget=entitlement.limit, overage_enabled=entitlement.overage_enabled
    )
    if entitlement.limit is None:
        return Decision(True, REASON_CONSUMABLE_OK, consumption, winner, window, "unlimited")
    if used + delta <= entitlement.limit:
        return Decision(True, REASON_CONSUMABLE_OK, consumption, winner, window, "used + delta <= budget")
    if entitlement.overage_enabled:
        return Decision(True, REASON_CONSUMABLE_OK, consumption, winner, window, "overage enabled")
    return Decision(False, REASON_CONSUMABLE_EXHAUSTED, consumption, winner, window, "used + delta > budget")
