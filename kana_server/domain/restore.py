"""Planning a seed's or an import's project data, all of it before anything is written.

Subscriptions are restored as the file says (id, status, start); usage events are placed in the
period of the subscription they counted against, and the counters they add up to are computed here,
so the store can write any number of events in a few batched statements (D53, D54). Pure: the caller
hands in the catalog, the users, the subscriptions and "now".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from kana_server.domain import entitlements, periods, usage
from kana_server.domain.config import (
    INT_MAX,
    USAGE_DEFAULT_ACTION,
    USAGE_DEFAULT_DELTA,
    ConfigError,
    ConfigPath,
    ConfigProblem,
    SubscriptionConfig,
    UsageConfig,
    UserConfig,
)
from kana_server.domain.errors import InvalidInput
from kana_server.domain.ids import check_id
from kana_server.domain.model import (
    Catalog,
    FeatureType,
    PackageFeature,
    Subscription,
    User,
    Window,
)
from kana_server.domain.state import StoredSubscriptionState, UsageRecord

MAX_PROBLEMS = 20
"""A file with many bad entries reports the first ones only."""

CounterKey = tuple[str, str, str, int]
"""(user id, feature id, subscription id, period index)."""


class _Problems:
    """Collects problems with their paths; stops collecting after MAX_PROBLEMS."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[ConfigProblem] = []

    def add(self, path: ConfigPath, message: str) -> None:
        if len(self.items) == MAX_PROBLEMS:
            self.items.append(ConfigProblem((), "more problems were not reported"))
        elif len(self.items) < MAX_PROBLEMS:
            self.items.append(ConfigProblem(path, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.source, self.items)


def plan_users(entries: Sequence[UserConfig], *, source: str) -> list[User]:
    """Users to create: valid, unique ids (D9)."""
    problems = _Problems(source)
    seen: set[str] = set()
    users: list[User] = []
    for index, entry in enumerate(entries):
        try:
            check_id("User", entry.id)
        except InvalidInput as exc:
            problems.add(("users", index, "id"), exc.message)
            continue
        if entry.id in seen:
            problems.add(("users", index, "id"), f"Duplicate user id {entry.id}")
        seen.add(entry.id)
        users.append(User(entry.id, entry.billing_id, entry.name, entry.email, entry.metadata))
    problems.raise_if_any()
    return users


MAX_SUBSCRIPTION_ID_LENGTH = 32
"""Subscription ids are generated numbers; one given in a file is kept to this length (the column's)."""


def check_subscription_id(subscription_id: str) -> str:
    """A subscription id from a file: an id (D9) of at most 32 characters."""
    check_id("Subscription", subscription_id)
    if len(subscription_id) > MAX_SUBSCRIPTION_ID_LENGTH:
        limit, length = MAX_SUBSCRIPTION_ID_LENGTH, len(subscription_id)
        raise InvalidInput(f"Subscription id must be at most {limit} characters (got {length})")
    if subscription_id.isdigit() and int(subscription_id) > INT_MAX:
        # Generated ids continue after the highest numeric one: it must stay a small integer.
        raise InvalidInput(f"A numeric subscription id must be at most {INT_MAX} (got {subscription_id})")
    return subscription_id


def _numeric(subscription_id: str) -> int:
    return int(subscription_id) if subscription_id.isdigit() else 0


def plan_subscriptions(
    entries: Sequence[SubscriptionConfig],
    user_ids: set[str],
    catalog: Catalog,
    now: datetime,
    *,
    source: str,
    last_id: int = 0,
) -> list[StoredSubscriptionState]:
    """Subscriptions restored as given: each user and package must exist, ids are unique (missing ids
    continue after the highest numeric one), nothing starts in the future, one live base per user."""
    problems = _Problems(source)
    next_id = max([last_id, *(_numeric(e.id) for e in entries if e.id)])
    seen: set[str] = set()
    live_base: dict[str, str] = {}
    result: list[StoredSubscriptionState] = []
    for index, entry in enumerate(entries):
        path: ConfigPath = ("subscriptions", index)
        if entry.id is None:
            next_id += 1
            subscription_id = str(next_id)
        else:
            subscription_id = entry.id
        try:
            check_subscription_id(subscription_id)
        except InvalidInput as exc:
            problems.add((*path, "id"), exc.message)
            continue
        if subscription_id in seen:
            problems.add((*path, "id"), f"Duplicate subscription id {subscription_id}")
        seen.add(subscription_id)
        if entry.user not in user_ids:
            problems.add(
                (*path, "user"), f"Subscription {subscription_id} refers to unknown user {entry.user}"
            )
        package = catalog.packages.get(entry.package)
        if package is None:
            problems.add(
                (*path, "package"),
                f"Subscription {subscription_id} refers to unknown package {entry.package}",
            )
            continue
        started = entry.started_at or now
        changed = entry.status_changed_at or started
        if started > now:
            problems.add((*path, "started_at"), f"Subscription {subscription_id} starts in the future")
        if not started <= changed <= now:
            problems.add(
                (*path, "status_changed_at"),
                f"Subscription {subscription_id}: status_changed_at must be between started_at and now",
            )
        if entry.status.is_live and not package.is_addon:
            other = live_base.get(entry.user)
            if other is not None:
                problems.add(
                    path, f"User {entry.user} would hold two live base packages ({other} and {package.id})"
                )
            live_base[entry.user] = package.id
        result.append(
            StoredSubscriptionState(
                Subscription(subscription_id, entry.user, package.id, entry.status, started, entry.metadata),
                changed,
            )
        )
    problems.raise_if_any()
    return result


class PlannedEvent(NamedTuple):
    """A usage event ready to be written, with the period's usage after it (a named tuple: one per
    event, D123)."""

    record: UsageRecord
    used_after: int


@dataclass
class UsagePlan:
    """Every event in file order, and each period's final count."""

    events: list[PlannedEvent] = field(default_factory=list)
    counters: dict[CounterKey, int] = field(default_factory=dict)


@dataclass
class _Placement:
    """Where one user's usage of one feature counts when the file does not say (cached per pair)."""

    subscription: Subscription | None
    entitlement: PackageFeature | None
    reason: str | None


def plan_usage(
    entries: Sequence[UsageConfig],
    subscriptions: Mapping[str, Sequence[Subscription]],
    catalog: Catalog,
    now: datetime,
    *,
    source: str,
) -> UsagePlan:
    """Place each event in a subscription's period and replay the counters (D8 still holds: no
    period's usage goes below zero). An event that names its subscription counts there whatever the
    subscription's status; one that does not counts where recordUsage would count it now (D54)."""
    problems = _Problems(source)
    by_id = {s.id: s for subs in subscriptions.values() for s in subs}
    placements: dict[tuple[str, str], _Placement] = {}
    windows: dict[tuple[str, str], Window] = {}
    plan = UsagePlan()
    counters = plan.counters
    for index, entry in enumerate(entries):
        path: ConfigPath = ("usage", index)
        user_id, feature_id = entry["user"], entry["feature"]
        action = entry.get("action", USAGE_DEFAULT_ACTION)
        delta = entry.get("delta", USAGE_DEFAULT_DELTA)
        named, period = entry.get("subscription"), entry.get("period")
        feature = catalog.features.get(feature_id)
        if user_id not in subscriptions:
            problems.add((*path, "user"), f"Usage refers to unknown user {user_id}")
            continue
        if feature is None:
            problems.add((*path, "feature"), f"Usage refers to unknown feature {feature_id}")
            continue
        if feature.type is FeatureType.BINARY:
            problems.add((*path, "feature"), f"{feature_id}: {entitlements.REASON_BINARY_NOT_RECORDED}")
            continue
        at = entry.get("at") or now
        if at > now:
            problems.add((*path, "at"), "Usage cannot be recorded in the future")
            continue
        if named is None:
            placement = placements.get((user_id, feature_id))
            if placement is None:
                winner = entitlements.choose_winner(
                    entitlements.grants_for(feature_id, list(subscriptions[user_id]), catalog)
                )
                placement = _Placement(
                    winner.subscription if winner else None,
                    winner.entitlement if winner else None,
                    None if winner else entitlements.REASON_NO_SUBSCRIPTION,
                )
                placements[(user_id, feature_id)] = placement
            subscription, entitlement = placement.subscription, placement.entitlement
            if subscription is None or entitlement is None:
                problems.add(path, f"Usage of {feature_id} by {user_id}: {placement.reason}")
                continue
        else:
            found = by_id.get(named)
            if found is None or found.user_id != user_id:
                problems.add(
                    (*path, "subscription"),
                    f"Subscription {named} of user {user_id} does not exist",
                )
                continue
            package = catalog.packages[found.package_id]
            entitlement = package.feature(feature_id)
            if entitlement is None:
                problems.add(
                    (*path, "subscription"),
                    f"Package {package.id} of subscription {found.id} does not hold {feature_id}",
                )
                continue
            subscription = found
        if at < subscription.started_at:
            problems.add((*path, "at"), f"Usage before subscription {subscription.id} started")
            continue
        window = windows.get((subscription.id, feature_id))
        if window is None or not window.start <= at < window.end:
            window = periods.window_at(subscription.started_at, entitlement.reset_period, at)
            windows[(subscription.id, feature_id)] = window
        if period is not None and period != window.index:
            problems.add(
                (*path, "period"),
                f"Period {period} does not hold {at.isoformat()} (it is in period {window.index})",
            )
            continue
        key = (user_id, feature_id, subscription.id, window.index)
        try:
            after = usage.apply(action, delta, counters.get(key, 0))
        except InvalidInput as exc:
            problems.add(path, exc.message)
            continue
        counters[key] = after
        record = UsageRecord(user_id, feature_id, subscription.id, window.index, action, delta, at)
        plan.events.append(PlannedEvent(record, after))
    problems.raise_if_any()
    return plan
