"""The helpers behind the `kana` fixture where the plugin's runs do not reach: what the request ledger's
client asks for (through a stand-in transport), arguments the helpers refuse before calling anything,
and answers that are not Kana's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
import pytest

import kana_server.testing
from kana_server.settings import Settings
from kana_server.testing import (
    KanaControlError,
    KanaGraphQLError,
    KanaServer,
    KanaUnavailable,
    random_private_key,
)
from kana_server.testing.project import HELPER_PREFIX
from kana_server.testing.server import ThreadedServer

Handler = Callable[[httpx.Request], httpx.Response]


def stand_in(handler: Handler) -> KanaServer:
    """A KanaServer whose HTTP client answers with `handler` instead of a network."""
    server = KanaServer("http://kana.test")
    server.http.close()
    server.http = httpx.Client(base_url=server.url, transport=httpx.MockTransport(handler))
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KanaServer]:
    """A real kana-server for the helpers that need one."""
    database = tmp_path_factory.mktemp("helpers") / "kana.db"
    with (
        ThreadedServer(Settings(database_url=f"sqlite+aiosqlite:///{database}", port=0)) as threaded,
        KanaServer(threaded.url) as kana_server,
    ):
        yield kana_server


def ledger_entry(n: int, operation_name: str | None, field: str = "recordUsage") -> dict[str, object]:
    return {"id": n, "operationName": operation_name, "rootFields": [field], "users": ["alice"]}


LEDGER = [
    ledger_entry(5, None),
    ledger_entry(4, f"{HELPER_PREFIX}RecordUsage"),
    ledger_entry(3, "AppRecordsUsage"),
    ledger_entry(2, f"{HELPER_PREFIX}RecordUsage"),
    ledger_entry(1, None),
]


def test_requests_ask_the_ledger_and_leave_out_the_helpers_own_calls() -> None:
    asked: list[httpx.Request] = []

    def ledger(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/_kana/requests/count":
            return httpx.Response(200, json={"count": 5})
        return httpx.Response(200, json={"requests": LEDGER, "kept": 5, "capacity": 1000, "recorded": 5})

    kana = stand_in(ledger).project()
    assert [e["id"] for e in kana.requests("recordUsage", user="alice")] == [5, 3, 1]
    assert asked[-1].url.path == "/_kana/requests"
    assert dict(asked[-1].url.params) == {"operation": "recordUsage", "user": "alice", "limit": "10000"}
    assert asked[-1].headers["authorization"] == kana.keys.private

    assert [e["id"] for e in kana.requests(limit=2)] == [5, 3]
    assert dict(asked[-1].url.params) == {"limit": "10000"}
    assert [e["id"] for e in kana.requests(include_helpers=True, limit=3)] == [5, 4, 3]
    assert dict(asked[-1].url.params) == {"limit": "3"}

    assert kana.request_count("recordUsage", user="alice") == 3
    assert kana.request_count("recordUsage", user="alice", include_helpers=True) == 5
    assert asked[-1].url.path == "/_kana/requests/count"
    assert dict(asked[-1].url.params) == {"operation": "recordUsage", "user": "alice"}


def test_a_server_without_the_ledger_says_so() -> None:
    kana = stand_in(lambda request: httpx.Response(404, text="Not Found")).project()
    with pytest.raises(KanaControlError, match=r"GET /_kana/requests failed: 404: .*no such route"):
        kana.requests()


def test_a_graphql_answer_that_is_not_json_is_still_a_readable_error() -> None:
    kana = stand_in(lambda request: httpx.Response(502, text="Bad Gateway")).project()
    with pytest.raises(KanaGraphQLError, match=r"^createUser failed: HTTP 502: Bad Gateway"):
        kana.create_user("alice")


def test_several_errors_are_all_shown() -> None:
    errors = [
        {"message": "first", "path": ["a"], "extensions": {"code": "NOT_FOUND"}},
        {"message": "second", "path": ["b", 0, "c"]},
    ]
    kana = stand_in(lambda request: httpx.Response(200, json={"data": None, "errors": errors})).project()
    with pytest.raises(KanaGraphQLError) as failure:
        kana.gql("{ a b { c } }", {"x": 1})
    assert str(failure.value) == (
        'a failed: NOT_FOUND: first (at a)\n  and: second (at b.0.c)\n  variables: {"x": 1}'
    )
    assert failure.value.code == "NOT_FOUND"
    assert failure.value.errors == errors


def test_an_unauthenticated_answer_hints_at_strict_keys() -> None:
    error = {"message": "Unauthenticated: unknown key", "extensions": {"code": "UNAUTHENTICATED"}}
    kana = stand_in(lambda request: httpx.Response(200, json={"errors": [error]})).project()
    with pytest.raises(KanaGraphQLError, match="--strict-keys"):
        kana.can_use("alice", "api-calls")


def test_a_server_that_stops_answering_is_named() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(
        KanaUnavailable, match=r"kana-server at http://kana.test did not answer POST /graphql"
    ):
        stand_in(down).project().create_user("alice")


def test_helpers_refuse_what_they_cannot_send(server: KanaServer) -> None:
    kana = server.project()
    with pytest.raises(ValueError, match="no time zone"):
        kana.clock.set(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="not a subscription link"):
        kana.pay("https://checkout.stripe.com/pay/cs_test_a1")
    with pytest.raises(ValueError, match="pass a Path"):
        kana.seed("tests/fixtures/plugin_catalog.yaml")
    assert kana.clock.state().virtual is False  # nothing was sent


def test_a_project_can_be_reopened_by_its_key(server: KanaServer) -> None:
    key = random_private_key()
    server.project(key).create_user("alice")
    again = server.project(key)
    assert again.keys.private == key
    assert again.gql("{ users { id } }")["users"] == [{"id": "alice"}]


def test_the_package_exports_its_names_lazily() -> None:
    assert sorted(kana_server.testing.__all__) == sorted(kana_server.testing.MODULE_OF)
    for name in kana_server.testing.__all__:
        assert getattr(kana_server.testing, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = kana_server.testing.Nope


def test_loading_the_plugin_imports_neither_the_server_nor_httpx() -> None:
    probe = "import sys, kana_server.testing.pytest_plugin; print(sorted({'httpx', 'yaml', 'kana_server.app'} & set(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "[]"
