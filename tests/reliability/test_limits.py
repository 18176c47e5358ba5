"""Limits (settings with defaults): request body size (413), query depth, aliases and tokens
(Strawberry's validation extensions), no batches (D95); introspection stays on for GraphiQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kana_server.settings import Settings
from tests.kana import Api, random_key
from tests.reliability.checks import load_project, state
from tests.servers import serving

CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
DEEP = "{ features { packages { features { id } } } }"  # depth 3


def messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    errors = response.json().get("errors") or []
    for error in errors:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return [e["message"] for e in errors]


@pytest.fixture
async def project(api: Api) -> Api:
    await load_project(api)
    return api


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Api]:
    """A server with tiny limits, and a project on it."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}",
        max_body_bytes=2048,
        max_query_depth=2,
        max_query_aliases=2,
        max_query_tokens=60,
    )
    async with serving(settings) as http:
        api = Api(http, random_key())
        await load_project(api)
        yield api


async def test_a_body_over_the_limit_is_413_and_writes_nothing(project: Api) -> None:
    before = await state(project)
    metadata = {"blob": "x" * 1_100_000}  # the default limit is 1 MiB
    response = await project.post(
        {"query": CREATE_USER, "variables": {"input": {"id": "big", "metadata": metadata}}}
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["message"] == "The request body is larger than 1048576 bytes (KANA_MAX_BODY_BYTES)."
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "exception": {"name": "ValidationError", "message": error["message"]},
    }
    assert await state(project) == before


async def test_a_body_just_under_the_limit_is_served(project: Api) -> None:
    metadata = {"blob": "x" * 1_000_000}
    response = await project.post(
        {"query": CREATE_USER, "variables": {"input": {"id": "big", "metadata": metadata}}}
    )
    assert response.json() == {"data": {"createUser": {"id": "big"}}}


async def test_a_chunked_body_without_a_length_is_bounded_too(small: Api) -> None:
    before = await state(small)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "mutation { createUser(input: {id: \\"c\\", name: \\"'
        for _ in range(10):
            yield b"y" * 500
        yield b'\\"}) { id } }"}'

    response = await small.http.post(
        "/graphql", content=chunks(), headers={"Authorization": small.key, "Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert "larger than 2048 bytes" in response.json()["errors"][0]["message"]
    assert await state(small) == before


async def test_query_depth_is_limited(small: Api, project: Api) -> None:
    assert messages(await project.post({"query": DEEP})) == []  # within the default depth (12)
    assert messages(await small.post({"query": DEEP})) == ["'anonymous' exceeds maximum operation depth of 2"]
    nested = "{ features " + "{ packages " * 12 + "{ id }" + " }" * 12 + " }"
    assert "'anonymous' exceeds maximum operation depth of 12" in messages(
        await project.post({"query": nested})
    )


async def test_aliases_are_limited(small: Api, project: Api) -> None:
    three = "{ a: features { id } b: features { id } c: features { id } }"
    assert messages(await small.post({"query": three})) == ["3 aliases found. Allowed: 2"]
    many = "{ " + " ".join(f"a{i}: features {{ id }}" for i in range(51)) + " }"
    assert messages(await project.post({"query": many})) == ["51 aliases found. Allowed: 50"]
    fifty = "{ " + " ".join(f"a{i}: features {{ id }}" for i in range(50)) + " }"
    assert messages(await project.post({"query": fifty})) == []


async def test_tokens_are_limited_and_a_refused_mutation_writes_nothing(small: Api, project: Api) -> None:
    before = await state(project)
    names = " ".join(["id"] * 10_001)
    mutation = f'mutation {{ createUser(input: {{id: "tokens"}}) {{ {names} }} }}'
    refused = "Syntax Error: Document contains more than 10000 tokens. Parsing aborted."
    assert messages(await project.post({"query": mutation})) == [refused]
    assert await state(project) == before
    twenty = "{ " + "features { id } " * 20 + "}"
    assert messages(await small.post({"query": twenty})) == [
        "Syntax Error: Document contains more than 60 tokens. Parsing aborted."
    ]


async def test_a_batch_is_a_clear_400(project: Api) -> None:
    before = await state(project)
    batch: list[dict[str, Any]] = [
        {"query": CREATE_USER, "variables": {"input": {"id": "one"}}},
        {"query": CREATE_USER, "variables": {"input": {"id": "two"}}},
    ]
    response = await project.http.post("/graphql", json=batch, headers={"Authorization": project.key})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Batched requests (a JSON array) are not supported: send one operation per request."
    )
    assert await state(project) == before


@pytest.mark.parametrize("path", ["/graphql", "/client/graphql"])
async def test_introspection_stays_on_without_a_key(http: httpx.AsyncClient, path: str) -> None:
    response = await http.post(path, json={"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
