"""The real @usekana/client-kana-js 0.2.2, unmodified, in headless Chromium against kana-server.

The page comes from another origin than the API (another port), so every call goes through a real
CORS preflight. The server is a real `kana-server serve` process (a server in a thread where the test
moves its clock). Data is set up through the Admin API, as a backend would.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_client_schema, lexicographic_sort_schema, print_schema

from kana_server.api.schema import client_schema
from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.client_calls import user_token
from tests.clocks import ShiftedClock
from tests.kana import Api, random_key
from tests.process import ServerProcess
from tests.sdk.conftest import SdkPage, database

pytestmark = [pytest.mark.sdk]

MAX_INT = 2_147_483_647


def endpoint(server: ServerProcess | ThreadedServer) -> str:
    """What the SDK is given: only the endpoint differs from Kana's."""
    return f"{server.url}/client/graphql"


def consumable(feature_id: str, access: bool, budget: int, used: int) -> dict[str, Any]:
    """A consumable feature as getSubscribedFeatures returns it."""
    return {
        "id": feature_id,
        "name": feature_id,
        "type": "CONSUMABLE",
        "entitlement": {"access": access, "consumption": {"budget": budget, "used": used}},
    }


def binary(feature_id: str, access: bool = True) -> dict[str, Any]:
    """A binary feature as getSubscribedFeatures returns it (no consumption)."""
    return {"id": feature_id, "name": feature_id, "type": "BINARY", "entitlement": {"access": access}}


def authentication_error(answer: dict[str, Any]) -> str:
    """The message of an SDK answer that must be an authentication error."""
    assert "data" not in answer, answer
    error = answer["error"]
    assert error["isError"] is True, error  # an Error (the ES5 bundle calls it "Error", not its class)
    assert error["message"].startswith("Unauthenticated"), error
    message = error["message"]
    assert isinstance(message, str)
    return message


@pytest.fixture
async def project(admin: httpx.AsyncClient) -> Api:
    """A fresh project on the SDK tests' server with the catalog of tests/fixtures/catalog.yaml."""
    api = Api(admin, random_key())
    await api.load("catalog.yaml")
    return api


@pytest.mark.browser
async def test_simple_mode(sdk: SdkPage, sdk_server: ServerProcess, project: Api) -> None:
    api = project
    await api.create_user("alice", name="Alice", email="alice@example.com")
    await api.subscribe("alice", "pro", "extra-calls")
    await api.record("alice", "api-calls", 7)
    await api.record("alice", "messages", 150)
    await sdk.client("alice", {"apiKey": api.public_key, "userId": "alice", "endpoint": endpoint(sdk_server)})

    assert await sdk.call("alice", "getSubscribedPackages") == {
        "data": [
            {"id": "pro", "name": "pro", "isAddon": False},
            {"id": "extra-calls", "name": "extra-calls", "isAddon": True},
        ]
    }
    assert await sdk.call("alice", "getSubscribedFeatures") == {
        "data": [
            consumable("api-calls", True, 5000, 7),  # pro comes first, but the add-on's 5000 wins
            consumable("messages", True, 100, 150),  # past the budget with overage enabled
            consumable("seats", True, MAX_INT, 0),  # unlimited
            binary("dashboard"),
        ]
    }
    assert await sdk.call("alice", "canUseFeature", "api-calls") == {
        "data": {"access": True, "consumption": {"budget": 5000, "used": 7}}
    }
    assert await sdk.call("alice", "canUseFeature", "dashboard") == {"data": {"access": True}}
    assert await sdk.call("alice", "canUseFeature", "sso") == {"data": {"access": False}}
    assert await sdk.call("alice", "canUseFeature", "no-such-feature") == {"data": {"access": False}}

    # The SDK caches the user; resetCache fetches again and shows usage recorded meanwhile.
    await api.record("alice", "api-calls", 5)
    assert (await sdk.call("alice", "canUseFeature", "api-calls"))["data"]["consumption"]["used"] == 7
    assert await sdk.call("alice", "resetCache") is None
    assert await sdk.call("alice", "canUseFeature", "api-calls") == {
        "data": {"access": True, "consumption": {"budget": 5000, "used": 12}}
    }


@pytest.mark.browser
async def test_secure_mode(sdk: SdkPage, sdk_server: ServerProcess, project: Api) -> None:
    api = project
    await api.create_user("bob")
    await api.subscribe("bob", "free")
    await api.record("bob", "api-calls", 50)
    token = await user_token(api, "bob")
    await sdk.client("bob", {"userToken": token, "endpoint": endpoint(sdk_server)})

    assert await sdk.call("bob", "getSubscribedPackages") == {
        "data": [{"id": "free", "name": "free", "isAddon": False}]
    }
    assert await sdk.call("bob", "getSubscribedFeatures") == {
        "data": [
            consumable("api-calls", False, 50, 50),  # no allowance left, no overage
            consumable("messages", True, 10, 0),
            binary("dashboard"),
        ]
    }
    assert await sdk.call("bob", "canUseFeature", "api-calls") == {
        "data": {"access": False, "consumption": {"budget": 50, "used": 50}}
    }
    assert await sdk.call("bob", "canUseFeature", "messages") == {
        "data": {"access": True, "consumption": {"budget": 10, "used": 0}}
    }
    assert await sdk.call("bob", "canUseFeature", "dashboard") == {"data": {"access": True}}
    assert await sdk.call("bob", "canUseFeature", "seats") == {"data": {"access": False}}

    await api.record("bob", "api-calls", -10)  # a revert gives allowance back
    await sdk.call("bob", "resetCache")
    assert await sdk.call("bob", "canUseFeature", "api-calls") == {
        "data": {"access": True, "consumption": {"budget": 50, "used": 40}}
    }


