"""recordUsage and canUseFeature through the Admin API: the flows Kana documents."""

from __future__ import annotations

from tests.kana import Api

REASON_OK = (
    "The user has a subcription to a package with this consumable feature and either has an allowance "
    "remaining or overage is enabled."
)
REASON_EXHAUSTED = (
    "The user has a subscription to a package with this consumable feature but has no allowance remaining "
    "and overage is not enabled."
)
REASON_NONE = "The user does not have a subscription to a package with this feature."
REASON_BINARY = "The user has a subscription to a package with this binary feature."


async def test_consumable_with_allowance_has_access(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    assert await api.can_use("u1", "api-calls") == {
        "access": True,
        "reason": REASON_OK,
        "consumption": {"used": 0, "budget": 50, "overageEnabled": False},
    }


async def test_record_usage_adds_and_negative_delta_reverts(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    assert await api.record("u1", "api-calls", 30) == {"recorded": True, "reason": None}
    assert await api.record("u1", "api-calls", -10) == {"recorded": True, "reason": None}
    assert await api.used("u1", "api-calls") == 20


async def test_record_usage_set_replaces_the_period_usage(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 30)
    assert await api.record("u1", "api-calls", 7, "SET") == {"recorded": True, "reason": None}
    assert await api.used("u1", "api-calls") == 7


async def test_consumable_without_allowance_has_no_access(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 50)
    result = await api.can_use("u1", "api-calls")
    assert result == {
        "access": False,
        "reason": REASON_EXHAUSTED,
        "consumption": {"used": 50, "budget": 50, "overageEnabled": False},
    }


async def test_delta_is_checked_against_what_remains(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 40)
    assert (await api.can_use("u1", "api-calls", 10))["access"] is True
    assert (await api.can_use("u1", "api-calls", 11))["access"] is False


async def test_overage_keeps_access_past_the_budget(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro")
    await api.record("u1", "messages", 150)
    assert await api.can_use("u1", "messages") == {
        "access": True,
        "reason": REASON_OK,
        "consumption": {"used": 150, "budget": 100, "overageEnabled": True},
    }


async def test_unlimited_always_has_access(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro")
    await api.record("u1", "seats", 10_000)
    assert await api.can_use("u1", "seats", 1_000_000) == {
        "access": True,
        "reason": REASON_OK,
        "consumption": {"used": 10_000, "budget": None, "overageEnabled": False},
    }


async def test_binary_feature_in_a_live_package_has_access(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    assert await api.can_use("u1", "dashboard") == {
        "access": True,
        "reason": REASON_BINARY,
        "consumption": None,
    }


async def test_not_subscribed_has_no_access_and_usage_is_not_recorded(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    assert await api.can_use("u1", "api-calls") == {
        "access": False,
        "reason": REASON_NONE,
        "consumption": None,
    }
    assert await api.record("u1", "api-calls", 5) == {"recorded": False, "reason": REASON_NONE}
    await api.subscribe("u1", "free")
    assert await api.used("u1", "api-calls") == 0


async def test_highest_limit_wins_across_two_packages(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro", "extra-calls")
    result = await api.can_use("u1", "api-calls")
    assert result["consumption"] == {"used": 0, "budget": 5000, "overageEnabled": False}


async def test_usage_past_the_budget_is_recorded(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    assert (await api.record("u1", "api-calls", 80))["recorded"] is True
    assert await api.used("u1", "api-calls") == 80


async def test_create_usage_event_answers_a_bare_boolean(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    query = "mutation($i: CreateUsageEventInput!) { createUsageEvent(input: $i) }"
    assert await api.data(query, {"i": {"userId": "u1", "featureId": "api-calls", "delta": 3}}) == {
        "createUsageEvent": False
    }
    await api.subscribe("u1", "free")
    assert await api.data(query, {"i": {"userId": "u1", "featureId": "api-calls", "delta": 3}}) == {
        "createUsageEvent": True
    }
    assert await api.used("u1", "api-calls") == 3


async def test_record_usage_on_a_binary_feature_is_not_recorded(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    result = await api.record("u1", "dashboard", 1)
    assert result["recorded"] is False
    assert "binary" in result["reason"]


async def test_default_delta_is_one(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.data('mutation { recordUsage(input: {userId: "u1", featureId: "api-calls"}) { recorded } }')
    assert await api.used("u1", "api-calls") == 1


async def test_when_the_winner_changes_mid_period_used_follows_the_new_winner(catalog_api: Api) -> None:
    """D4: usage counts in the winning subscription's period; the old winner's count is kept."""
    api = catalog_api
    await api.create_user("u1")
    [pro] = await api.subscribe("u1", "pro")
    await api.record("u1", "api-calls", 300)
    [_, extra] = await api.subscribe("u1", "pro", "extra-calls")
    assert (await api.can_use("u1", "api-calls"))["consumption"] == {
        "used": 0,
        "budget": 5000,
        "overageEnabled": False,
    }
    await api.record("u1", "api-calls", 20)
    await api.set_status(extra["id"], "CANCELLED")
    assert (await api.can_use("u1", "api-calls"))["consumption"] == {
        "used": 300,
        "budget": 1000,
        "overageEnabled": False,
    }
    past = await api.data(
        '{ showUsage(userId: "u1", featureId: "api-calls") { past { consumption { used budget } } } }'
    )
    # The add-on's period is not running any more (cancelled): it is listed with what was recorded in it.
    assert past["showUsage"]["past"] == [{"consumption": {"used": 20, "budget": 5000}}]
    assert pro["id"] == "1"
