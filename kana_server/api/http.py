"""GraphQL over HTTP: Strawberry's ASGI view with Kana's transport details.

Kana's own curl examples send `variables` as a JSON-encoded string: both forms are accepted. Responses
are encoded with orjson; errors are formatted the Kana way (api/errors.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import QueryParams
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from kana_server.api.context import KanaContext
from kana_server.api.errors import format_error
from kana_server.api.recording import Recorder
from kana_server.domain.errors import Unauthenticated
from kana_server.settings import Settings

ContextBuilder = Callable[[KanaContext], Awaitable[None]]
"""Authenticates a request and fills the context's principal and services (or its auth_error)."""

EXAMPLE_QUERY = """# kana-server: Kana's Admin API.
# Set your private key in the Headers tab below, e.g. {"Authorization": "prv_test_kana_server_local"}.
query Features {
  features {
    id
    name
    type
    packages { id name status }
  }
}
"""


def decode_variables(value: Any) -> Any:
    """`variables` as an object, also when sent as a JSON-encoded string (Kana's curl examples)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, "The GraphQL operation's `variables` string is not valid JSON.") from exc
    return value


class KanaGraphQLView(GraphQL[KanaContext, None]):
    """Strawberry's ASGI view, with our context, JSON handling, error shape and GraphiQL page."""

    def __init__(
        self,
        schema: BaseSchema,
        settings: Settings,
        build_context: ContextBuilder,
        *,
        ide_headers: dict[str, str],
        example_query: str = EXAMPLE_QUERY,
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if settings.graphiql else None, allow_queries_via_get=True
        )
        self.settings = settings
        self.build_context = build_context
        self.ide_headers = ide_headers
        self.recorder = Recorder(settings)
        self.example_query = example_query

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> KanaContext:
        """Authenticate the request; failures are kept and reported when an operation runs."""
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        context = KanaContext(request=request, response=response, settings=self.settings)
        if request.method == "GET" and "query" not in request.query_params:
            return context  # the GraphiQL page needs no key
        try:
            await self.build_context(context)
        except Unauthenticated as error:
            context.auth_error = error
        return context

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: KanaContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run one operation, then keep it in its project's request ledger (D80)."""
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        runtime = request.app.state.runtime
        self.recorder.record(
            runtime.ledgers,
            runtime.clock,
            context,
            request_data.query,
            request_data.variables,
            request_data.operation_name,
            result,
        )
        return result

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: KanaContext,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """As Strawberry, but a mutation sent with GET is 405 (GraphQL over HTTP; D22)."""
        try:
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, "Mutations are not allowed with GET; send them with POST.") from exc
            raise

    def decode_json(self, data: str | bytes) -> object:
        """orjson, and `variables` given as a string decoded too."""
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise json.JSONDecodeError(str(exc), exc.doc, exc.pos) from exc
        if isinstance(decoded, dict) and "variables" in decoded:
            decoded["variables"] = decode_variables(decoded["variables"])
        elif isinstance(decoded, list):
            for item in decoded:
                if isinstance(item, dict) and "variables" in item:
                    item["variables"] = decode_variables(item["variables"])
        return decoded

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """GET parameters: `variables` and `extensions` are JSON strings by definition."""
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            value = parsed.get(name)
            if isinstance(value, str):
                parsed[name] = decode_variables(value)
        return parsed

    def encode_json(self, data: object) -> bytes:
        """orjson."""
        return orjson.dumps(data)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """`{data, errors}` with Kana-shaped errors."""
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(e) for e in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL, opened on an example query, with the local default key filled in when it is in use."""
        html = self.graphql_ide_html.replace(
            "React.useState(parameters.headers)",
            f"React.useState(parameters.headers || {json.dumps(json.dumps(self.ide_headers, indent=2))})",
        )
        start = html.index("const EXAMPLE_QUERY = `")
        end = html.index("`;", start)
        html = html[:start] + "const EXAMPLE_QUERY = " + json.dumps(self.example_query) + html[end + 1 :]
        return HTMLResponse(html)
