"""The domain's value objects: what the rules compute on, free of SQL and GraphQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JSONValue = Any
"""Any JSON value (Kana's `JSON` scalar): dict, list, str, int, float, bool or None."""


class FeatureType(StrEnum):
    """Kana's FeatureType: a feature is either on/off or counted."""

    BINARY = "BINARY"
    CONSUMABLE = "CONSUMABLE"


class PackageStatus(StrEnum):
    """A package's lifecycle; only PUBLISHED packages can be subscribed to."""

    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"


class ResetPeriod(StrEnum):
    """How often a consumable's usage starts again from zero."""

    YEAR = "YEAR"
    MONTH = "MONTH"
    DAY = "DAY"


class SubscriptionStatus(StrEnum):
    """Kana's (Stripe's) subscription statuses."""

    ACTIVE = "ACTIVE"
    TRIALING = "TRIALING"
    CANCELLED = "CANCELLED"
    PAST_DUE = "PAST_DUE"
    UNPAID = "UNPAID"
    INCOMPLETE = "INCOMPLETE"
    INCOMPLETE_EXPIRED = "INCOMPLETE_EXPIRED"

    @property
    def is_live(self) -> bool:
        """Only ACTIVE and TRIALING subscriptions grant access."""
        return self in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)


class UsageAction(StrEnum):
    """recordUsage's action: add `delta` to the period's usage, or set it to `delta`."""

    ADD = "ADD"
    SET = "SET"


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature of the customer's product, e.g. "api-calls"."""

    id: str
    name: str
    type: FeatureType
    unit_label: str | None = None
    unit_label_plural: str | None = None
    metadata: JSONValue = None


@dataclass(frozen=True, slots=True)
class PackageFeature:
    """A feature as it sits within one package: its entitlement there."""

    feature_id: str
    limit: int | None = None  # None: unlimited (consumables only)
    reset_period: ResetPeriod | None = None  # None: never resets
    overage_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Price:
    """A price at the billing provider, shown in Package.prices."""

    id: str
    provider: str
    amount: int
    display_amount: str
    currency: str
    interval: str | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """A plan ("tier") or an add-on, with the features it grants."""

    id: str
    name: str
    is_addon: bool
    status: PackageStatus
    updated_at: datetime
    metadata: JSONValue = None
    features: tuple[PackageFeature, ...] = ()
    prices: tuple[Price, ...] = ()
    base_packages: frozenset[str] = frozenset()  # add-ons only; empty: any base

    def feature(self, feature_id: str) -> PackageFeature | None:
        """This package's entitlement for a feature, if it has the feature."""
        for package_feature in self.features:
            if package_feature.feature_id == feature_id:
                return package_feature
        return None


@dataclass(frozen=True, slots=True)
class BillingTemplate:
    """A way to sell a package at a price (used by generateSubscriptionLink)."""

    id: str
    package_id: str
    price_id: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything a project sells: features, packages, billing templates; ordered by creation."""

    features: Mapping[str, Feature] = field(default_factory=dict)
    packages: Mapping[str, Package] = field(default_factory=dict)
    billing_templates: Mapping[str, BillingTemplate] = field(default_factory=dict)

    def packages_with_feature(self, feature_id: str) -> Iterator[Package]:
        """Packages that contain a feature, in creation order."""
        return (p for p in self.packages.values() if p.feature(feature_id) is not None)


@dataclass(frozen=True, slots=True)
class User:
    """A customer's end user."""

    id: str
    billing_id: str | None = None
    name: str | None = None
    email: str | None = None
    metadata: JSONValue = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's subscription to one package; `started_at` anchors its reset periods."""

    id: str
    user_id: str
    package_id: str
    status: SubscriptionStatus
    started_at: datetime
    metadata: JSONValue = None

    @property
    def is_live(self) -> bool:
        """Whether the subscription's status grants access."""
        return self.status.is_live


@dataclass(frozen=True, slots=True)
class Consumption:
    """A consumable's usage against its budget in one period."""

    used: int
    budget: int | None  # None: unlimited
    overage_enabled: bool


@dataclass(frozen=True, slots=True)
class Window:
    """A reset period [start, end) in UTC."""

    index: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Project:
    """A tenant ([X]): its keys, token secret, catalog version and virtual clock offset."""

    id: int
    private_key: str
    public_key: str
    name: str
    token_secret: str
    catalog_version: int
    clock_offset_ms: int = 0
    clock_frozen_at: datetime | None = None
    seed_digest: str | None = None
