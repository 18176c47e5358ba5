"""Kana's subscribe rules (messages verbatim), all or nothing."""

from __future__ import annotations

import pytest

from kana_server.domain.errors import SubscriptionError, UnknownPackageInSubscribe
from kana_server.domain.model import PackageStatus, SubscriptionStatus
from kana_server.domain.subscriptions import ADDON_WITHOUT_TIER, MULTIPLE_TIERS, plan_subscribe
from tests.domain.builders import FLAG, calls, catalog, package, sub

CATALOG = catalog(
    package("basic", calls(100)),
    package("pro", calls(1000)),
    package("draft", calls(1), status=PackageStatus.DRAFT),
    package("old", calls(1), status=PackageStatus.ARCHIVED),
    package("addon", FLAG, addon=True),
    package("pro-only", FLAG, addon=True, bases=frozenset({"pro"})),
)


def test_a_base_and_add_ons_in_one_call() -> None:
    steps = plan_subscribe(["basic", "addon"], [], CATALOG)
    assert [(s.package.id, s.existing) for s in steps] == [("basic", None), ("addon", None)]


def test_an_unknown_package_uses_kanas_message() -> None:
    with pytest.raises(UnknownPackageInSubscribe, match=r"^Package Id not found for app$"):
        plan_subscribe(["basic", "nope"], [], CATALOG)


@pytest.mark.parametrize("package_id", ["draft", "old"])
def test_only_published_packages_can_be_subscribed_to(package_id: str) -> None:
    with pytest.raises(SubscriptionError, match=rf"^Package {package_id} is not published$"):
        plan_subscribe([package_id], [], CATALOG)


def test_two_bases_in_one_call_are_refused() -> None:
    with pytest.raises(SubscriptionError, match=rf"^{MULTIPLE_TIERS}$"):
        plan_subscribe(["basic", "pro"], [], CATALOG)


def test_a_second_base_beside_a_live_one_is_refused() -> None:
    with pytest.raises(SubscriptionError, match=rf"^{MULTIPLE_TIERS}$"):
        plan_subscribe(["pro"], [sub("1", "basic")], CATALOG)


def test_a_new_base_after_the_old_one_was_cancelled_is_allowed() -> None:
    steps = plan_subscribe(["pro"], [sub("1", "basic", SubscriptionStatus.CANCELLED)], CATALOG)
    assert steps[0].existing is None


def test_an_add_on_needs_a_live_base() -> None:
    with pytest.raises(SubscriptionError, match=f"^{ADDON_WITHOUT_TIER.replace('.', '[.]')}$"):
        plan_subscribe(["addon"], [], CATALOG)
    with pytest.raises(SubscriptionError, match="Missing live tier"):
        plan_subscribe(["addon"], [sub("1", "basic", SubscriptionStatus.PAST_DUE)], CATALOG)


def test_an_add_on_beside_a_held_base_is_allowed() -> None:
    assert plan_subscribe(["addon"], [sub("1", "basic")], CATALOG)[0].package.id == "addon"


def test_an_add_on_limited_to_other_bases_is_refused() -> None:
    with pytest.raises(SubscriptionError, match=r"^Add-on pro-only is not available for package basic$"):
        plan_subscribe(["basic", "pro-only"], [], CATALOG)
    assert plan_subscribe(["pro", "pro-only"], [], CATALOG)[1].package.id == "pro-only"


def test_a_package_already_held_is_returned_not_subscribed_again() -> None:
    held = sub("7", "basic")
    steps = plan_subscribe(["basic"], [held], CATALOG)
    assert steps[0].existing == held


def test_a_package_named_twice_counts_once() -> None:
    steps = plan_subscribe(["basic", "basic"], [], CATALOG)
    assert steps[0] is steps[1]


def test_checks_run_in_order_unknown_before_unpublished_before_tiers() -> None:
    with pytest.raises(UnknownPackageInSubscribe):
        plan_subscribe(["draft", "nope", "basic", "pro"], [], CATALOG)
    with pytest.raises(SubscriptionError, match="not published"):
        plan_subscribe(["basic", "pro", "draft"], [], CATALOG)
