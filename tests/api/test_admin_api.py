"""The Admin API beyond usage: catalog, users, subscriptions, listings and their rules."""

from __future__ import annotations

import pytest

from tests.kana import Api


async def test_packages_are_created_as_draft_and_listed_by_status(catalog_api: Api) -> None:
    api = catalog_api
    created = await api.data(
        'mutation { createPackage(input: {id: "new", features: [{id: "dashboard"}]}) { id status isAddon name } }'
    )
    assert created == {"createPackage": {"id": "new", "status": "DRAFT", "isAddon": False, "name": "new"}}

    async def ids(status: str | None) -> list[str]:
        argument = "" if status is None else f'(status: "{status}")'
        return [p["id"] for p in (await api.data(f"{{ packages{argument} {{ id }} }}"))["packages"]]

    everything = ["free", "pro", "enterprise", "extra-calls", "sso-addon", "draft-plan", "new"]
    assert await ids(None) == everything
    assert await ids("ALL") == everything
    assert await ids("DRAFT") == ["draft-plan", "new"]
    assert await ids("PUBLISHED") == ["free", "pro", "enterprise", "extra-calls", "sso-addon"]
    await api.control("POST", "/_kana/packages/free/archive")
    assert await ids("ARCHIVED") == ["free"]


async def test_package_features_show_limits_for_consumables_only(catalog_api: Api) -> None:
    data = await catalog_api.data('{ package(id: "pro") { features { id name type limit } } }')
    assert data["package"]["features"] == [
        {"id": "api-calls", "name": "api-calls", "type": "CONSUMABLE", "limit": 1000},
        {"id": "messages", "name": "messages", "type": "CONSUMABLE", "limit": 100},
        {"id": "seats", "name": "seats", "type": "CONSUMABLE", "limit": None},
        {"id": "dashboard", "name": "dashboard", "type": "BINARY", "limit": None},
    ]


async def test_update_package_changes_only_metadata_whatever_the_status(catalog_api: Api) -> None:
    api = catalog_api
    before = (await api.data('{ package(id: "pro") { updatedAt } }'))["package"]["updatedAt"]
    data = await api.data(
        'mutation { updatePackage(id: "pro", input: {metadata: {tier: 2, tags: ["a"]}}) '
        "{ id status metadata updatedAt features { id limit } } }"
    )
    assert data["updatePackage"]["metadata"] == {"tier": 2, "tags": ["a"]}
    assert data["updatePackage"]["status"] == "PUBLISHED"
    assert data["updatePackage"]["updatedAt"] >= before
    assert (await api.data('{ package(id: "pro") { metadata } }'))["package"]["metadata"] == {
        "tier": 2,
        "tags": ["a"],
    }


async def test_update_feature_changes_only_the_fields_given(catalog_api: Api) -> None:
    api = catalog_api
    await api.data(
        'mutation { updateFeature(id: "api-calls", input: {unitLabel: "Call", metadata: {}}) { id } }'
    )
    data = await api.data(
        'mutation { updateFeature(id: "api-calls", input: {name: "API Calls"}) '
        "{ id name type unitLabel unitLabelPlural metadata } }"
    )
    assert data["updateFeature"] == {
        "id": "api-calls",
        "name": "API Calls",
        "type": "CONSUMABLE",
        "unitLabel": "Call",
        "unitLabelPlural": None,
        "metadata": {},
    }


async def test_a_feature_lists_the_packages_that_hold_it(catalog_api: Api) -> None:
    data = await catalog_api.data('{ feature(id: "sso") { packages { id isAddon status } } }')
    assert data["feature"]["packages"] == [
        {"id": "enterprise", "isAddon": False, "status": "PUBLISHED"},
        {"id": "sso-addon", "isAddon": True, "status": "PUBLISHED"},
    ]


async def test_feature_entitlement_is_null_without_a_live_package(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 7)
    data = await api.data(
        '{ features { id entitlement(userId: "u1") { access reason consumption { used budget overageEnabled } } } }'
    )
    by_id = {f["id"]: f["entitlement"] for f in data["features"]}
    assert by_id["api-calls"]["consumption"] == {"used": 7, "budget": 50, "overageEnabled": False}
    assert by_id["dashboard"]["access"] is True
    assert by_id["dashboard"]["consumption"] is None
    assert by_id["sso"] is None
    assert by_id["seats"] is None


