"""`Kana`: one project on a kana-server, with the helpers a test suite needs (the `kana` fixture)."""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kana_server.testing.clock import KanaClock
from kana_server.testing.errors import KanaControlError, KanaGraphQLError, NotEntitled, UsageNotRecorded
from kana_server.testing.results import (
    Access,
    Keys,
    Payment,
    RecordedUsage,
    SeedReport,
    Subscription,
    User,
    random_private_key,
)

if TYPE_CHECKING:
    from kana_server.testing.endpoint import KanaServer

# D116: the helpers name their operations with this prefix, so `requests()` can leave them out and
# count only what the code under test sent.
HELPER_PREFIX = "KanaTesting"
NAMED_OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
CHECKOUT_SESSION = re.compile(r"(?:^|/_kana/checkout/)(cs_(?:test|live)_[A-Za-z0-9]+)/?(?:[?#].*)?$")
MAX_LEDGER_LIMIT = 10_000

CREATE_USER = f"""mutation {HELPER_PREFIX}CreateUser($input: CreateUserInput!) {{
  createUser(input: $input) {{ id name email billingId metadata }} }}"""
SUBSCRIBE = f"""mutation {HELPER_PREFIX}Subscribe($userId: String!, $packageIds: [String!]!) {{
  subscribe(userId: $userId, packageIds: $packageIds) {{ id userId status package {{ id }} }} }}"""
RECORD_USAGE = f"""mutation {HELPER_PREFIX}RecordUsage($input: CreateUsageEventInput!) {{
  recordUsage(input: $input) {{ recorded reason }} }}"""
CAN_USE_FEATURE = f"""query {HELPER_PREFIX}CanUseFeature(
  $userId: String!, $featureId: String!, $delta: Int
) {{ canUseFeature(userId: $userId, featureId: $featureId, delta: $delta) {{
    access reason consumption {{ used budget overageEnabled }} }} }}"""


def operation_label(query: str, operation_name: str | None, errors: list[dict[str, Any]]) -> str:
    """What to call a GraphQL call in an error message: its operation name, else its failing field."""
    name = operation_name or (found.group(1) if (found := NAMED_OPERATION.match(query)) else None)
    if name and name.startswith(HELPER_PREFIX):  # a helper's call is named after its root field
        field = name.removeprefix(HELPER_PREFIX)
        return field[:1].lower() + field[1:]
    if name:
        return name
    path = errors[0].get("path") if errors else None
    return str(path[0]) if path else "GraphQL operation"


