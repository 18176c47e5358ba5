"""A tiny Flask app whose reports are a paid feature: Kana decides who may create one and counts them.

- `POST /signup` `{"id": "alice"}`: creates the user in Kana and puts them on the free plan.
- `POST /reports` (header `X-User-ID`): asks Kana's canUseFeature first; 402 with Kana's reason when the
  allowance is used up, else creates the report and records one unit of usage.
- `POST /upgrade` (header `X-User-ID`): a subscription link that sells more reports.

It talks to Kana's Admin API over plain HTTP; in tests `KANA_GRAPHQL_URL` points at kana-server.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from flask import Flask, request

FEATURE = "reports"
FREE_PLAN = "free"
UPGRADE_TEMPLATE = "more-reports-monthly"


class KanaError(Exception):
    """Kana answered a call with an error (`name` is the SDK's error name, e.g. UserNotFoundError)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class KanaClient:
    """The calls this app makes to Kana's Admin API."""

    def __init__(self, url: str, private_key: str) -> None:
        self.http = httpx.Client(headers={"Authorization": private_key}, timeout=10)
        self.url = url

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL call; its data, or KanaError."""
        response = self.http.post(self.url, json={"query": query, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            name = error.get("extensions", {}).get("exception", {}).get("name", "KanaError")
            raise KanaError(name, error["message"])
        data: dict[str, Any] = body["data"]
        return data

    def sign_up(self, user_id: str, email: str | None) -> None:
        """Create the user and subscribe them to the free plan."""
        self.call(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            {"input": {"id": user_id, "email": email}},
        )
        self.call(
            "mutation($u: String!, $p: [String!]!) { subscribe(userId: $u, packageIds: $p) { id } }",
            {"u": user_id, "p": [FREE_PLAN]},
        )

    def can_use(self, user_id: str, feature_id: str) -> tuple[bool, str]:
        """canUseFeature: (access, reason)."""
        data = self.call(
            "query($u: String!, $f: String!) { canUseFeature(userId: $u, featureId: $f) { access reason } }",
            {"u": user_id, "f": feature_id},
        )
        return bool(data["canUseFeature"]["access"]), str(data["canUseFeature"]["reason"])

    def record_usage(self, user_id: str, feature_id: str) -> None:
        """recordUsage: one more unit used."""
        self.call(
            "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded } }",
            {"input": {"userId": user_id, "featureId": feature_id, "delta": 1}},
        )

    def subscription_link(self, user_id: str, template: str, success_url: str, cancel_url: str) -> str:
        """generateSubscriptionLink: where the user pays."""
        data = self.call(
            "mutation($u: String, $t: String!, $s: String!, $c: String!) { generateSubscriptionLink("
            "userId: $u, templateId: $t, successUrl: $s, cancelUrl: $c) { url } }",
            {"u": user_id, "t": template, "s": success_url, "c": cancel_url},
        )
        return str(data["generateSubscriptionLink"]["url"])


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app; `KANA_GRAPHQL_URL` and `KANA_PRIVATE_KEY` say which Kana to use."""
    app = Flask(__name__)
    app.config.update(KANA_GRAPHQL_URL="https://api.usekana.com/graphql", KANA_PRIVATE_KEY="")
    app.config.update(config or {})
    kana = KanaClient(app.config["KANA_GRAPHQL_URL"], app.config["KANA_PRIVATE_KEY"])
    app.extensions["kana"] = kana

    @app.errorhandler(KanaError)
    def kana_error(error: KanaError) -> tuple[dict[str, str], int]:
        status = 404 if error.name == "UserNotFoundError" else 400
        return {"error": str(error)}, status

    @app.post("/signup")
    def sign_up() -> tuple[dict[str, Any], int]:
        body = request.get_json(force=True)
        kana.sign_up(body["id"], body.get("email"))
        return {"id": body["id"], "plan": FREE_PLAN}, 201

    @app.post("/reports")
    def create_report() -> tuple[dict[str, Any], int]:
        user_id = request.headers.get("X-User-ID", "")
        access, reason = kana.can_use(user_id, FEATURE)
        if not access:
            return {"error": reason, "upgrade": "/upgrade"}, 402
        report = {"id": uuid.uuid4().hex, "owner": user_id, "rows": 42}
        kana.record_usage(user_id, FEATURE)
        return report, 201

    @app.post("/upgrade")
    def upgrade() -> tuple[dict[str, Any], int]:
        user_id = request.headers.get("X-User-ID", "")
        url = kana.subscription_link(
            user_id, UPGRADE_TEMPLATE, request.host_url + "welcome", request.host_url + "pricing"
        )
        return {"checkoutUrl": url}, 200

    return app
