"""Entitlement rules: who wins, access and reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kana_server.domain.entitlements import (
    REASON_BINARY_OK,
    REASON_CONSUMABLE_EXHAUSTED,
    REASON_CONSUMABLE_OK,
    REASON_NO_SUBSCRIPTION,
    choose_winner,
    decide,
    grants_for,
    has_live_base,
)
from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import Consumption, SubscriptionStatus
from tests.domain.builders import FEATURES, FLAG, T0, calls, catalog, package, sub

NOW = T0 + timedelta(days=3)
BASIC = package("basic", calls(100), FLAG)
PRO = package("pro", calls(1000, overage=True))
UNLIMITED = package("unlimited", calls(None))
ADDON = package("addon", calls(5000), addon=True)
CATALOG = catalog(BASIC, PRO, UNLIMITED, ADDON)


def winner_of(*subs):
    return choose_winner(grants_for("calls", list(subs), CATALOG))


def test_the_documented_reason_is_verbatim_with_its_typo() -> None:
    assert "subcription" in REASON_CONSUMABLE_OK


def test_the_highest_limit_wins_and_limits_are_not_added() -> None:
    winner = winner_of(sub("1", "basic"), sub("2", "pro"))
    assert winner is not None
    assert winner.package.id == "pro"
    decision = decide(FEATURES["calls"], winner, used=10, delta=1, now=NOW)
    assert decision.consumption == Consumption(used=10, budget=1000, overage_enabled=True)


def test_unlimited_beats_any_limit() -> None:
    winner = winner_of(sub("1", "pro"), sub("2", "unlimited"))
    assert winner is not None
    assert winner.package.id == "unlimited"


def test_a_tie_goes_to_the_earliest_subscription() -> None:
    twin = package("twin", calls(1000))
    tie_catalog = catalog(PRO, twin)
    later = sub("1", "pro", started=T0 + timedelta(days=1))
    earlier = sub("2", "twin", started=T0)
    winner = choose_winner(grants_for("calls", [later, earlier], tie_catalog))
    assert winner is not None
    assert winner.subscription.id == "2"


def test_a_tie_at_the_same_instant_goes_to_the_lower_subscription_id() -> None:
    twin = package("twin", calls(1000))
    tie_catalog = catalog(PRO, twin)
    winner = choose_winner(grants_for("calls", [sub("10", "twin"), sub("9", "pro")], tie_catalog))
    assert winner is not None
    assert winner.subscription.id == "9"


@pytest.mark.parametrize("status", [s for s in SubscriptionStatus if not s.is_live])
def test_only_active_or_trialing_subscriptions_grant_access(status: SubscriptionStatus) -> None:
    assert winner_of(sub("1", "basic", status)) is None


def test_a_trialing_subscription_grants_access() -> None:
    assert winner_of(sub("1", "basic", SubscriptionStatus.TRIALING)) is not None


def test_an_add_on_grants_nothing_without_a_live_base() -> None:
    assert winner_of(sub("1", "addon")) is None
    assert winner_of(sub("1", "basic", SubscriptionStatus.CANCELLED), sub("2", "addon")) is None
    winner = winner_of(sub("1", "basic"), sub("2", "addon"))
    assert winner is not None
    assert winner.package.id == "addon"


def test_has_live_base_ignores_add_ons_and_dead_bases() -> None:
    assert not has_live_base([sub("1", "addon")], CATALOG)
    assert not has_live_base([sub("1", "basic", SubscriptionStatus.PAST_DUE)], CATALOG)
    assert has_live_base([sub("1", "basic")], CATALOG)


def test_a_subscription_to_a_package_missing_from_the_catalog_grants_nothing() -> None:
    assert winner_of(sub("1", "gone")) is None


def test_consumable_access_depends_on_what_remains_for_delta() -> None:
    winner = winner_of(sub("1", "basic"))
    assert decide(FEATURES["calls"], winner, used=99, delta=1, now=NOW).access is True
    exhausted = decide(FEATURES["calls"], winner, used=99, delta=2, now=NOW)
    assert exhausted.access is False
    assert exhausted.reason == REASON_CONSUMABLE_EXHAUSTED


def test_overage_keeps_access_past_the_budget() -> None:
    decision = decide(FEATURES["calls"], winner_of(sub("1", "pro")), used=5000, delta=1, now=NOW)
    assert (decision.access, decision.reason, decision.rule) == (
        True,
        REASON_CONSUMABLE_OK,
        "overage enabled",
    )


def test_unlimited_has_access_whatever_the_delta() -> None:
    decision = decide(FEATURES["calls"], winner_of(sub("1", "unlimited")), used=10**9, delta=10**9, now=NOW)
    assert decision.access is True
    assert decision.consumption == Consumption(used=10**9, budget=None, overage_enabled=False)


def test_binary_feature_access_has_no_consumption() -> None:
    winner = choose_winner(grants_for("flag", [sub("1", "basic")], CATALOG))
    decision = decide(FEATURES["flag"], winner, used=0, delta=1, now=NOW)
    assert (decision.access, decision.reason, decision.consumption) == (True, REASON_BINARY_OK, None)


def test_no_subscription_means_no_access_and_no_consumption() -> None:
    decision = decide(FEATURES["calls"], None, used=0, delta=1, now=NOW)
    assert (decision.access, decision.reason, decision.consumption) == (False, REASON_NO_SUBSCRIPTION, None)


def test_a_negative_delta_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative"):
        decide(FEATURES["calls"], winner_of(sub("1", "basic")), used=0, delta=-1, now=NOW)


def test_the_decision_carries_the_current_period() -> None:
    decision = decide(
        FEATURES["calls"], winner_of(sub("1", "basic")), used=0, delta=1, now=T0 + timedelta(days=40)
    )
    assert decision.window is not None
    assert decision.window.index == 1
    assert decision.window.start == T0.replace(month=2, day=28)
