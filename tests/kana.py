"""A small client for kana-server in tests: GraphQL calls for one project, factories, control routes."""

from __future__ import annotations

import secrets
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
ALPHANUMERIC = string.ascii_lowercase + string.digits


def random_key(environment: str = "test") -> str:
    """A fresh well-formed private key: kana-server gives it an empty project of its own."""
    return f"prv_{environment}_" + "".join(secrets.choice(ALPHANUMERIC) for _ in range(32))


def fixture(name: str) -> dict[str, Any]:
    """A YAML fixture from tests/fixtures."""
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


class GraphQLFailed(AssertionError):
    """A call that was expected to succeed returned errors."""


class Api:
    """GraphQL and control-plane calls for one project (one private key)."""

    def __init__(self, http: httpx.AsyncClient, key: str | None = None) -> None:
        self.http = http
        self.key = key or random_key()

    @property
    def public_key(self) -> str:
        """The project's public key."""
        return "pub_" + self.key.removeprefix("prv_")

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST /graphql with this project's key (unless headers override it)."""
        return await self.http.post(
            "/graphql", json=body, headers={"Authorization": self.key, **(headers or {})}
        )

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """The whole GraphQL response (HTTP 200 expected)."""
        response = await self.post({"query": query, "variables": variables or {}}, **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        assert isinstance(body, dict)
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a call that must succeed."""
        body = await self.gql(query, variables)
        if body.get("errors"):
            raise GraphQLFailed(body["errors"])
        data = body["data"]
        assert isinstance(data, dict)
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single error of a call that must fail."""
        body = await self.gql(query, variables)
        errors = body.get("errors")
        assert errors, body
        assert len(errors) == 1, body
        error = errors[0]
        assert isinstance(error, dict)
        return error

    async def control(self, method: str, path: str, json: Any = None) -> httpx.Response:
        """A control-plane call (`/_kana/...`) for this project."""
        return await self.http.request(method, path, json=json, headers={"Authorization": self.key})

    # factories -------------------------------------------------------------------------------------

    async def create_feature(self, feature_id: str, type: str = "CONSUMABLE", **extra: Any) -> dict[str, Any]:
        """Create a feature."""
        data = await self.data(
            "mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id name type } }",
            {"input": {"id": feature_id, "type": type, **extra}},
        )
        return dict(data["createFeature"])

    async def create_package(
        self, package_id: str, features: list[dict[str, Any]], *, is_addon: bool = False, publish: bool = True
    ) -> None:
        """Create a package (published unless told otherwise) from `[{id, limit?, reset?, overage?}]`."""
        entries = []
        for f in features:
            entry: dict[str, Any] = {"id": f["id"]}
            if "reset" in f or "limit" in f or "overage" in f:
                entitlement: dict[str, Any] = {"resetPeriod": f.get("reset", "MONTH")}
                if f.get("limit") is not None:
                    entitlement["limit"] = f["limit"]
                if f.get("overage"):
                    entitlement["overageEnabled"] = True
                entry["entitlement"] = entitlement
            entries.append(entry)
        await self.data(
            "mutation($input: CreatePackageInput!) { createPackage(input: $input) { id status } }",
            {"input": {"id": package_id, "isAddon": is_addon, "features": entries}},
        )
        if publish:
            await self.publish(package_id)

    async def publish(self, package_id: str) -> None:
        """Publish a package through the control plane."""
        response = await self.control("POST", f"/_kana/packages/{package_id}/publish")
        assert response.status_code == 200, response.text

    async def load(self, name: str) -> dict[str, Any]:
        """Create a fixture's features and packages (tests/fixtures/NAME) through the API."""
        catalog = fixture(name)
        for feature in catalog.get("features", []):
            await self.create_feature(feature["id"], feature["type"])
        for package in catalog.get("packages", []):
            await self.create_package(
                package["id"],
                package["features"],
                is_addon=package.get("addon", False),
                publish=package.get("publish", True),
            )
        return catalog

    async def seed(self, name: str) -> dict[str, Any]:
        """Apply a seed fixture (tests/fixtures/NAME, any seed section) through `/_kana/seed`."""
        response = await self.http.post(
            "/_kana/seed",
            content=(FIXTURES / name).read_text(encoding="utf-8"),
            headers={"Authorization": self.key, "Content-Type": "application/yaml"},
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert isinstance(result, dict)
        return result

    async def create_user(self, user_id: str, **extra: Any) -> None:
        """Create a user."""
        await self.data(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            {"input": {"id": user_id, **extra}},
        )

    async def subscribe(self, user_id: str, *package_ids: str) -> list[dict[str, Any]]:
        """Subscribe a user; returns the subscriptions."""
        data = await self.data(
            "mutation($u: String!, $p: [String!]!) { subscribe(userId: $u, packageIds: $p) "
            "{ id userId status package { id } } }",
            {"u": user_id, "p": list(package_ids)},
        )
        return list(data["subscribe"])

    async def record(
        self, user_id: str, feature_id: str, delta: int = 1, action: str = "ADD"
    ) -> dict[str, Any]:
        """recordUsage; returns `{recorded, reason}`."""
        data = await self.data(
            "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }",
            {"input": {"userId": user_id, "featureId": feature_id, "delta": delta, "action": action}},
        )
        return dict(data["recordUsage"])

    async def can_use(self, user_id: str, feature_id: str, delta: int = 1) -> dict[str, Any]:
        """canUseFeature; returns `{access, reason, consumption}`."""
        data = await self.data(
            "query($u: String!, $f: String!, $d: Int) { canUseFeature(userId: $u, featureId: $f, delta: $d) "
            "{ access reason consumption { used budget overageEnabled } } }",
            {"u": user_id, "f": feature_id, "d": delta},
        )
        return dict(data["canUseFeature"])

    async def used(self, user_id: str, feature_id: str) -> int | None:
        """The current period's usage (None when not entitled)."""
        consumption = (await self.can_use(user_id, feature_id))["consumption"]
        return None if consumption is None else int(consumption["used"])

    async def set_clock(self, **body: Any) -> dict[str, Any]:
        """POST /_kana/clock."""
        response = await self.control("POST", "/_kana/clock", json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert isinstance(result, dict)
        return result

    async def set_status(self, subscription_id: str, status: str) -> None:
        """Change a subscription's status through the control plane."""
        response = await self.control(
            "POST", f"/_kana/subscriptions/{subscription_id}/status", {"status": status}
        )
        assert response.status_code == 200, response.text

    # request ledger ---------------------------------------------------------------------------------

    async def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """GET /_kana/requests: this project's kept GraphQL requests, newest first."""
        query = urlencode({k: v for k, v in filters.items() if v is not None})
        response = await self.control("GET", "/_kana/requests" + (f"?{query}" if query else ""))
        assert response.status_code == 200, response.text
        return list(response.json()["requests"])

    async def request_count(self, **filters: Any) -> int:
        """GET /_kana/requests/count."""
        query = urlencode({k: v for k, v in filters.items() if v is not None})
        response = await self.control("GET", "/_kana/requests/count" + (f"?{query}" if query else ""))
        assert response.status_code == 200, response.text
        return int(response.json()["count"])
