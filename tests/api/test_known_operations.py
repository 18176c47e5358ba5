"""Known operations (D106): a query text prepared once runs again without Strawberry's per-request
extensions, and answers exactly as the whole path does, for good and bad requests alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.routing import Route
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from kana_server.api.http import KanaGraphQLView
from kana_server.api.operations import KnownOperations
from kana_server.api.schema import KanaSchema, admin_schema
from kana_server.app import create_app
from kana_server.settings import DEFAULT_PRIVATE_KEY, Settings

KEY = {"Authorization": DEFAULT_PRIVATE_KEY}


class Server:
    """An in-process kana-server (demo seed) and its Admin API schema."""

    def __init__(self, http: httpx.AsyncClient, schema: KanaSchema) -> None:
        self.http = http
        self.schema = schema

    async def twice(
        self, method: str, *, known: bool = True, **request: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        """The same request sent twice: the first prepares its text, the second runs it as known (unless
        its document is not valid: then both take the whole path)."""
        first = await self.http.request(method, "/graphql", **request)
        hits = self.schema.known.hits
        second = await self.http.request(method, "/graphql", **request)
        assert self.schema.known.hits == hits + (1 if known else 0)
        return first, second


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'known.db'}", seed="demo")
    app = create_app(settings)
    [view] = [r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    assert isinstance(view, KanaGraphQLView)
    assert isinstance(view.schema, KanaSchema)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as http,
    ):
        yield Server(http, view.schema)


def same(first: httpx.Response, second: httpx.Response) -> Any:
    """Both answers, status and body, are equal; the body."""
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    return first.json()


async def test_a_repeated_query_is_neither_parsed_nor_validated_again(server: Server) -> None:
    size = Settings().graphql_cache_size
    body = {"query": "query Known { features { id name } __typename }"}
    await server.http.post("/graphql", json=body, headers=KEY)
    caches: list[Any] = [_get_parse_cache(size), _get_validate_cache(size)]
    consulted = [cache.cache_info() for cache in caches]
    hits = server.schema.known.hits
    response = await server.http.post("/graphql", json=body, headers=KEY)
    assert response.json()["data"]["features"]
    assert server.schema.known.hits == hits + 1
    assert [cache.cache_info() for cache in caches] == consulted


@pytest.mark.parametrize(
    ("case", "request_", "expect"),
    [
        ("data", {"json": {"query": "{ features { id type } }"}, "headers": KEY}, "data"),
        (
            "variables",
            {
                "json": {
                    "query": "query C($u: String!, $f: String!) { canUseFeature(userId: $u, featureId: $f) "
                    "{ access reason } }",
                    "variables": {"u": "alice", "f": "api-calls"},
                },
                "headers": KEY,
            },
            "data",
        ),
        (
            "kana error",
            {
                "json": {"query": '{ canUseFeature(userId: "nobody", featureId: "x") { access } }'},
                "headers": KEY,
            },
            "errors",
        ),
        (
            "bad variables",
            {
                "json": {"query": "query U($u: String!) { user(id: $u) { id } }", "variables": {"u": 5}},
                "headers": KEY,
            },
            "errors",
        ),
        (
            "bad key",
            {"json": {"query": "{ features { id } }"}, "headers": {"Authorization": "nope"}},
            "errors",
        ),
        ("no key", {"json": {"query": "{ features { id } }"}}, "errors"),
        ("introspection without a key", {"json": {"query": "{ __typename }"}}, "data"),
        (
            "operation chosen by name",
            {
                "json": {"query": "query A { __typename } query B { features { id } }", "operationName": "B"},
                "headers": KEY,
            },
            "data",
        ),
        ("not valid", {"json": {"query": "{ features { nope } }"}, "headers": KEY}, "errors"),
        ("GET", {"params": {"query": "{ features { id } }"}, "headers": KEY}, "data"),
    ],
)
async def test_a_known_operation_answers_as_the_whole_path(
    server: Server, case: str, request_: dict[str, Any], expect: str
) -> None:
    method = "GET" if "params" in request_ else "POST"
    body = same(*await server.twice(method, known=case != "not valid", **request_))
    assert body.get(expect), (case, body)


async def test_an_invalid_document_is_not_remembered(server: Server) -> None:
    known = len(server.schema.known)
    same(*await server.twice("POST", known=False, json={"query": "{ features { nope } }"}, headers=KEY))
    assert len(server.schema.known) == known


async def test_a_mutation_known_from_post_is_still_refused_with_get(server: Server) -> None:
    mutation = 'mutation { createUser(input: {id: "get-user"}) { id } }'
    posted = await server.http.post("/graphql", json={"query": mutation}, headers=KEY)
    assert posted.json()["data"]["createUser"]["id"] == "get-user"
    got = await server.http.get("/graphql", params={"query": mutation}, headers=KEY)
    assert got.status_code == 405
    assert "Mutations are not allowed with GET" in got.json()["errors"][0]["message"]


def prepared(schema: KanaSchema, query: str, operation_name: str | None = None) -> ExecutionContext:
    """An execution context as Strawberry leaves it after a successful preparation."""
    context = ExecutionContext(
        query=query,
        schema=schema,
        allowed_operations={OperationType.QUERY},
        provided_operation_name=operation_name,
    )
    context.graphql_document = parse(query)
    return context


def test_known_operations_are_bounded_and_forget_the_least_recently_used() -> None:
    schema = admin_schema(Settings())
    known = KnownOperations(2)
    for query in ("{ a: __typename }", "{ b: __typename }"):
        known.remember(prepared(schema, query))
    assert known.get("{ a: __typename }", None) is not None  # a is now the most recently used
    known.remember(prepared(schema, "{ c: __typename }"))
    assert len(known) == 2
    assert known.get("{ b: __typename }", None) is None
    assert known.get("{ a: __typename }", None) is not None
    assert known.get("{ c: __typename }", None) is not None


def test_operations_are_known_by_text_and_operation_name() -> None:
    schema = admin_schema(Settings())
    query = "query A { __typename } query B { features { id } }"
    known = KnownOperations(8)
    known.remember(prepared(schema, query, "A"))
    operation = known.get(query, "A")
    assert operation is not None
    assert operation.introspection_only
    assert known.get(query, "B") is None
    assert known.get(query, None) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "multipart/mixed;deferSpec=20220824, application/json"},
        {"Idempotency-Key": "known-operation-with-a-key"},
    ],
)
async def test_a_known_operation_with_transport_headers_takes_the_whole_path(
    server: Server, headers: dict[str, str]
) -> None:
    body = {"query": "{ features { id } }"}
    plain = await server.http.post("/graphql", json=body, headers=KEY)
    with_headers = await server.http.post("/graphql", json=body, headers=KEY | headers)
    assert (with_headers.status_code, with_headers.json()) == (plain.status_code, plain.json())


async def test_an_execution_that_fails_outside_the_resolvers_answers_as_the_whole_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the executor broke")

    monkeypatch.setattr(server.schema, "_get_execute_function", lambda: failing)
    body = same(*await server.twice("POST", json={"query": "{ features { id name } }"}, headers=KEY))
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "the executor broke" not in str(body)  # masked for the client, logged for the operator
    assert "the executor broke" in caplog.text
