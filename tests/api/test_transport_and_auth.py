"""HTTP transport, authentication and project isolation of the Admin API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from kana_server.settings import Settings
from tests.kana import Api, random_key
from tests.servers import serving

FEATURES = "{ features { id } }"


async def unauthenticated(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await http.post("/graphql", json={"query": FEATURES}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith("Unauthenticated")
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["exception"]["name"] == "AuthenticationError"
    return dict(error)


async def test_a_missing_key_is_unauthenticated(http: httpx.AsyncClient) -> None:
    error = await unauthenticated(http, {})
    assert "no API key" in str(error["message"])


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "Bearer",
        "Bearer prv_test_short",
        "prv_test_" + "x" * 31 + "!",
        "Basic dXNlcjpwYXNz",
        "prv_prod_" + "a" * 32,
    ],
)
async def test_a_malformed_key_is_unauthenticated(http: httpx.AsyncClient, header: str) -> None:
    await unauthenticated(http, {"Authorization": header})


async def test_a_public_key_is_refused_on_the_admin_api(http: httpx.AsyncClient) -> None:
    error = await unauthenticated(http, {"Authorization": "pub_test_kana_server_local"})
    assert "public key" in str(error["message"])


async def test_bearer_prefix_is_optional(api: Api) -> None:
    await api.create_feature("f", "BINARY")
    for header in (api.key, f"Bearer {api.key}", f"bearer {api.key}"):
        response = await api.http.post(
            "/graphql", json={"query": FEATURES}, headers={"Authorization": header}
        )
        assert response.json() == {"data": {"features": [{"id": "f"}]}}


async def test_the_default_project_keys_work(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": FEATURES}, headers={"Authorization": "prv_test_kana_server_local"}
    )
    assert "errors" not in response.json()


async def test_two_projects_never_see_each_others_data(api: Api, new_api: Callable[[], Api]) -> None:
    other: Api = new_api()
    await api.load("catalog.yaml")
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 3)
    assert await other.data("{ features { id } packages { id } users { id } subscriptions { id } }") == {
        "features": [],
        "packages": [],
        "users": [],
        "subscriptions": [],
    }
    error = await other.error('{ canUseFeature(userId: "u1", featureId: "api-calls") { access } }')
    assert error["extensions"]["exception"]["name"] == "UserNotFoundError"
    error = await other.error('{ subscription(id: "1") { id } }')
    assert error["extensions"]["exception"]["name"] == "SubscriptionNotFoundError"
    # The same ids may be used in both projects without clashing.
    await other.create_feature("api-calls", "BINARY")
    await other.create_user("u1")
    assert (await api.data('{ feature(id: "api-calls") { type } }'))["feature"]["type"] == "CONSUMABLE"
    assert await api.used("u1", "api-calls") == 3


async def test_introspection_needs_no_key(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    response = await http.post("/graphql", json={"query": "{ __typename features { id } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_browser_gets_graphiql_with_the_local_key(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "graphiql" in response.text.lower()
    assert "prv_test_kana_server_local" in response.text
    assert "query Features" in response.text


async def test_get_serves_queries_but_not_mutations(api: Api) -> None:
    await api.create_feature("f", "BINARY")
    response = await api.http.get("/graphql", params={"query": FEATURES}, headers={"Authorization": api.key})
    assert response.json() == {"data": {"features": [{"id": "f"}]}}
    mutation = 'mutation { createUser(input: {id: "x"}) { id } }'
    response = await api.http.get("/graphql", params={"query": mutation}, headers={"Authorization": api.key})
    assert response.status_code == 405
    assert (await api.data("{ users { id } }"))["users"] == []


async def test_variables_may_be_a_json_string(api: Api) -> None:
    await api.create_user("124")
    response = await api.post(
        {"query": "query($id: String!) { user(id: $id) { id } }", "variables": '{"id": "124"}'}
    )
    assert response.json() == {"data": {"user": {"id": "124"}}}
    response = await api.post(
        {"query": "query($id: String!) { user(id: $id) { id } }", "variables": "{not json"}
    )
    assert response.status_code == 400


async def test_health(http: httpx.AsyncClient) -> None:
    response = await http.get("/_kana/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_strict_keys_refuse_unknown_keys(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'strict.db'}", strict_keys=True, port=0
    )
    async with serving(settings) as http:
        await unauthenticated(http, {"Authorization": random_key()})
        response = await http.post(
            "/graphql", json={"query": FEATURES}, headers={"Authorization": "prv_test_kana_server_local"}
        )
        assert response.json() == {"data": {"features": []}}


async def test_a_configured_key_replaces_the_default_one(tmp_path: Path) -> None:
    key = "prv_live_" + "k" * 32
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'key.db'}", api_key=key, strict_keys=True, port=0
    )
    async with serving(settings) as http:
        await unauthenticated(http, {"Authorization": "prv_test_kana_server_local"})
        response = await http.post("/graphql", json={"query": FEATURES}, headers={"Authorization": key})
        assert response.json() == {"data": {"features": []}}
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert key not in page.text  # a configured key is never shown in GraphiQL
