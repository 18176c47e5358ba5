"""Building the Strawberry schemas: Kana's types plus the extensions every request goes through."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES, StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryOptional
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from kana_server.api.errors import log_errors
from kana_server.api.operations import KnownOperation, KnownOperations, introspection_only
from kana_server.api.scalars import JSON, DateTime, JSONValue
from kana_server.settings import Settings


class KanaExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, without its reference cycle (D109).

    graphql-core keeps two of the executor's own bound methods in `async_helpers` (given to resolvers
    through `info`): a cycle, which kept each request's whole object graph (the context, the request,
    the services, the executor's field maps; ~74 objects for canUseFeature) alive until the garbage
    collector's next pass instead of freeing it when the request ends. Here the helpers reach the
    executor through a weak reference: while it runs, it is alive; when it is done, nothing keeps it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        def running() -> KanaExecutionContext:
            alive = executor()
            if alive is None:  # only a per-event copy (subscriptions, which no schema here has) could ask
                raise RuntimeError("the execution this resolver belongs to has finished")
            return alive

        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            return running().gather_async_work(values)

        def track(values: Sequence[Any]) -> None:
            running().track_async_work(values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)
        middleware = self.middleware_manager
        self.plain_leaves = middleware is None or not middleware.middlewares
        """Whether plain leaves may skip the resolver (not when a middleware wraps every resolver)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A plain leaf (an attribute holding a scalar or an enum, D121) is read and coerced at once;
        anything else, and any leaf whose value is not plainly valid, takes graphql-core's whole path,
        which then gives the same answer or the same error it always did."""
        node = field_details_list[0].node
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is not None and self.plain_leaves and not node.arguments:
            leaf = plain_leaf(field_def)
            if leaf is not None:
                name, coerce, nullable = leaf
                value = getattr(source, name, Undefined)
                if value is None:
                    if nullable:
                        return None
                elif not (value is Undefined or isinstance(value, Exception) or self.is_awaitable(value)):
                    try:
                        coerced = coerce(value)
                    except Exception:  # graphql-core's path raises it again, located
                        coerced = None
                    if coerced is not None and coerced is not Undefined:
                        return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


PlainLeaf = tuple[str, Callable[[Any], Any], bool]
"""How to complete a plain leaf: the attribute's name, the type's output coercion, whether null is allowed."""

_PLAIN_LEAF = "kana-plain-leaf"
_NOT_PLAIN = ("", repr, False)


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    """A field Strawberry resolves by reading an attribute (no resolver, extension, permission or
    argument) and whose type is a scalar or an enum (possibly non-null, not a list): how to complete it
    without a resolve info, a resolver call and the generic completion (D121). Worked out once per field
    and kept in the field's extensions."""
    found = field.extensions.get(_PLAIN_LEAF)
    if found is None:
        found = field.extensions[_PLAIN_LEAF] = _plain_leaf_of(field)
    return None if found is _NOT_PLAIN else found


def _plain_leaf_of(field: GraphQLField) -> PlainLeaf:
    definition = field.extensions.get("strawberry-definition")
    if (
        definition is None
        or field.args
        or not getattr(field.resolve, "_is_default", False)
        or getattr(definition, "base_resolver", True) is not None
        or getattr(definition, "default_resolver", None) is not getattr
    ):
        return _NOT_PLAIN
    named = get_nullable_type(field.type)
    if not is_leaf_type(named):
        return _NOT_PLAIN
    return (definition.python_name, named.coerce_output_value, named is field.type)


