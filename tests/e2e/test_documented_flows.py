"""Kana's documented flows end to end: a real `kana-server serve` process, real HTTP, a SQLite file."""

from __future__ import annotations

import httpx
import pytest

from tests.kana import Api, random_key

pytestmark = pytest.mark.e2e
DEFAULT_KEY = "prv_test_kana_server_local"
REASON_OK = (
    "The user has a subcription to a package with this consumable feature and either has an allowance "
    "remaining or overage is enabled."
)


async def test_the_seed_publishes_packages_into_the_default_project(server: httpx.AsyncClient) -> None:
    api = Api(server, DEFAULT_KEY)
    data = await api.data(
        '{ all: packages { id status isAddon } published: packages(status: "PUBLISHED") { id } draft: packages(status: "DRAFT") { id } users { id name } }'
    )
    assert data == {
        "all": [
            {"id": "beta", "status": "DRAFT", "isAddon": False},
            {"id": "basic", "status": "PUBLISHED", "isAddon": False},
            {"id": "boost", "status": "PUBLISHED", "isAddon": True},
        ],
        "published": [{"id": "basic"}, {"id": "boost"}],
        "draft": [{"id": "beta"}],
        "users": [{"id": "seeded", "name": "Seeded User"}],
    }


async def test_the_whole_documented_flow(server: httpx.AsyncClient) -> None:
    api = Api(server, random_key())
    # Create features, packages (published through the control plane) and users through the API.
    await api.create_feature(
        "api-calls", "CONSUMABLE", name="API Calls", unitLabel="API Call", unitLabelPlural="API Calls"
    )
    await api.create_feature("storage", "CONSUMABLE")
    await api.create_feature("reports", "BINARY")
    await api.create_package(
        "starter",
        [
            {"id": "api-calls", "limit": 50, "reset": "MONTH"},
            {"id": "reports"},
            {"id": "storage", "limit": 5, "reset": "MONTH", "overage": True},
        ],
    )
    await api.create_package("scale", [{"id": "api-calls", "reset": "MONTH"}])  # unlimited
    await api.create_package(
        "more-calls", [{"id": "api-calls", "limit": 500, "reset": "MONTH"}], is_addon=True
    )
    await api.create_package("someday", [{"id": "reports"}], publish=False)
    for user_id in ("ann", "ben", "cat"):
        await api.create_user(user_id, name=user_id.title())

    # Not subscribed yet.
    assert await api.can_use("ann", "api-calls") == {
        "access": False,
        "reason": "The user does not have a subscription to a package with this feature.",
        "consumption": None,
    }
    assert await api.subscribe("ann", "starter") == [
        {"id": "1", "userId": "ann", "status": "ACTIVE", "package": {"id": "starter"}}
    ]

    # Binary and consumable with allowance.
    assert (await api.can_use("ann", "reports"))["access"] is True
    assert await api.can_use("ann", "api-calls") == {
        "access": True,
        "reason": REASON_OK,
        "consumption": {"used": 0, "budget": 50, "overageEnabled": False},
    }
    # recordUsage: positive, negative, SET.
    assert await api.record("ann", "api-calls", 30) == {"recorded": True, "reason": None}
    assert await api.record("ann", "api-calls", -5) == {"recorded": True, "reason": None}
    assert await api.used("ann", "api-calls") == 25
    assert await api.record("ann", "api-calls", 50, "SET") == {"recorded": True, "reason": None}
    # Without allowance, then with overage on another feature.
    exhausted = await api.can_use("ann", "api-calls")
    assert exhausted["access"] is False
    assert exhausted["consumption"] == {"used": 50, "budget": 50, "overageEnabled": False}
    await api.record("ann", "storage", 9)
    assert (await api.can_use("ann", "storage"))["access"] is True
    # Highest limit across two packages: the add-on's 500 wins over 50 (limits are not added).
    await api.subscribe("ann", "more-calls")
    assert (await api.can_use("ann", "api-calls"))["consumption"] == {
        "used": 0,
        "budget": 500,
        "overageEnabled": False,
    }
    # Unlimited.
    await api.subscribe("ben", "scale")
    await api.record("ben", "api-calls", 1_000_000)
    assert await api.can_use("ben", "api-calls", 10**9) == {
        "access": True,
        "reason": REASON_OK,
        "consumption": {"used": 1_000_000, "budget": None, "overageEnabled": False},
    }
    # showUsage and Feature.entitlement.
    usage = await api.data(
        '{ showUsage(userId: "ben", featureId: "api-calls") { current { consumption { used budget } } past { periodStart } } }'
    )
    assert usage == {
        "showUsage": {"current": {"consumption": {"used": 1_000_000, "budget": None}}, "past": []}
    }
    entitlements = await api.data(
        '{ features { id entitlement(userId: "ann") { access consumption { used budget } } } }'
    )
    assert entitlements == {
        "features": [
            {"id": "api-calls", "entitlement": {"access": True, "consumption": {"used": 0, "budget": 500}}},
            {"id": "storage", "entitlement": {"access": True, "consumption": {"used": 9, "budget": 5}}},
            {"id": "reports", "entitlement": {"access": True, "consumption": None}},
        ]
    }
    # Listings.
    assert [u["id"] for u in (await api.data("{ users { id } }"))["users"]] == ["ann", "ben", "cat"]
    assert [p["id"] for p in (await api.data('{ packages(status: "PUBLISHED") { id } }'))["packages"]] == [
        "starter",
        "scale",
        "more-calls",
    ]
    assert [p["id"] for p in (await api.data('{ packages(status: "DRAFT") { id } }'))["packages"]] == [
        "someday"
    ]
    subs = (await api.data("{ subscriptions { id userId package { id } } }"))["subscriptions"]
    assert [(s["id"], s["userId"], s["package"]["id"]) for s in subs] == [
        ("1", "ann", "starter"),
        ("2", "ann", "more-calls"),
        ("3", "ben", "scale"),
    ]