@pytest.mark.browser
async def test_a_wrong_key_is_an_authentication_error(
    sdk: SdkPage, sdk_server: ServerProcess, project: Api
) -> None:
    api = project
    await api.create_user("alice")
    url = endpoint(sdk_server)
    await sdk.client("unknown-key", {"apiKey": "pub_test_" + "0" * 32, "userId": "alice", "endpoint": url})
    await sdk.client("private-key", {"apiKey": api.key, "userId": "alice", "endpoint": url})
    await sdk.client("unknown-user", {"apiKey": api.public_key, "userId": "nobody", "endpoint": url})
    await sdk.client("forged-token", {"userToken": "not-a-token", "endpoint": url})
    for name in ("unknown-key", "private-key", "unknown-user", "forged-token"):
        for method, args in [
            ("getSubscribedPackages", []),
            ("getSubscribedFeatures", []),
            ("canUseFeature", ["api-calls"]),
        ]:
            authentication_error(await sdk.call(name, method, *args))


@pytest.mark.browser
async def test_an_expired_token_is_an_authentication_error(
    sdk: SdkPage, clocked_server: ThreadedServer, sdk_clock: ShiftedClock
) -> None:
    async with httpx.AsyncClient(base_url=clocked_server.url, timeout=30) as http:
        api = Api(http, random_key())
        await api.load("catalog.yaml")
        await api.create_user("alice")
        await api.subscribe("alice", "free")
        lifetime = timedelta(seconds=clocked_server.settings.token_ttl_seconds)
        sdk_clock.shift = -(lifetime + timedelta(minutes=1))  # issued 30 days and a minute ago
        try:
            expired = await user_token(api, "alice")
        finally:
            sdk_clock.shift = timedelta(0)
        fresh = await user_token(api, "alice")
    await sdk.client("expired", {"userToken": expired, "endpoint": endpoint(clocked_server)})
    await sdk.client("fresh", {"userToken": fresh, "endpoint": endpoint(clocked_server)})
    assert "expired" in authentication_error(await sdk.call("expired", "canUseFeature", "api-calls"))
    assert await sdk.call("fresh", "canUseFeature", "dashboard") == {"data": {"access": True}}


@pytest.mark.browser
async def test_an_origin_that_is_not_allowed_cannot_call(sdk: SdkPage, session_dir: Path) -> None:
    allowed = ("--cors-origin", "http://allowed.example", "--cors-origin", "http://also.example")
    with ServerProcess("--database", database(session_dir), *allowed) as closed:
        async with httpx.AsyncClient(base_url=closed.url, timeout=30) as http:
            api = Api(http, random_key())
            await api.create_user("alice")
            config = {"apiKey": api.public_key, "userId": "alice", "endpoint": endpoint(closed)}
            await sdk.client("closed", config)
            answer = await sdk.call("closed", "getSubscribedPackages")
            # The server itself answers (a backend has no origin): only the browser is kept out.
            response = await http.post(
                "/client/graphql",
                json={"query": "{ currentUser { id } }"},
                headers={"Authorization": api.public_key, "X-User-ID": "alice"},
            )
            assert response.json() == {"data": {"currentUser": {"id": "alice"}}}
    assert "data" not in answer, answer
    assert answer["error"]["isError"] is True
    assert not answer["error"]["message"].startswith("Unauthenticated")


def test_the_client_schema_is_the_one_the_sdk_was_built_on(sdk_package: Path) -> None:
    introspection = json.loads(
        (sdk_package / "src" / "graphql" / "generated" / "graphql.schema.json").read_text(encoding="utf-8")
    )
    theirs = print_schema(lexicographic_sort_schema(build_client_schema(introspection)))
    ours = print_schema(lexicographic_sort_schema(client_schema(Settings())._schema))
    assert ours == theirs


def test_the_sdk_sends_the_operation_the_tests_use(sdk_package: Path) -> None:
    sent = (sdk_package / "src" / "graphql" / "operations" / "CurrentUser.graphql").read_text(
        encoding="utf-8"
    )
    fixture = (Path(__file__).parents[1] / "fixtures" / "current_user.graphql").read_text(encoding="utf-8")
    assert fixture.split() == sent.split()


def test_the_package_is_pinned() -> None:
    here = Path(__file__).parent
    manifest = json.loads((here / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((here / "package-lock.json").read_text(encoding="utf-8"))
    assert manifest["dependencies"] == {"@usekana/client-kana-js": "0.2.2"}
    assert lock["packages"]["node_modules/@usekana/client-kana-js"]["version"] == "0.2.2"