class KanaSchema(strawberry.Schema):
    """A Strawberry schema that logs only unexpected errors (expected ones are the client's), and runs
    operations it has already prepared without the per-request extension machinery (D106)."""

    def __init__(self, *args: Any, known_operations: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known = KnownOperations(known_operations)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log bugs with their tracebacks; Kana errors and invalid requests are not server problems."""
        log_errors(errors)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """A known operation runs at once (D106); any other takes Strawberry's whole path."""
        known = self.known.get(query, operation_name)
        allowed = (
            DEFAULT_ALLOWED_OPERATION_TYPES if allowed_operation_types is None else allowed_operation_types
        )
        if known is None or known.operation_type not in allowed:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )
        return await self._execute_known(
            known, variable_values, context_value, root_value, operation_name, operation_extensions
        )

    async def _prepare_operation_async(
        self, context: ExecutionContext, extensions_runner: SchemaExtensionsRunner
    ) -> PreExecutionError | None:
        """Strawberry's parsing and validation; a document that passes is remembered (D106)."""
        error = await super()._prepare_operation_async(context, extensions_runner)
        if error is None:
            self.known.remember(context)
        return error

    async def _execute_known(
        self,
        known: KnownOperation,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        """What Strawberry's path does after a successful preparation: the authentication check, then
        graphql-core's execution of the prepared document (no extension here adds middleware or
        results)."""
        refused = authentication_refusal(context_value, known.introspection_only)
        if refused is not None:
            result = refused
        else:
            try:
                result = await await_maybe(
                    self._get_execute_function()(
                        self._schema,
                        known.document,
                        root_value=root_value,
                        variable_values=variable_values,
                        operation_name=operation_name,
                        context_value=context_value,
                        is_awaitable=optimized_is_awaitable,
                        **execution_context_class_kwargs(self.execution_context_class),
                        **self._get_custom_context_kwargs(operation_extensions),
                    )
                )
            except Exception as exc:  # as Strawberry's path: one error in the answer, not a crash
                error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
                result = GraphQLExecutionResult(data=None, errors=[error])
        if result.errors:
            self.process_errors(result.errors)
        return ExecutionResult(data=result.data, errors=result.errors, extensions={})


PLAIN_ARGUMENT_TYPES = (str, int, float, bool)
"""Argument types whose value graphql-core hands over exactly as the resolver takes it."""


def install_plain_resolvers(schema: strawberry.Schema) -> int:
    """Plain resolvers (D124): a field with a resolver of its own, no extension, permission or
    exception handler, and only arguments of a plain scalar type (or null) gets a resolver that calls
    it directly: the same arguments by their Python names, the same `Info`. Strawberry's wrapper
    converts each argument through its type machinery, chains the field extensions and adds a coroutine
    around the resolver's own; for these fields all of that changes nothing. Returns how many fields."""
    converter = schema.schema_converter
    if getattr(converter, "_exception_handler_specs", None):
        return 0
    info_class = schema.config.info_class
    from_argument = schema.config.name_converter.from_argument
    installed = 0
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = field.extensions.get("strawberry-definition")
            resolver = getattr(definition, "base_resolver", None)
            if (
                resolver is None
                or definition.extensions
                or definition.permission_classes
                or resolver.parent_parameter is not None
                or resolver.root_parameter is not None
                or not all(_plain_argument(a) for a in definition.arguments)
            ):
                continue
            names = {from_argument(a): a.python_name for a in definition.arguments}
            field.resolve = _plain_resolver(resolver, definition, names, info_class)
            installed += 1
    return installed


def _plain_argument(argument: Any) -> bool:
    kind = argument.type
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind in PLAIN_ARGUMENT_TYPES and not argument.directives


def _plain_resolver(resolver: Any, definition: Any, names: dict[str, str], info_class: Any) -> Any:
    wants_self = resolver.self_parameter is not None
    info_name = None if resolver.info_parameter is None else resolver.info_parameter.name

    def resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        arguments = {names[name]: value for name, value in kwargs.items()}
        if info_name is not None:
            arguments[info_name] = info_class(_raw_info=info, _field=definition)
        return resolver(source, **arguments) if wants_self else resolver(**arguments)

    return resolve


def authentication_refusal(context: Any, introspection: bool) -> GraphQLExecutionResult | None:
    """The result of an operation refused for want of a valid key: one `Unauthenticated...` error, no
    data (introspection alone needs no key)."""
    error = getattr(context, "auth_error", None)
    if error is None or introspection:
        return None
    return GraphQLExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])


class RequireAuthentication(SchemaExtension):
    """Stops an unauthenticated operation before it runs: one `Unauthenticated...` error, no data."""

    def on_execute(self) -> Iterator[None]:
        """Replace the result with the authentication error when there is one."""
        context = self.execution_context
        refused = authentication_refusal(
            context.context, introspection_only(context.graphql_document, context.operation_name)
        )
        if refused is not None:
            context.result = refused
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
    schema = KanaSchema(
        query=query,
        mutation=mutation,
        known_operations=settings.graphql_cache_size,
        extensions=extensions_for(settings),
        execution_context_class=KanaExecutionContext,
        config=StrawberryConfig(scalar_map={datetime: DateTime, JSON: JSONValue}),
        **kwargs,
    )
    install_plain_resolvers(schema)
    return schema


def admin_schema(settings: Settings) -> KanaSchema:
    """The Admin API schema."""
    from kana_server.api.admin import Mutation, Query

    return build_schema(Query, Mutation, settings)


def client_schema(settings: Settings) -> KanaSchema:
    """The Client (frontend) API schema: exactly Kana's (D40)."""
    from kana_server.api.client import CLIENT_TYPES, ClientQuery

    return build_schema(ClientQuery, None, settings, types=CLIENT_TYPES)