async def test_subscribing_again_to_a_held_package_returns_the_same_subscription(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    first = await api.subscribe("u1", "pro")
    again = await api.subscribe("u1", "pro", "extra-calls")
    assert again[0] == first[0]
    assert len((await api.data('{ subscriptions(userId: "u1") { id } }'))["subscriptions"]) == 2


async def test_a_cancelled_subscription_stays_listed_and_a_new_subscribe_creates_a_new_one(
    catalog_api: Api,
) -> None:
    api = catalog_api
    await api.create_user("u1")
    [first] = await api.subscribe("u1", "free")
    await api.set_status(first["id"], "CANCELLED")
    assert (await api.can_use("u1", "dashboard"))["access"] is False
    [second] = await api.subscribe("u1", "free")
    assert second["id"] != first["id"]
    listed = (await api.data('{ subscriptions(userId: "u1") { id status } }'))["subscriptions"]
    assert listed == [{"id": first["id"], "status": "CANCELLED"}, {"id": second["id"], "status": "ACTIVE"}]


@pytest.mark.parametrize(
    ("status", "access"),
    [
        ("TRIALING", True),
        ("PAST_DUE", False),
        ("UNPAID", False),
        ("INCOMPLETE", False),
        ("INCOMPLETE_EXPIRED", False),
    ],
)
async def test_only_active_and_trialing_grant_access(catalog_api: Api, status: str, access: bool) -> None:
    api = catalog_api
    await api.create_user("u1")
    [sub] = await api.subscribe("u1", "free")
    await api.set_status(sub["id"], status)
    assert (await api.can_use("u1", "dashboard"))["access"] is access


async def test_switching_plans_by_cancelling_the_base(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    [free] = await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 40)
    await api.set_status(free["id"], "CANCELLED")
    await api.subscribe("u1", "pro")
    assert (await api.can_use("u1", "api-calls"))["consumption"] == {
        "used": 0,
        "budget": 1000,
        "overageEnabled": False,
    }


async def test_an_add_on_stops_granting_when_the_base_is_cancelled(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    base, _ = await api.subscribe("u1", "free", "sso-addon")
    assert (await api.can_use("u1", "sso"))["access"] is True
    await api.set_status(base["id"], "CANCELLED")
    assert (await api.can_use("u1", "sso"))["access"] is False


async def test_renaming_a_user_keeps_its_subscriptions_and_usage(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("old", name="Ann", email="ann@example.com", billingId="cus_1")
    await api.subscribe("old", "free")
    await api.record("old", "api-calls", 9)
    data = await api.data(
        'mutation { updateUser(id: "old", input: {id: "new", name: "Ann B."}) { id name email billingId } }'
    )
    assert data["updateUser"] == {
        "id": "new",
        "name": "Ann B.",
        "email": "ann@example.com",
        "billingId": "cus_1",
    }
    assert await api.used("new", "api-calls") == 9
    assert [s["userId"] for s in (await api.data("{ subscriptions { userId } }"))["subscriptions"]] == ["new"]
    assert (await api.error('{ user(id: "old") { id } }'))["extensions"]["exception"][
        "name"
    ] == "UserNotFoundError"


async def test_users_listing_and_filter(api: Api) -> None:
    for user_id in ("b", "a", "c"):
        await api.create_user(user_id)
    assert [u["id"] for u in (await api.data("{ users { id } }"))["users"]] == ["b", "a", "c"]
    assert (await api.data('{ users(id: "a") { id } }'))["users"] == [{"id": "a"}]
    assert (await api.data('{ users(id: "zzz") { id } }'))["users"] == []


async def test_show_usage_for_a_binary_feature_has_no_periods(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    data = await api.data(
        '{ showUsage(userId: "u1", featureId: "dashboard") { current { periodStart } past { periodStart } } }'
    )
    assert data == {"showUsage": {"current": None, "past": []}}


async def test_generate_user_token_is_a_signed_jwt_bound_to_project_and_user(catalog_api: Api) -> None:
    import jwt

    await catalog_api.create_user("u1")
    token = (await catalog_api.data('mutation { generateUserToken(userId: "u1") { token } }'))[
        "generateUserToken"
    ]["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["userId"] == "u1"
    assert claims["aud"] == "kana-client"
    assert claims["iss"] == "usekana.com"
    assert claims["exp"] - claims["iat"] == 30 * 24 * 3600


async def test_unicode_ids_round_trip(api: Api) -> None:
    await api.create_feature("機能-🚀", "BINARY")
    await api.create_user("ユーザー")
    assert (await api.data('{ feature(id: "機能-🚀") { id name } }'))["feature"] == {
        "id": "機能-🚀",
        "name": "機能-🚀",
    }
    assert (await api.data('{ user(id: "ユーザー") { id } }'))["user"] == {"id": "ユーザー"}
