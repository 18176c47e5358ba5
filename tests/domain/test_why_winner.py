"""Why a package wins a feature (D5), as the decision trace says it."""

from __future__ import annotations

from datetime import UTC, datetime

from kana_server.domain.entitlements import Grant, choose_winner, why_winner
from kana_server.domain.model import (
    Feature,
    FeatureType,
    Package,
    PackageFeature,
    PackageStatus,
    ResetPeriod,
    Subscription,
    SubscriptionStatus,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CALLS = Feature("calls", "Calls", FeatureType.CONSUMABLE)
SSO = Feature("sso", "SSO", FeatureType.BINARY)


def grant(n: int, limit: int | None, feature: Feature = CALLS) -> Grant:
    entitlement = PackageFeature(feature.id, limit, ResetPeriod.MONTH)
    package = Package(f"p{n}", f"P{n}", n > 1, PackageStatus.PUBLISHED, T0, features=(entitlement,))
    return Grant(Subscription(str(n), "u", package.id, SubscriptionStatus.ACTIVE, T0), package, entitlement)


def why(*grants: Grant, feature: Feature = CALLS) -> tuple[str, str]:
    winner = choose_winner(list(grants))
    assert winner is not None
    return winner.package.id, why_winner(feature, list(grants), winner)


def test_a_single_package_wins_alone() -> None:
    assert why(grant(1, 10)) == ("p1", "the only live package with this feature")


def test_the_highest_limit_wins() -> None:
    assert why(grant(1, 10), grant(2, 50), grant(3, 20)) == (
        "p2",
        "highest limit wins (50 > 20); limits are not added",
    )


def test_unlimited_beats_any_limit() -> None:
    assert why(grant(1, 10), grant(2, None)) == ("p2", "unlimited beats any limit (D5)")


def test_ties_go_to_the_earliest_subscription() -> None:
    assert why(grant(1, 10), grant(2, 10)) == ("p1", "tie at limit 10: the earliest subscription wins (D5)")
    assert why(grant(1, None), grant(2, None)) == (
        "p1",
        "unlimited, like another live package: the earliest subscription wins the tie (D5)",
    )


def test_binary_features_report_the_earliest_subscription() -> None:
    assert why(grant(1, None, SSO), grant(2, None, SSO), feature=SSO) == (
        "p1",
        "binary feature held by several live packages: the earliest subscription is reported (D5)",
    )
