"""Small builders for domain tests."""

from __future__ import annotations

from datetime import UTC, datetime

from kana_server.domain.model import (
    Catalog,
    Feature,
    FeatureType,
    Package,
    PackageFeature,
    PackageStatus,
    ResetPeriod,
    Subscription,
    SubscriptionStatus,
)

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)

FEATURES = {
    "calls": Feature("calls", "Calls", FeatureType.CONSUMABLE),
    "flag": Feature("flag", "Flag", FeatureType.BINARY),
}


def package(
    package_id: str,
    *features: PackageFeature,
    addon: bool = False,
    status: PackageStatus = PackageStatus.PUBLISHED,
    bases: frozenset[str] = frozenset(),
) -> Package:
    return Package(package_id, package_id, addon, status, T0, None, tuple(features), (), bases)


def calls(
    limit: int | None, period: ResetPeriod | None = ResetPeriod.MONTH, overage: bool = False
) -> PackageFeature:
    return PackageFeature("calls", limit, period, overage)


FLAG = PackageFeature("flag")


def catalog(*packages: Package) -> Catalog:
    return Catalog(features=FEATURES, packages={p.id: p for p in packages})


def sub(
    sub_id: str,
    package_id: str,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    started: datetime = T0,
    user: str = "u",
) -> Subscription:
    return Subscription(sub_id, user, package_id, status, started)
