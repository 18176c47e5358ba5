"""Known operations (D106): documents the schema has already parsed and validated, run again without
Strawberry's per-request extension machinery.

The first time a query text (with its operation name) arrives it goes through Strawberry's whole path:
the parser cache, the token limit, validation with the depth and alias limits, the authentication check.
When that preparation succeeds the parsed document is remembered here; every later request with the
same text goes straight to graphql-core's execution with it. Nothing that preparation decides can
differ between two requests with the same text (the schema and the rules are fixed for the process),
so the answer is the same, at a fraction of the cost: Strawberry builds five extensions and eight hook
contexts per request. Requests whose text is not known yet, and operations not allowed for the request
(a mutation sent with GET), take the whole path.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

Key = tuple[str, str | None]
"""(query text, operation name)."""


@dataclass(frozen=True, slots=True)
class KnownOperation:
    """A document that passed parsing and validation, and what the request path needs to know of it."""

    document: DocumentNode
    operation_type: OperationType
    introspection_only: bool
    """Whether the operation asks only for `__schema`, `__type` or `__typename` (allowed without a key)."""


def selected_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the one named, or the only one (also used on documents not validated
    yet, by the request ledger)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def introspection_only(document: DocumentNode | None, operation_name: str | None) -> bool:
    """Whether the operation run asks only for introspection fields (GraphiQL may, without a key)."""
    operation = None if document is None else selected_operation(document, operation_name)
    if operation is None:
        return False
    return all(
        isinstance(s, FieldNode) and s.name.value.startswith("__") for s in operation.selection_set.selections
    )


class KnownOperations:
    """The documents prepared so far, by (query text, operation name); the least recently used is
    forgotten once `size` are kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        """Requests that ran a known operation."""
        self._known: OrderedDict[Key, KnownOperation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, key: Key) -> bool:
        return key in self._known

    def get(self, query: str | None, operation_name: str | None) -> KnownOperation | None:
        """The prepared document of this text, if it was prepared before."""
        if query is None:
            return None
        key = (query, operation_name)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            self.hits += 1
        return known

    def remember(self, context: ExecutionContext) -> None:
        """Keep the document of an operation whose preparation (parsing, validation) succeeded."""
        document = context.graphql_document
        if context.query is None or document is None:
            return
        name = context._provided_operation_name  # the name the request gave (None: its only operation)
        self._known[(context.query, name)] = KnownOperation(
            document, context.operation_type, introspection_only(document, name)
        )
        while len(self._known) > self.size:
            self._known.popitem(last=False)
