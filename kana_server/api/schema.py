"""Building the Strawberry schemas: Kana's types plus the extensions every request goes through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from kana_server.api.errors import log_errors
from kana_server.api.scalars import DateTime
from kana_server.settings import Settings


class KanaSchema(strawberry.Schema):
    """A Strawberry schema that logs only unexpected errors (expected ones are the client's)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log bugs with their tracebacks; Kana errors and invalid requests are not server problems."""
        log_errors(errors)


def _introspection_only(context: ExecutionContext) -> bool:
    """Whether the operation asks only for `__schema`/`__type`/`__typename` (GraphiQL may, without a key)."""
    document = context.graphql_document
    if document is None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if context.operation_name:
        operations = [o for o in operations if o.name and o.name.value == context.operation_name]
    if len(operations) != 1:
        return False
    return all(
        isinstance(s, FieldNode) and s.name.value.startswith("__")
        for s in operations[0].selection_set.selections
    )


class RequireAuthentication(SchemaExtension):
    """Stops an unauthenticated operation before it runs: one `Unauthenticated...` error, no data."""

    def on_execute(self) -> Iterator[None]:
        """Replace the result with the authentication error when there is one."""
        context = self.execution_context
        error = getattr(context.context, "auth_error", None)
        if error is not None and not _introspection_only(context):
            context.result = GraphQLExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        yield


def extensions_for(settings: Settings) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    """The extensions of both schemas: caches (measured 4x), limits, authentication."""
    # The limiters' validation rules are classes made per limiter instance; the validation cache keys on
    # them, so they are made once here: a limiter made per request would make every request a cache miss.
    limits = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_query_aliases).validation_rules,
    ]
    return [
        lambda: ParserCache(maxsize=settings.graphql_cache_size),
        lambda: ValidationCache(maxsize=settings.graphql_cache_size),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: AddValidationRules(limits),
        RequireAuthentication,
    ]


def build_schema(query: type, mutation: type | None, settings: Settings, **kwargs: Any) -> KanaSchema:
    """A schema with Kana's DateTime format and our extensions."""
    return KanaSchema(
        query=query,
        mutation=mutation,
        extensions=extensions_for(settings),
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        **kwargs,
    )


def admin_schema(settings: Settings) -> KanaSchema:
    """The Admin API schema."""
    from kana_server.api.admin import Mutation, Query

    return build_schema(Query, Mutation, settings)


def client_schema(settings: Settings) -> KanaSchema:
    """The Client (frontend) API schema: exactly Kana's (D40)."""
    from kana_server.api.client import CLIENT_TYPES, ClientQuery

    return build_schema(ClientQuery, None, settings, types=CLIENT_TYPES)
