"""The Client (frontend) API over HTTP: currentUser as the SDK asks for it, in both auth modes."""

from __future__ import annotations

import httpx
import pytest

from tests.client_calls import (
    CLIENT_PATH,
    client_post,
    current_user,
    secure_mode,
    simple_mode,
    user_token,
)
from tests.kana import Api

MAX_INT = 2_147_483_647


def feature(feature_id: str, type: str, access: bool, budget: int | None = None, used: int = 0):
    """A feature as currentUser lists it (`budget` None: a binary feature, no consumption)."""
    consumption = None if budget is None else {"budget": budget, "used": used}
    return {
        "id": feature_id,
        "name": feature_id,
        "type": type,
        "entitlement": {"access": access, "consumption": consumption},
    }


async def test_simple_mode_lists_live_packages_with_their_entitlements(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("alice", name="Alice", email="alice@example.com")
    await api.subscribe("alice", "pro", "extra-calls")
    await api.record("alice", "api-calls", 7)
    await api.record("alice", "messages", 150)
    user = await current_user(api.http, simple_mode(api.public_key, "alice"))
    calls = feature("api-calls", "CONSUMABLE", True, 5000, 7)  # the add-on's 5000 wins over pro's 1000
    assert user == {
        "id": "alice",
        "name": "Alice",
        "email": "alice@example.com",
        "subscribedPackages": [
            {
                "id": "pro",
                "name": "pro",
                "isAddon": False,
                "features": [
                    calls,
                    feature("messages", "CONSUMABLE", True, 100, 150),  # past the budget, overage on
                    feature("seats", "CONSUMABLE", True, MAX_INT, 0),  # unlimited
                    feature("dashboard", "BINARY", True),
                ],
            },
            {"id": "extra-calls", "name": "extra-calls", "isAddon": True, "features": [calls]},
        ],
    }


async def test_secure_mode_answers_as_simple_mode(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("bob")
    await api.subscribe("bob", "free")
    await api.record("bob", "api-calls", 50)
    token = await user_token(api, "bob")
    by_token = await current_user(api.http, secure_mode(token))
    assert by_token == await current_user(api.http, simple_mode(api.public_key, "bob"))
    assert by_token["subscribedPackages"][0]["features"][0] == feature(
        "api-calls", "CONSUMABLE", False, 50, 50
    )


async def test_a_token_without_bearer_is_accepted(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("bob")
    token = await user_token(api, "bob")
    user = await current_user(api.http, {"Authorization": token})
    assert user == {"id": "bob", "name": None, "email": None, "subscribedPackages": []}


async def test_every_copy_of_a_feature_shows_the_winning_entitlement(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "enterprise")
    await api.subscribe("u1", "extra-calls")
    packages = (await current_user(api.http, simple_mode(api.public_key, "u1")))["subscribedPackages"]
    unlimited = feature("api-calls", "CONSUMABLE", True, MAX_INT, 0)  # enterprise: unlimited beats 5000
    assert [p["id"] for p in packages] == ["enterprise", "extra-calls"]
    assert packages[0]["features"] == [unlimited, feature("sso", "BINARY", True)]
    assert packages[1]["features"] == [unlimited]


async def test_entitlements_match_the_admin_api(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free", "sso-addon")
    await api.record("u1", "api-calls", 12)
    await api.record("u1", "messages", 10)
    packages = (await current_user(api.http, simple_mode(api.public_key, "u1")))["subscribedPackages"]
    for package in packages:
        for listed in package["features"]:
            admin = await api.can_use("u1", listed["id"])
            consumption = admin["consumption"]
            assert listed["entitlement"] == {
                "access": admin["access"],
                "consumption": None
                if consumption is None
                else {"budget": consumption["budget"], "used": consumption["used"]},
            }


async def test_cancelled_subscriptions_are_not_listed(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    [free] = await api.subscribe("u1", "free")
    await api.set_status(free["id"], "CANCELLED")
    await api.subscribe("u1", "pro")
    packages = (await current_user(api.http, simple_mode(api.public_key, "u1")))["subscribedPackages"]
    assert [p["id"] for p in packages] == ["pro"]


async def test_an_add_on_without_a_live_base_is_listed_without_access(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    base, _ = await api.subscribe("u1", "free", "sso-addon")
    await api.set_status(base["id"], "CANCELLED")
    packages = (await current_user(api.http, simple_mode(api.public_key, "u1")))["subscribedPackages"]
    assert packages == [
        {
            "id": "sso-addon",
            "name": "sso-addon",
            "isAddon": True,
            "features": [feature("sso", "BINARY", False)],
        }
    ]


async def test_trialing_subscriptions_are_listed(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    [free] = await api.subscribe("u1", "free")
    await api.set_status(free["id"], "TRIALING")
    packages = (await current_user(api.http, simple_mode(api.public_key, "u1")))["subscribedPackages"]
    assert [p["id"] for p in packages] == ["free"]


async def test_usage_resets_with_the_period(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "messages", 10)
    headers = simple_mode(api.public_key, "u1")
    messages = (await current_user(api.http, headers))["subscribedPackages"][0]["features"][1]
    assert messages == feature("messages", "CONSUMABLE", False, 10, 10)
    await api.set_clock(advance="P1D")
    messages = (await current_user(api.http, headers))["subscribedPackages"][0]["features"][1]
    assert messages == feature("messages", "CONSUMABLE", True, 10, 0)


async def test_other_api_versions_are_accepted(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    for version in ("0.1", "0.2"):
        headers = {**simple_mode(api.public_key, "u1"), "X-API-Version": version}
        assert (await current_user(api.http, headers))["id"] == "u1"
    headers = simple_mode(api.public_key, "u1")
    del headers["X-API-Version"]
    assert (await current_user(api.http, headers))["id"] == "u1"


async def test_queries_via_get_are_served(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1", name="One")
    response = await api.http.get(
        CLIENT_PATH,
        params={"query": "{ currentUser { id name } }"},
        headers=simple_mode(api.public_key, "u1"),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"currentUser": {"id": "u1", "name": "One"}}}


async def test_graphiql_is_served_to_browsers(http: httpx.AsyncClient) -> None:
    response = await http.get(CLIENT_PATH, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "query CurrentUser" in response.text


async def test_admin_fields_are_not_in_the_client_schema(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    body = await client_post(api.http, simple_mode(api.public_key, "u1"), "{ features { id } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert "features" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_mutations_are_refused_cleanly(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    body = await client_post(
        api.http, simple_mode(api.public_key, "u1"), 'mutation { createUser(input: {id: "x"}) { id } }'
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await api.data('{ users(id: "x") { id } }') == {"users": []}


@pytest.mark.parametrize("body", ["{", '{"query": 1}', "[]"])
async def test_requests_that_are_not_graphql_get_400(http: httpx.AsyncClient, body: str) -> None:
    response = await http.post(CLIENT_PATH, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_introspection_needs_no_key(http: httpx.AsyncClient) -> None:
    body = await client_post(http, {}, "{ __schema { queryType { name } } }")
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
