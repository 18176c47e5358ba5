"""The scenarios, and how each target (kana-server, the floor) is asked for the same thing over HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson

from bench.load import HttpRequest, Workload
from bench.project import PRIVATE_KEY, PUBLIC_KEY, Pair

RECORD_USAGE = (
    "mutation BenchRecordUsage($input: CreateUsageEventInput!) { recordUsage(input: $input) "
    "{ recorded reason } }"
)
CAN_USE_FEATURE = (
    "query BenchCanUseFeature($userId: String!, $featureId: String!) { canUseFeature(userId: $userId, "
    "featureId: $featureId) { access reason consumption { used budget overageEnabled } } }"
)
SHOW_USAGE = (
    "query BenchShowUsage($userId: String!, $featureId: String!) { showUsage(userId: $userId, "
    "featureId: $featureId) { current { periodStart periodEnd consumption { used budget overageEnabled } } "
    "past { periodStart periodEnd consumption { used budget overageEnabled } } } }"
)
FEATURES = "query BenchFeatures { features { id name type unitLabel unitLabelPlural } }"
CURRENT_USER = (
    "query BenchCurrentUser { currentUser { id name email subscribedPackages { id name isAddon "
    "features { id name type entitlement { access consumption { budget used } } } } } }"
)
JSON = ("Content-Type", "application/json")


class Api(Protocol):
    """How one target is asked for each operation."""

    name: str

    def record(self, pair: Pair) -> HttpRequest:
        """recordUsage of 1 for a pair."""
        ...

    def can_use(self, pair: Pair) -> HttpRequest:
        """canUseFeature of a pair."""
        ...

    def show_usage(self, pair: Pair) -> HttpRequest:
        """showUsage of a pair."""
        ...

    def features(self) -> HttpRequest:
        """The features listing."""
        ...

    def current_user(self, user: str) -> HttpRequest:
        """The Client API's currentUser, as the user."""
        ...


