"""The Idempotency-Key header on the GraphQL endpoints ([X], D90-D92): which requests it applies to, and
the replayed answer."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from strawberry.types import ExecutionResult

from kana_server.domain.errors import KanaError

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"


@lru_cache(maxsize=1024)
def operation_types(query: str) -> dict[str | None, OperationType] | None:
    """The operations of a document by name (None for an anonymous one); None if it does not parse."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return None
    return {
        (d.name.value if d.name else None): d.operation
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def is_mutation(query: str | None, operation_name: str | None) -> bool:
    """Whether the operation the request runs is a mutation (queries ignore the header, D90)."""
    if not query:
        return False
    operations = operation_types(query)
    if not operations:
        return False
    if operation_name is None and len(operations) == 1:
        return next(iter(operations.values())) is OperationType.MUTATION
    return operations.get(operation_name) is OperationType.MUTATION


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key header, if it is a POST that carries one."""
    if request.method != "POST":
        return None
    return request.headers.get(HEADER)


class ReplayedResult(ExecutionResult):
    """The stored answer of an earlier request with the same key, sent again as it was."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(data=body.get("data"), errors=None)
        self.body = body


def error_result(error: KanaError) -> ExecutionResult:
    """A request-level Kana error as a GraphQL result (HTTP 200, `data: null`)."""
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])


def has_internal_error(body: Mapping[str, Any]) -> bool:
    """Whether an answer reports a server fault: such answers are not kept, so a retry runs again."""
    return any(e.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR" for e in body.get("errors", []))


def needs_operation_name(query: str | None, operation_name: str | None) -> bool:
    """A document with several operations and no `operationName`: a request error (GraphQL spec,
    GetOperation), which Strawberry would answer by running the first operation (D93)."""
    if not query or operation_name is not None:
        return False
    operations = operation_types(query)
    return operations is not None and len(operations) > 1