class Kana:
    """A project on a kana-server (its own random private key unless given one), with helpers that call
    the Admin API and the control plane as that project. Every helper raises a `KanaTestError` whose
    message shows what was called and what kana-server answered."""

    def __init__(self, server: KanaServer, private_key: str | None = None) -> None:
        self.server = server
        self.keys = Keys.for_private(private_key or random_private_key())
        self.clock = KanaClock(self)

    def __repr__(self) -> str:
        return f"Kana(project={self.keys.private!r}, server={self.server.url!r})"

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.server.url

    @property
    def admin_url(self) -> str:
        """The Admin API's endpoint: give it to the code under test with `keys.private`."""
        return self.server.admin_url

    @property
    def client_url(self) -> str:
        """The Client API's endpoint (for the frontend SDK, with `keys.public`)."""
        return self.server.client_url

    @property
    def cli_url(self) -> str:
        """The Kana CLI's base URL (`KANA_DEV_URL`, with `keys.private` as `KANA_DEV_KEY`)."""
        return self.server.cli_url

    @property
    def headers(self) -> dict[str, str]:
        """The headers that authenticate as this project on the Admin API and the control plane."""
        return {"Authorization": self.keys.private}

    # GraphQL -----------------------------------------------------------------------------------------

    def gql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, operation_name: str | None = None
    ) -> dict[str, Any]:
        """Run an Admin API operation as this project: its `data`, or `KanaGraphQLError` on errors."""
        __tracebackhide__ = True
        body: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name is not None:
            body["operationName"] = operation_name
        response = self.server.request("POST", "/graphql", json=body, headers=self.headers)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        errors: list[dict[str, Any]] = answer.get("errors") or [] if isinstance(answer, dict) else []
        if errors or response.status_code != 200 or not isinstance(answer, dict):
            errors = errors or [{"message": f"HTTP {response.status_code}: {response.text[:500]}"}]
            raise KanaGraphQLError(operation_label(query, operation_name, errors), errors, body["variables"])
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def create_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        billing_id: str | None = None,
        metadata: Any = None,
    ) -> User:
        """createUser: a user with this id (and the fields given)."""
        __tracebackhide__ = True
        extra = {"name": name, "email": email, "billingId": billing_id, "metadata": metadata}
        given = {key: value for key, value in extra.items() if value is not None}
        data = self.gql(CREATE_USER, {"input": {"id": user_id, **given}})
        return User.from_json(data["createUser"])

    def subscribe(self, user_id: str, *package_ids: str) -> list[Subscription]:
        """subscribe: the user to these packages (all or nothing, Kana's rules); the subscriptions."""
        __tracebackhide__ = True
        data = self.gql(SUBSCRIBE, {"userId": user_id, "packageIds": list(package_ids)})
        return [Subscription.from_json(item) for item in data["subscribe"]]

    def record_usage(
        self, user_id: str, feature_id: str, delta: int = 1, *, action: str = "ADD", check: bool = True
    ) -> RecordedUsage:
        """recordUsage (`action` ADD or SET). Kana answers `recorded: false` when the user has no live
        package with the feature; that raises `UsageNotRecorded` unless `check=False` (D114)."""
        __tracebackhide__ = True
        variables = {"input": {"userId": user_id, "featureId": feature_id, "delta": delta, "action": action}}
        answer = self.gql(RECORD_USAGE, variables)["recordUsage"]
        result = RecordedUsage(bool(answer["recorded"]), answer.get("reason"))
        if check and not result.recorded:
            raise UsageNotRecorded(
                f"recordUsage did not record {action} {delta} of {feature_id!r} for {user_id!r}: "
                f"{result.reason} (pass check=False to expect this)"
            )
        return result

    def can_use(self, user_id: str, feature_id: str, delta: int = 1) -> Access:
        """canUseFeature: may the user use `delta` more of the feature? True in `assert` when so (D114)."""
        __tracebackhide__ = True
        data = self.gql(CAN_USE_FEATURE, {"userId": user_id, "featureId": feature_id, "delta": delta})
        return Access.from_json(data["canUseFeature"])

    def usage(self, user_id: str, feature_id: str) -> int:
        """How much of a consumable feature the user used in the current period; `NotEntitled` when there
        is no such usage (no live package with the feature, or a BINARY feature)."""
        __tracebackhide__ = True
        access = self.can_use(user_id, feature_id)
        if access.consumption is None:
            raise NotEntitled(f"{user_id!r} has no usage of {feature_id!r}: {access.reason}")
        return access.consumption.used

    # control plane -----------------------------------------------------------------------------------

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        """A `/_kana/...` call as this project; its JSON answer, or `KanaControlError` on a 4xx/5xx."""
        __tracebackhide__ = True
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.server.request(method, path, headers=headers, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise KanaControlError(method, path, response.status_code, body)
        return body

    def seed(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> SeedReport:
        """Apply a seed (a kana.yaml with kana-server's sections: users, subscriptions, usage, prices...) to
        this project: YAML or JSON text, a file's `Path`, or a dict. Once per content, all or nothing."""
        __tracebackhide__ = True
        if isinstance(source, Mapping):
            text = yaml.safe_dump(dict(source), sort_keys=False, allow_unicode=True)
        elif isinstance(source, os.PathLike):
            text = Path(source).read_text(encoding="utf-8")
        else:
            text = textwrap.dedent(source)
            if ":" not in text and "\n" not in text.strip():  # a mapping needs a colon: a file name?
                raise ValueError(f"a seed is YAML or JSON text; to read the file {text!r}, pass a Path")
        body = self.control(
            "POST", "/_kana/seed", content=text.encode(), headers={"Content-Type": "application/yaml"}
        )
        return SeedReport(bool(body["applied"]), tuple(body["messages"]))

    def set_subscription_status(self, subscription_id: str, status: str) -> None:
        """Change a subscription's status (CANCELLED, PAST_DUE, ...) as Kana's Stripe sync would."""
        __tracebackhide__ = True
        self.control("POST", f"/_kana/subscriptions/{subscription_id}/status", json={"status": status})

    def pay(self, link: str, *, email: str | None = None, name: str | None = None) -> Payment:
        """Pay a subscription link from generateSubscriptionLink (its URL or session id) without a browser:
        the user is subscribed by Kana's rules. `email` and `name` fill the form of a link made without
        a userId."""
        __tracebackhide__ = True
        found = CHECKOUT_SESSION.search(link)
        if found is None:
            raise ValueError(f"not a subscription link or checkout session id: {link!r}")
        fields = {key: value for key, value in (("email", email), ("name", name)) if value is not None}
        body = self.control("POST", f"/_kana/checkout/{found.group(1)}/pay", json=fields)
        return Payment.from_json(body)

    def requests(
        self,
        operation: str | None = None,
        *,
        user: str | None = None,
        limit: int = 100,
        include_helpers: bool = False,
    ) -> list[dict[str, Any]]:
        """The project's GraphQL requests from the request ledger (`GET /_kana/requests`), newest first:
        those calling root field `operation` (e.g. `recordUsage`), for `user`. The helpers' own calls are
        left out unless `include_helpers`."""
        __tracebackhide__ = True
        params = {key: value for key, value in (("operation", operation), ("user", user)) if value}
        fetch = limit if include_helpers else MAX_LEDGER_LIMIT
        body = self.control("GET", "/_kana/requests", params={**params, "limit": fetch})
        entries: list[dict[str, Any]] = body["requests"]
        if not include_helpers:
            entries = [e for e in entries if not str(e.get("operationName") or "").startswith(HELPER_PREFIX)]
        return entries[:limit]

    def request_count(
        self, operation: str | None = None, *, user: str | None = None, include_helpers: bool = False
    ) -> int:
        """How many kept requests call `operation` for `user` (the helpers' own calls left out unless
        `include_helpers`)."""
        __tracebackhide__ = True
        if not include_helpers:
            return len(self.requests(operation, user=user, limit=MAX_LEDGER_LIMIT))
        params = {key: value for key, value in (("operation", operation), ("user", user)) if value}
        return int(self.control("GET", "/_kana/requests/count", params=params)["count"])
