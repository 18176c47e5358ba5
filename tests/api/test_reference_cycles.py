"""A finished request leaves nothing for the garbage collector (D109): its objects are freed by
reference counting when it ends. A cycle would keep each request's whole object graph (context, request,
services, graphql-core's executor) alive until the collector's next pass, whose pauses land on other
requests' latency."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kana_server.app import create_app
from kana_server.settings import DEFAULT_PRIVATE_KEY, Settings

KEY = {"Authorization": DEFAULT_PRIVATE_KEY}
CAN_USE = (
    "query C($u: String!, $f: String!) { canUseFeature(userId: $u, featureId: $f) "
    "{ access reason consumption { used budget overageEnabled } } }"
)
RECORD = "mutation R($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }"
CURRENT_USER = "{ currentUser { id subscribedPackages { id features { id entitlement { access } } } } }"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'cycles.db'}", seed="demo"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as client,
    ):
        yield client


@pytest.fixture
def garbage() -> Iterator[list[Any]]:
    """What the collector finds unreachable while the test runs (it is switched off meanwhile)."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()


def server_objects(found: list[Any]) -> Counter[str]:
    """The unreachable objects that belong to the server side: kana-server's, Starlette's requests and
    responses, graphql-core's and Strawberry's execution."""
    prefixes = ("kana_server.", "starlette.", "graphql.execution", "strawberry.")
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}"
        for o in found
        if type(o).__module__.startswith(prefixes)
    )


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/graphql", KEY, {"query": CAN_USE, "variables": {"u": "alice", "f": "api-calls"}}),
        (
            "/graphql",
            KEY,
            {"query": RECORD, "variables": {"input": {"userId": "alice", "featureId": "api-calls"}}},
        ),
        ("/graphql", KEY, {"query": "{ features { id name type } }"}),
        (
            "/client/graphql",
            {"Authorization": "pub_test_kana_server_local", "X-User-ID": "alice"},
            {"query": CURRENT_USER},
        ),
    ],
)
async def test_a_request_leaves_no_reference_cycle(
    http: httpx.AsyncClient, garbage: list[Any], path: str, headers: dict[str, str], body: dict[str, Any]
) -> None:
    first = await http.post(path, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert "errors" not in first.json(), first.text
    # The first request of a text is validated (Strawberry's validators are cycles, once per text); the
    # requests after it run as known operations (D106): those are what every request costs.
    gc.set_debug(0)
    garbage.clear()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    for _ in range(5):
        assert (await http.post(path, json=body, headers=headers)).status_code == 200
    gc.collect()
    assert server_objects(garbage) == Counter()
