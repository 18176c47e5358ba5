"""Usage rules: what recordUsage does to a period's count, and the usage history showUsage reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from kana_server.domain import periods
from kana_server.domain.entitlements import REASON_BINARY_NOT_RECORDED, REASON_NO_SUBSCRIPTION, Grant
from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import (
    Catalog,
    Consumption,
    Feature,
    FeatureType,
    Subscription,
    UsageAction,
    Window,
)

MAX_PAST_PERIODS = 100
"""showUsage lists at most this many completed periods (D15)."""


@dataclass(frozen=True, slots=True)
class UsageKey:
    """Where a usage event counts: the winning subscription's period (D4)."""

    subscription_id: str
    period_index: int


def refusal(feature: Feature, winner: Grant | None) -> str | None:
    """Why usage of this feature cannot be recorded now (`recorded: false`), or None if it can."""
    if winner is None:
        return REASON_NO_SUBSCRIPTION
    if feature.type is FeatureType.BINARY:
        return REASON_BINARY_NOT_RECORDED
    return None


def check_event(action: UsageAction, delta: int) -> None:
    """SET takes a count, so a negative SET is not meaningful; ADD takes any integer."""
    if action is UsageAction.SET and delta < 0:
        raise InvalidInput(f"delta must not be negative with action SET (got {delta})")


def apply(action: UsageAction, delta: int, used: int) -> int:
    """The period's usage after one event; a revert below zero is refused (D8)."""
    check_event(action, delta)
    after = delta if action is UsageAction.SET else used + delta
    if after < 0:
        raise InvalidInput(
            f"Cannot revert {-delta}: only {used} recorded in the current period, usage would become {after}"
        )
    return after


def replay(events: Iterable[tuple[UsageAction, int]]) -> int:
    """A period's usage recomputed from its events, in order (the counter must always equal this)."""
    used = 0
    for action, delta in events:
        used = delta if action is UsageAction.SET else used + delta
    return used


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """One period of showUsage: its window and the consumption recorded in it."""

    window: Window
    consumption: Consumption


@dataclass(frozen=True, slots=True)
class UsageReport:
    """showUsage's answer: the current period and completed ones, newest first."""

    current: PeriodUsage | None
    past: list[PeriodUsage]


def usage_report(
    feature: Feature,
    winner: Grant | None,
    subscriptions: list[Subscription],
    catalog: Catalog,
    counters: Mapping[UsageKey, int],
    now: datetime,
) -> UsageReport:
    """showUsage: the winner's current and past periods, then other subscriptions' recorded periods (D15)."""
    if winner is None or feature.type is FeatureType.BINARY:
        return UsageReport(current=None, past=[])
    sub = winner.subscription
    current_window = winner.window_at(now)

    def consumption(grant_limit: int | None, overage: bool, key: UsageKey) -> Consumption:
        return Consumption(used=counters.get(key, 0), budget=grant_limit, overage_enabled=overage)

    entitlement = winner.entitlement
    current = PeriodUsage(
        current_window,
        consumption(entitlement.limit, entitlement.overage_enabled, UsageKey(sub.id, current_window.index)),
    )
    past: list[PeriodUsage] = []
    for index in range(current_window.index - 1, max(-1, current_window.index - 1 - MAX_PAST_PERIODS), -1):
        key = UsageKey(sub.id, index)
        past.append(
            PeriodUsage(
                periods.window(sub.started_at, entitlement.reset_period, index),
                consumption(entitlement.limit, entitlement.overage_enabled, key),
            )
        )
    others: list[PeriodUsage] = []
    by_id = {s.id: s for s in subscriptions}
    for key in counters:
        other = by_id.get(key.subscription_id)
        if other is None or other.id == sub.id:
            continue
        package = catalog.packages.get(other.package_id)
        other_entitlement = package.feature(feature.id) if package else None
        if other_entitlement is None:
            continue
        other_window = periods.window(other.started_at, other_entitlement.reset_period, key.period_index)
        if other.is_live and other_window.start <= now < other_window.end:
            continue  # still running: not a completed period
        others.append(
            PeriodUsage(
                other_window,
                consumption(other_entitlement.limit, other_entitlement.overage_enabled, key),
            )
        )
    others.sort(key=lambda p: p.window.start, reverse=True)
    return UsageReport(current=current, past=(past + others)[:MAX_PAST_PERIODS])
