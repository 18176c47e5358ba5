"""What the reliability tests compare: a project's whole state, and one example of every Admin API
mutation (each runs on a project loaded with tests/fixtures/reliability.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

from tests.kana import Api

ROOT = Path(__file__).parents[2]


@cache
def exported_schema(name: str = "schema.graphql") -> GraphQLSchema:
    """The schema exported from the code (tests/test_schema.py keeps the file in step with it)."""
    return build_schema((ROOT / name).read_text(encoding="utf-8"))


def root_fields(kind: str) -> set[str]:
    """The Admin API's query or mutation field names."""
    schema = exported_schema()
    root = schema.query_type if kind == "query" else schema.mutation_type
    assert root is not None
    return set(root.fields)


async def state(api: Api) -> dict[str, Any]:
    """The project's whole state (`GET /_kana/state`: catalog, users, subscriptions, every usage event)."""
    response = await api.control("GET", "/_kana/state")
    assert response.status_code == 200, response.text
    document = response.json()
    assert isinstance(document, dict)
    return document


async def load_project(api: Api) -> None:
    """The reliability fixture (catalog, prices, templates, users), with alice subscribed to starter."""
    await api.seed("reliability.yaml")
    await api.subscribe("alice", "starter")


MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "createFeature": (
        "mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id name type } }",
        {"input": {"id": "new-feature", "type": "BINARY"}},
    ),
    "updateFeature": (
        "mutation($id: String!, $input: UpdateFeatureInput!) { updateFeature(id: $id, input: $input) "
        "{ id name } }",
        {"id": "api-calls", "input": {"name": "Calls"}},
    ),
    "createPackage": (
        "mutation($input: CreatePackageInput!) { createPackage(input: $input) { id status } }",
        {"input": {"id": "new-package", "features": [{"id": "dashboard"}]}},
    ),
    "updatePackage": (
        "mutation($id: String!, $input: UpdatePackageInput!) { updatePackage(id: $id, input: $input) "
        "{ id metadata } }",
        {"id": "starter", "input": {"metadata": {"tier": 1}}},
    ),
    "createUser": (
        "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
        {"input": {"id": "carol"}},
    ),
    "updateUser": (
        "mutation($id: String!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id name } }",
        {"id": "bob", "input": {"id": "bob", "name": "Robert"}},
    ),
    "subscribe": (
        "mutation($u: String!, $p: [String!]!) { subscribe(userId: $u, packageIds: $p) { id status } }",
        {"u": "bob", "p": ["starter"]},
    ),
    "recordUsage": (
        "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }",
        {"input": {"userId": "alice", "featureId": "api-calls", "delta": 7}},
    ),
    "createUsageEvent": (
        "mutation($input: CreateUsageEventInput!) { createUsageEvent(input: $input) }",
        {"input": {"userId": "alice", "featureId": "api-calls", "delta": 3}},
    ),
    "generateUserToken": (
        "mutation($u: String!) { generateUserToken(userId: $u) { token } }",
        {"u": "alice"},
    ),
    "generateSubscriptionLink": (
        "mutation($u: String, $t: String!, $s: String!, $c: String!) { generateSubscriptionLink("
        "userId: $u, templateId: $t, successUrl: $s, cancelUrl: $c) { url } }",
        {"u": "bob", "t": "starter-monthly", "s": "https://app.test/ok", "c": "https://app.test/no"},
    ),
}
"""One working call of every Admin API mutation (a test fails when the schema has one not listed)."""
