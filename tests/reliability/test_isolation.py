"""Isolation: with project B's key, no Admin API query or mutation and no control-plane or CLI route
reads or changes project A's data, even when it names A's ids. Every root field and every route of the
app is listed here; a new one fails the enumeration tests until it is covered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from kana_server.app import create_app
from kana_server.settings import Settings
from tests.kana import Api
from tests.reliability.checks import MUTATIONS, load_project, root_fields, state

NOT_FOUND = "NOT_FOUND"
QUERIES: dict[str, list[tuple[str, Any]]] = {
    # field: [(query, B's answer: its data, or the error code it gets)]
    "feature": [('{ feature(id: "api-calls") { id } }', NOT_FOUND)],
    "features": [("{ features { id } }", {"features": []})],
    "package": [('{ package(id: "starter") { id } }', NOT_FOUND)],
    "packages": [("{ packages { id } }", {"packages": []})],
    "user": [('{ user(id: "alice") { id } }', NOT_FOUND)],
    "users": [("{ users { id } }", {"users": []}), ('{ users(id: "alice") { id } }', {"users": []})],
    "subscription": [('{ subscription(id: "1") { id } }', NOT_FOUND)],
    "subscriptions": [
        ("{ subscriptions { id } }", {"subscriptions": []}),
        ('{ subscriptions(userId: "alice") { id } }', NOT_FOUND),
    ],
    "canUseFeature": [('{ canUseFeature(userId: "alice", featureId: "api-calls") { access } }', NOT_FOUND)],
    "showUsage": [
        ('{ showUsage(userId: "alice", featureId: "api-calls") { current { periodStart } } }', NOT_FOUND)
    ],
}


@pytest.fixture
async def a(api: Api) -> Api:
    """Project A: the reliability fixture, usage, a snapshot and a subscription link."""
    await load_project(api)
    await api.record("alice", "api-calls", 5)
    assert (await api.control("POST", "/_kana/snapshots/a-only")).status_code == 200
    query, variables = MUTATIONS["generateSubscriptionLink"]
    await api.data(query, variables)
    return api


@pytest.fixture
def b(new_api: Callable[[], Api]) -> Api:
    """Project B: empty, its own key."""
    return new_api()


def test_every_query_is_covered() -> None:
    assert root_fields("query") == set(QUERIES)


@pytest.mark.parametrize("field", sorted(QUERIES))
async def test_b_cannot_read_a_through_any_query(a: Api, b: Api, field: str) -> None:
    for query, expected in QUERIES[field]:
        assert (await a.gql(query)).get("errors") is None, query  # A reads its own data
        body = await b.gql(query)
        if expected == NOT_FOUND:
            assert [e["extensions"]["code"] for e in body["errors"]] == [NOT_FOUND], body
        else:
            assert body == {"data": expected}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_b_cannot_change_a_through_any_mutation(a: Api, b: Api, name: str) -> None:
    before = await state(a)
    query, variables = MUTATIONS[name]
    await b.gql(query, variables)  # whatever B gets, it acts on B's own (empty) project
    assert await state(a) == before
    if name not in ("createFeature", "createUser", "createPackage"):
        # nothing of A's exists in B, so acting on A's ids fails
        assert (await b.gql(query, variables)).get("errors"), name


async def test_the_client_api_does_not_reach_another_projects_users(a: Api, b: Api) -> None:
    query = "{ currentUser { id } }"
    response = await b.http.post(
        "/client/graphql",
        json={"query": query},
        headers={"Authorization": b.public_key, "X-User-ID": "alice"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    token = (await a.data('mutation { generateUserToken(userId: "alice") { token } }'))["generateUserToken"]
    response = await a.http.post(
        "/graphql", json={"query": "{ users { id } }"}, headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


RouteCheck = Callable[[Api, Api], Awaitable[None]]


async def _call(b: Api, method: str, path: str, json: Any = None) -> httpx.Response:
    return await b.control(method, path, json)


def expect(method: str, path: str, status: int, json: Any = None) -> RouteCheck:
    """B calls the route (on A's ids); it answers `status` and shows nothing of A."""

    async def check(a: Api, b: Api) -> None:
        response = await _call(b, method, path, json)
        assert response.status_code == status, (method, path, response.text)
        for secret in ("alice@example.com", "Alice", '"a-only"', "cs_test_", a.key):
            assert secret not in response.text, (method, path, secret)

    return check


def cli(method: str, path: str) -> RouteCheck:
    async def check(a: Api, b: Api) -> None:
        body = {"version": "1.0.0", "features": [{"id": "api-calls", "name": "B's", "type": "BINARY"}]}
        response = await b.http.request(
            method, path, json=body if method == "POST" else None, headers={"Authorization": b.key}
        )
        assert response.status_code == 200, response.text
        assert "Alice" not in response.text
        assert "starter" not in response.text

    return check


async def graphql_route(a: Api, b: Api) -> None:
    assert (await b.gql("{ users { id } }")) == {"data": {"users": []}}


async def client_route(a: Api, b: Api) -> None:
    response = await b.http.post(
        "/client/graphql",
        json={"query": "{ currentUser { id } }"},
        headers={"Authorization": b.public_key, "X-User-ID": "alice"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def checkout_page(a: Api, b: Api) -> None:
    # D70: a checkout session's id is its only secret (40 random characters); no key is asked for.
    for method, suffix in (("GET", ""), ("POST", ""), ("POST", "/pay"), ("POST", "/cancel")):
        response = await b.http.request(method, "/_kana/checkout/cs_test_" + "x" * 40 + suffix)
        assert response.status_code == 404, (method, suffix)


async def no_project_data(a: Api, b: Api) -> None:
    """Routes that hold no project data (health, readiness, the inspector's page, the redirect)."""


ROUTES: dict[tuple[str, str], RouteCheck] = {
    ("GET", "/"): no_project_data,
    ("GET", "/_kana/health"): no_project_data,
    ("GET", "/_kana/ready"): no_project_data,
    ("GET", "/_kana/ui"): no_project_data,
    ("GET", "/_kana/static/{path}"): no_project_data,
    ("GET", "/graphql"): graphql_route,
    ("POST", "/graphql"): graphql_route,
    ("GET", "/client/graphql"): client_route,
    ("POST", "/client/graphql"): client_route,
    ("GET", "/_kana/clock"): expect("GET", "/_kana/clock", 200),
    ("POST", "/_kana/clock"): expect("POST", "/_kana/clock", 200, {"advance": "P1D"}),
    ("POST", "/_kana/seed"): expect(
        "POST", "/_kana/seed", 200, {"version": "1.0.0", "users": [{"id": "bee"}]}
    ),
    ("POST", "/_kana/subscriptions/{subscription_id}/status"): expect(
        "POST", "/_kana/subscriptions/1/status", 404, {"status": "CANCELLED"}
    ),
    ("POST", "/_kana/packages/{package_id}/publish"): expect(
        "POST", "/_kana/packages/draft-plan/publish", 404
    ),
    ("POST", "/_kana/packages/{package_id}/archive"): expect("POST", "/_kana/packages/starter/archive", 404),
    ("POST", "/_kana/reset"): expect("POST", "/_kana/reset", 200, {}),
    ("GET", "/_kana/state"): expect("GET", "/_kana/state", 200),
    ("PUT", "/_kana/state"): expect(
        "PUT", "/_kana/state", 200, {"version": "1.0.0", "users": [{"id": "bee"}]}
    ),
    ("GET", "/_kana/snapshots"): expect("GET", "/_kana/snapshots", 200),
    ("POST", "/_kana/snapshots/{name}"): expect("POST", "/_kana/snapshots/b-own", 200),
    ("DELETE", "/_kana/snapshots/{name}"): expect("DELETE", "/_kana/snapshots/a-only", 404),
    ("POST", "/_kana/snapshots/{name}/restore"): expect("POST", "/_kana/snapshots/a-only/restore", 404),
    ("GET", "/_kana/requests"): expect("GET", "/_kana/requests?user=alice", 200),
    ("GET", "/_kana/requests/count"): expect("GET", "/_kana/requests/count", 200),
    ("GET", "/_kana/inspector/overview"): expect("GET", "/_kana/inspector/overview", 200),
    ("GET", "/_kana/inspector/user"): expect("GET", "/_kana/inspector/user?id=alice", 404),
    ("GET", "/_kana/inspector/usage"): expect(
        "GET", "/_kana/inspector/usage?user=alice&feature=api-calls", 404
    ),
    ("GET", "/cli/pull"): cli("GET", "/cli/pull"),
    ("POST", "/cli/validate"): cli("POST", "/cli/validate"),
    ("POST", "/cli/publish"): cli("POST", "/cli/publish"),
    ("GET", "/_kana/checkout/{session_id}"): checkout_page,
    ("POST", "/_kana/checkout/{session_id}"): checkout_page,
    ("POST", "/_kana/checkout/{session_id}/pay"): checkout_page,
    ("POST", "/_kana/checkout/{session_id}/cancel"): checkout_page,
}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the app serves (GraphQL endpoints: GET and POST)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                app = route.app
                while not hasattr(app, "routes") and hasattr(app, "app"):
                    app = app.app  # middleware around a router
                if hasattr(app, "routes"):
                    walk(list(app.routes), prefix + route.path)
                else:  # static files
                    found.add(("GET", prefix + route.path + "/{path}"))
            elif isinstance(route, Route):
                methods = route.methods - {"HEAD"} if route.methods else {"GET", "POST"}
                found.update((m, prefix + route.path) for m in methods)

    walk(list(create_app(Settings()).routes), "")
    return found


def test_every_route_is_covered() -> None:
    assert app_routes() == set(ROUTES)


async def test_b_cannot_read_or_change_a_through_any_route(a: Api, b: Api) -> None:
    before = await state(a)
    snapshots = (await a.control("GET", "/_kana/snapshots")).json()
    requests = await a.request_count()
    for check in ROUTES.values():
        await check(a, b)
    assert await state(a) == before
    assert (await a.control("GET", "/_kana/snapshots")).json() == snapshots
    assert await a.request_count() == requests
