"""From one GraphQL execution to one request-ledger entry: the GraphQL view calls `Recorder.record`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from time import perf_counter
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped
from strawberry.types import ExecutionResult

from kana_server.api.context import KanaContext
from kana_server.api.errors import classify
from kana_server.api.operations import selected_operation
from kana_server.clock import Clock
from kana_server.domain.clock import truncate_ms
from kana_server.ledger import LedgerEntry, Ledgers, summarize_result
from kana_server.settings import Settings

USER_ID_ARGUMENT = "userId"
USER_ID_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "user": (("id",),),
    "users": (("id",),),
    "createUser": (("input", "id"),),
    "updateUser": (("id",), ("input", "id")),
}
"""Root fields whose `id` names a user, besides every `userId` argument or input field (D82)."""
MAX_FIELDS = 2000
"""Fields searched for `userId` arguments in one document (a fragment cycle must not loop for ever)."""


def _user_ids_in(value: Any, found: set[str]) -> None:
    """Every `userId` inside an argument's value (input objects and lists included)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == USER_ID_ARGUMENT and isinstance(item, str):
                found.add(item)
            else:
                _user_ids_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _user_ids_in(item, found)


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What the ledger keeps of a GraphQL document: the operation, its root fields, fields with arguments."""

    operation_type: str | None
    operation_name: str | None
    root_fields: tuple[str, ...]
    roots: tuple[FieldNode, ...] = ()
    with_arguments: tuple[FieldNode, ...] = ()  # every field, at any depth, that has arguments

    def user_ids(self, variables: Any) -> set[str]:
        """The users the operation's arguments name, at any depth, literals and variables alike (D82)."""
        values = variables if isinstance(variables, dict) else {}
        found: set[str] = set()
        for node in self.with_arguments:
            arguments = {a.name.value: value_from_ast_untyped(a.value, values) for a in node.arguments or ()}
            _user_ids_in(arguments, found)
            if any(node is root for root in self.roots):
                for path in USER_ID_PATHS.get(node.name.value, ()):
                    value: Any = arguments
                    for step in path:
                        value = value.get(step) if isinstance(value, dict) else None
                    if isinstance(value, str):
                        found.add(value)
        return found


def _fields(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], expanded: set[str]
) -> Iterator[FieldNode]:
    """The fields of a selection set, through fragment spreads (each expanded once) and inline fragments."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, expanded)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in expanded:
                expanded.add(name)
                yield from _fields(fragment.selection_set, fragments, expanded)


def _all_fields(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """Every field of a selection set at any depth, within a bound (documents are not validated yet)."""
    found: list[FieldNode] = []
    pending = [selections]
    while pending and len(found) < MAX_FIELDS:
        for node in _fields(pending.pop(), fragments, set()):
            found.append(node)
            if node.selection_set is not None:
                pending.append(node.selection_set)
            if len(found) >= MAX_FIELDS:
                break
    return found


def summarize_document(query: str | None, operation_name: str | None, max_tokens: int) -> DocumentSummary:
    """The operation type, name and root fields of a request (empty when it does not parse)."""
    if not query:
        return DocumentSummary(None, operation_name, ())
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return DocumentSummary(None, operation_name, ())
    operation = selected_operation(document, operation_name)
    if operation is None:
        return DocumentSummary(None, operation_name, ())
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    roots = tuple(_fields(operation.selection_set, fragments, set()))
    return DocumentSummary(
        operation.operation.value,
        operation.name.value if operation.name else operation_name,
        tuple(dict.fromkeys(f.name.value for f in roots)),
        roots,
        tuple(f for f in _all_fields(operation.selection_set, fragments) if f.arguments),
    )


def error_summary(result: ExecutionResult) -> list[dict[str, Any]]:
    """The errors as the client saw them (code and message), without keeping the exceptions."""
    summaries: list[dict[str, Any]] = []
    for error in result.errors or ():
        code, name, message = classify(error)
        summaries.append({"message": message, "code": code, "name": name, "path": error.path})
    return summaries


class Recorder:
    """Turns executed GraphQL requests into ledger entries (cheap: the hot path goes through here)."""

    def __init__(self, settings: Settings) -> None:
        max_tokens = settings.max_query_tokens
        cached = lru_cache(maxsize=settings.graphql_cache_size)(summarize_document)
        self.summarize: Callable[[str | None, str | None], DocumentSummary] = lambda query, name: cached(
            query, name, max_tokens
        )

    def record(
        self,
        ledgers: Ledgers,
        clock: Clock,
        context: KanaContext,
        query: str | None,
        variables: Any,
        operation_name: str | None,
        result: ExecutionResult,
    ) -> None:
        """Add the request to its project's ledger (requests that resolved no project are not kept)."""
        principal = context.principal
        if principal is None or not ledgers.enabled:
            return
        # Durations come from a monotonic counter; instants only from the Clock.
        duration = perf_counter() - context.started
        data, size, shape = summarize_result(result.data)
        ledgers.for_recording(principal.project.id).append(
            LedgerEntry(
                at=truncate_ms(clock.now() - timedelta(seconds=duration)),
                project=principal.project,
                endpoint=context.request.scope["path"],
                key_kind=principal.kind.value,
                principal_user=principal.user_id,
                summary=self.summarize(query, operation_name),
                query=query,
                variables=variables,
                duration_ms=duration * 1000,
                result=data,
                result_bytes=size,
                result_shape=shape,
                errors=error_summary(result) if result.errors else [],
                traces=context.traces,
            )
        )