def graphql(
    path: str,
    key: str,
    query: str,
    variables: dict[str, Any] | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> HttpRequest:
    """A GraphQL POST (variables as an object, as the SDKs send them)."""
    document: dict[str, Any] = {"query": query}
    if variables is not None:
        document["variables"] = variables
    return HttpRequest("POST", path, (JSON, ("Authorization", key), *extra), orjson.dumps(document))


class KanaApi:
    """kana-server: the Admin API on /graphql (private key), the Client API on /client/graphql."""

    name = "kana-server"

    def record(self, pair: Pair) -> HttpRequest:
        """recordUsage(input: {userId, featureId, delta: 1})."""
        user, feature = pair
        variables = {"input": {"userId": user, "featureId": feature, "delta": 1}}
        return graphql("/graphql", PRIVATE_KEY, RECORD_USAGE, variables)

    def can_use(self, pair: Pair) -> HttpRequest:
        """canUseFeature(userId, featureId)."""
        return graphql("/graphql", PRIVATE_KEY, CAN_USE_FEATURE, {"userId": pair[0], "featureId": pair[1]})

    def show_usage(self, pair: Pair) -> HttpRequest:
        """showUsage(userId, featureId)."""
        return graphql("/graphql", PRIVATE_KEY, SHOW_USAGE, {"userId": pair[0], "featureId": pair[1]})

    def features(self) -> HttpRequest:
        """features."""
        return graphql("/graphql", PRIVATE_KEY, FEATURES)

    def current_user(self, user: str) -> HttpRequest:
        """currentUser with the public key and X-User-ID (the SDK's simple mode)."""
        return graphql("/client/graphql", PUBLIC_KEY, CURRENT_USER, extra=(("X-User-ID", user),))


class FloorApi:
    """The floor: one plain JSON route per operation (bench/floor.py)."""

    name = "floor"

    @staticmethod
    def _post(path: str, body: dict[str, Any] | None = None, *headers: tuple[str, str]) -> HttpRequest:
        return HttpRequest("POST", path, (JSON, *headers), orjson.dumps(body or {}))

    def record(self, pair: Pair) -> HttpRequest:
        """POST /record."""
        return self._post("/record", {"userId": pair[0], "featureId": pair[1], "delta": 1})

    def can_use(self, pair: Pair) -> HttpRequest:
        """POST /can-use."""
        return self._post("/can-use", {"userId": pair[0], "featureId": pair[1]})

    def show_usage(self, pair: Pair) -> HttpRequest:
        """POST /show-usage."""
        return self._post("/show-usage", {"userId": pair[0], "featureId": pair[1]})

    def features(self) -> HttpRequest:
        """POST /features."""
        return self._post("/features")

    def current_user(self, user: str) -> HttpRequest:
        """POST /current-user with X-User-ID."""
        return self._post("/current-user", None, ("X-User-ID", user))


def markers(name: str, value: str) -> tuple[str, ...]:
    """A good answer's marker for `"name": value`, with and without the space JSON encoders differ on."""
    return (f'"{name}":{value}', f'"{name}": {value}')


@dataclass(frozen=True)
class Scenario:
    """One operation measured on both targets with the same rotation of users and features."""

    key: str
    title: str
    expect: tuple[str, ...]
    build: Callable[[Api, Sequence[Pair], Sequence[str]], list[HttpRequest]]
    counts_usage: bool = False
    min_ratio: float | None = None
    """The goal: kana-server's req/s at least this fraction of the floor's."""

    def workload(self, api: Api, pairs: Sequence[Pair], users: Sequence[str]) -> Workload:
        """The rotation for one target."""
        return Workload(self.build(api, pairs, users), self.expect)


SCENARIOS = (
    Scenario(
        "record",
        "recordUsage",
        markers("recorded", "true"),
        lambda api, pairs, users: [api.record(p) for p in pairs],
        counts_usage=True,
        min_ratio=0.50,
    ),
    Scenario(
        "canuse",
        "canUseFeature",
        markers("access", "true"),
        lambda api, pairs, users: [api.can_use(p) for p in pairs],
        min_ratio=0.40,
    ),
    Scenario(
        "showusage",
        "showUsage",
        markers("current", "{"),
        lambda api, pairs, users: [api.show_usage(p) for p in pairs],
    ),
    Scenario(
        "features",
        "features",
        markers("features", "["),
        lambda api, pairs, users: [api.features()],
    ),
    Scenario(
        "currentuser",
        "currentUser (client)",
        markers("subscribedPackages", "[{"),
        lambda api, pairs, users: [api.current_user(u) for u in users],
    ),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}


def mixed_workload(api: Api, pairs: Sequence[Pair], users: Sequence[str]) -> Workload:
    """Every scenario's requests interleaved (for the memory measurement)."""
    requests = [
        request
        for (pair, user) in zip(pairs, users, strict=False)
        for request in (
            api.record(pair),
            api.can_use(pair),
            api.show_usage(pair),
            api.features(),
            api.current_user(user),
        )
    ]
    expect = tuple(marker for scenario in SCENARIOS for marker in scenario.expect)
    return Workload(requests, expect)


def shuffled(items: Sequence[Pair], seed: int = 7) -> list[Pair]:
    """A fixed shuffle, so every run and both targets get the same order."""
    result = list(items)
    random.Random(seed).shuffle(result)
    return result


def send(client: httpx.Client, base_url: str, request: HttpRequest) -> Any:
    """Send one request and return its JSON answer."""
    response = client.request(
        request.method, base_url + request.path, headers=dict(request.headers), content=request.body
    )
    response.raise_for_status()
    return response.json()


def total_used(base_url: str, api: Api, pairs: Sequence[Pair]) -> int:
    """The sum of `used` over the pairs' current periods, read through canUseFeature (or the floor's)."""
    total = 0
    with httpx.Client(timeout=30) as client:
        for pair in pairs:
            answer = send(client, base_url, api.can_use(pair))
            if answer.get("errors"):
                raise RuntimeError(f"reading the usage of {pair} failed: {answer['errors']}")
            total += int(answer["data"]["canUseFeature"]["consumption"]["used"])
    return total


def settled_total(
    base_url: str, api: Api, pairs: Sequence[Pair], *, pause: float = 0.3, reads: int = 10
) -> int:
    """`total_used` once two reads in a row agree (requests still in flight have landed)."""
    last = total_used(base_url, api, pairs)
    for _ in range(reads):
        time.sleep(pause)
        now = total_used(base_url, api, pairs)
        if now == last:
            return now
        last = now
    return last
