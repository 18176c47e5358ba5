"""A project's state as a document: the Kana CLI's format for `/cli/pull`, extended for exports.

`/cli/pull` and `/cli/publish` answer `catalog_document`: features, packages and add-ons in the CLI's
format (archived packages left out, an unlimited consumable written as an explicit `limit: null`, D50).
An export (`kana-server export`, `GET /_kana/state`, snapshots) is the same document plus kana-server's
sections: archived packages, prices, billing templates, the clock, users, subscriptions and every usage
event with its subscription and period (D53), so that importing it gives the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from kana_server.domain.clock import ClockState, format_instant, offset_ms
from kana_server.domain.model import (
    Catalog,
    Feature,
    FeatureType,
    Package,
    PackageFeature,
    PackageStatus,
    Price,
    Subscription,
    UsageAction,
    User,
)

CONFIG_VERSION = "1.0.0"
"""What the Kana CLI writes as `version:`."""


@dataclass(frozen=True, slots=True)
class StoredSubscriptionState:
    """A subscription as exports keep it: with the instant its status last changed."""

    subscription: Subscription
    status_changed_at: datetime


class UsageRecord(NamedTuple):
    """One recorded usage event: who, what, where it counted (subscription and period), how, when.

    A named tuple, not a frozen dataclass: exports and imports make one per event, and a frozen
    dataclass costs three times as much to make (D123)."""

    user_id: str
    feature_id: str
    subscription_id: str
    period_index: int
    action: UsageAction
    delta: int
    at: datetime


@dataclass
class ProjectState:
    """Everything a project holds, as read in one transaction."""

    app: str
    clock: ClockState
    catalog: Catalog
    users: list[User] = field(default_factory=list)
    subscriptions: list[StoredSubscriptionState] = field(default_factory=list)
    usage: list[UsageRecord] = field(default_factory=list)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def feature_document(feature: Feature) -> dict[str, Any]:
    """`{id, name, type}` plus the unit labels and metadata when set."""
    return {
        "id": feature.id,
        "name": feature.name,
        "type": feature.type.value,
        **_without_none(
            {
                "unit_label": feature.unit_label,
                "unit_label_plural": feature.unit_label_plural,
                "metadata": feature.metadata,
            }
        ),
    }


def entitlement_document(item: PackageFeature, feature_type: FeatureType) -> dict[str, Any]:
    """A feature inside a package as the CLI writes it back: binary `{id}`; consumable with an explicit
    `limit` (null: unlimited, D50), `overage_enabled` only when true, `reset_period` when it resets."""
    if feature_type is FeatureType.BINARY:
        return {"id": item.feature_id}
    document: dict[str, Any] = {"id": item.feature_id, "limit": item.limit}
    if item.overage_enabled:
        document["overage_enabled"] = True
    if item.reset_period is not None:
        document["reset_period"] = item.reset_period.value
    return document


def package_document(package: Package, catalog: Catalog, *, with_updated_at: bool) -> dict[str, Any]:
    """A package or add-on entry."""
    document: dict[str, Any] = {"id": package.id, "name": package.name}
    if package.base_packages:
        document["base_packages"] = sorted(package.base_packages)
    document["features"] = [
        entitlement_document(item, catalog.features[item.feature_id].type) for item in package.features
    ]
    if package.metadata is not None:
        document["metadata"] = package.metadata
    if with_updated_at:
        document["updated_at"] = format_instant(package.updated_at)
    return document


def price_document(price: Price) -> dict[str, Any]:
    """A price as the seed format writes it."""
    return {
        "id": price.id,
        "provider": price.provider,
        "amount": price.amount,
        "displayAmount": price.display_amount,
        "currency": price.currency,
        "interval": price.interval,
    }


def catalog_document(catalog: Catalog, app: str, *, export: bool = False) -> dict[str, Any]:
    """The catalog in the Kana CLI's format (what `/cli/pull` answers); `export` adds archived
    packages, `updated_at`, prices and billing templates."""
    sections: dict[str, dict[str, list[dict[str, Any]]]] = {
        "packages": {"draft": [], "published": []},
        "addons": {"draft": [], "published": []},
    }
    for package in catalog.packages.values():
        if package.status is PackageStatus.ARCHIVED and not export:
            continue
        section = sections["addons" if package.is_addon else "packages"]
        section.setdefault(package.status.value.lower(), []).append(
            package_document(package, catalog, with_updated_at=export)
        )
    document: dict[str, Any] = {
        "version": CONFIG_VERSION,
        "app": app,
        "features": [feature_document(f) for f in catalog.features.values()],
        **sections,
    }
    prices = {p.id: [price_document(x) for x in p.prices] for p in catalog.packages.values() if p.prices}
    if prices:
        document["prices"] = prices
    if catalog.billing_templates:
        document["billing_templates"] = [
            _without_none({"id": t.id, "package": t.package_id, "price": t.price_id})
            for t in catalog.billing_templates.values()
        ]
    return document


def user_document(user: User) -> dict[str, Any]:
    """A user entry (fields that are not set are left out)."""
    return {
        "id": user.id,
        **_without_none(
            {"billing_id": user.billing_id, "name": user.name, "email": user.email, "metadata": user.metadata}
        ),
    }


def subscription_document(stored: StoredSubscriptionState) -> dict[str, Any]:
    """A subscription entry with its id, status and start (and status change when it differs)."""
    subscription = stored.subscription
    document: dict[str, Any] = {
        "id": subscription.id,
        "user": subscription.user_id,
        "package": subscription.package_id,
        "status": subscription.status.value,
        "started_at": format_instant(subscription.started_at),
    }
    if stored.status_changed_at != subscription.started_at:
        document["status_changed_at"] = format_instant(stored.status_changed_at)
    if subscription.metadata is not None:
        document["metadata"] = subscription.metadata
    return document


def usage_document(record: UsageRecord) -> dict[str, Any]:
    """A usage event entry; `action` is left out when it is ADD (the default)."""
    document: dict[str, Any] = {
        "user": record.user_id,
        "feature": record.feature_id,
        "subscription": record.subscription_id,
        "period": record.period_index,
        "delta": record.delta,
        "at": format_instant(record.at),
    }
    if record.action is not UsageAction.ADD:
        document["action"] = record.action.value
    return document


def clock_document(state: ClockState) -> dict[str, Any]:
    """The clock section: offset from real time in milliseconds, or the instant it is frozen at."""
    return {
        "offset_ms": offset_ms(state),
        "frozen_at": None if state.frozen_at is None else format_instant(state.frozen_at),
    }


def state_document(state: ProjectState) -> dict[str, Any]:
    """A whole project as one document: `kana-server import` gives back the same state."""
    catalog = catalog_document(state.catalog, state.app, export=True)
    return {
        "version": catalog.pop("version"),
        "app": catalog.pop("app"),
        "clock": clock_document(state.clock),
        **catalog,
        "users": [user_document(u) for u in state.users],
        "subscriptions": [subscription_document(s) for s in state.subscriptions],
        "usage": [usage_document(r) for r in state.usage],
    }
