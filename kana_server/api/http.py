"""GraphQL over HTTP: Strawberry's ASGI view with Kana's transport details.

Kana's own curl examples send `variables` as a JSON-encoded string: both forms are accepted. Responses
are encoded with orjson; errors are formatted the Kana way (api/errors.py). Requests that are not GraphQL
at all get a GraphQL-over-HTTP status (400, 405, 413, 415) with a Kana-shaped JSON error (D93); bodies
are bounded (D94); mutations may carry an Idempotency-Key (D90-D92).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.types import QueryParams
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from kana_server.api.context import KanaContext
from kana_server.api.errors import VALIDATION_CODE, VALIDATION_NAME, format_error
from kana_server.api.idempotency import (
    REPLAYED_HEADER,
    ReplayedResult,
    error_result,
    has_internal_error,
    idempotency_key,
    is_mutation,
    needs_operation_name,
)
from kana_server.api.recording import Recorder
from kana_server.api.schema import KanaSchema
from kana_server.domain.errors import InvalidInput, KanaError, Unauthenticated
from kana_server.domain.idempotency import check_key, fingerprint
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


@lru_cache(maxsize=64)
def media_type(content_type: str) -> str:
    """The media type of a Content-Type header (clients send few distinct ones: parsed once each)."""
    return parse_content_type(content_type)[0]


def transport_error(status: int, message: str) -> Response:
    """A request that is not GraphQL at all: its GraphQL-over-HTTP status with a Kana-shaped error (D93)."""
    error = {
        "message": message,
        "extensions": {"code": VALIDATION_CODE, "exception": {"name": VALIDATION_NAME, "message": message}},
    }
    headers = {"Allow": "GET, POST"} if status == 405 else None
    return Response(orjson.dumps({"errors": [error]}), status, headers, media_type="application/json")


def limit_body(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, failing with 413 once the body passes `max_bytes` (also without a Content-Length)."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise HTTPException(413, too_large(max_bytes))
        return message

    return limited


def too_large(max_bytes: int) -> str:
    """The message of a body over the limit."""
    return f"The request body is larger than {max_bytes} bytes (KANA_MAX_BODY_BYTES)."


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry, with a bounded body (D94) and Kana-shaped transport errors (D93)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        request = Request(scope, receive=limit_body(receive, limit))
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        try:
            if length > limit:
                raise HTTPException(413, too_large(limit))
            response = await self.run_known(request) or await self.run(request)
        except HTTPException as exc:
            response = transport_error(exc.status_code, exc.reason)
        except ClientDisconnect:
            return  # the client left before its request arrived whole: there is no one to answer
        await response(scope, receive, send)

    async def run_known(self, request: Request) -> Response | None:
        """A plain JSON POST of a known operation (D106), run without the parts of Strawberry's `run` that
        it does not need (WebSocket and GraphiQL checks, streaming transports, a second Content-Type
        parse), D108. None for anything else, which takes Strawberry's whole path: the first request of
        a text, an Idempotency-Key, a streaming Accept, a body of another shape."""
        headers = request.headers
        if request.method != "POST" or idempotency_key(request) is not None:
            return None
        if "application/json" not in media_type(headers.get("content-type", "")):
            return None
        accept = headers.get("accept", "")
        if "multipart" in accept or "event-stream" in accept:
            return None
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        query, name = data.get("query"), data.get("operationName")
        if not isinstance(query, str) or not isinstance(name, str | None):
            return None
        if not isinstance(self.schema, KanaSchema) or (query, name) not in self.schema.known:
            return None
        variables, extensions = decode_variables(data.get("variables")), data.get("extensions")
        if not isinstance(variables, dict | None) or not isinstance(extensions, dict | None):
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        request_data = GraphQLRequestData(
            query=query, variables=variables, operation_name=name, extensions=extensions, protocol="http"
        )
        result = await self.execute_single(
            request, self.request_adapter_class(request), sub_response, context, None, request_data
        )
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

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
        """Run one operation (at most once per Idempotency-Key, D92), then keep it in its project's request
        ledger (D80)."""
        key = idempotency_key(request)
        if needs_operation_name(request_data.query, request_data.operation_name):
            result = error_result(
                InvalidInput("Must provide operation name if query contains multiple operations.")
            )
        elif (
            key is not None
            and context._services is not None
            and is_mutation(request_data.query, request_data.operation_name)
        ):
            result = await self.execute_idempotent(
                key, request, request_adapter, sub_response, context, request_data
            )
        else:
            result = await self.execute_plain(request, request_adapter, sub_response, context, request_data)
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

    async def execute_plain(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: KanaContext,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's execution of one operation."""
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=None,
            request_data=request_data,
        )

    async def execute_idempotent(
        self,
        key: str,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: KanaContext,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """A mutation sent with an Idempotency-Key: the stored answer of its first use, or run it once,
        claiming the key with its writes, and keep its answer (D90-D92)."""
        service = context.services.idempotency
        retention = timedelta(seconds=self.settings.idempotency_ttl_seconds)
        try:
            check_key(key)
            request_fingerprint = fingerprint(
                request_data.query, request_data.variables, request_data.operation_name
            )
            prior = await service.prior_answer(key, request_fingerprint, retention)
            if prior is not None:
                return replay(prior, sub_response)
            result = await self.execute_plain(request, request_adapter, sub_response, context, request_data)
            claim = context.services.state.idempotency
            assert claim is not None
            if not claim.lost:
                body = await self.process_result(request, result)
                if not claim.committed and has_internal_error(body):
                    return result  # nothing was written: a retry may run it again
                if await service.keep_answer(claim, orjson.dumps(body)):
                    return result
            # Another request with this key ran first: its answer is this request's answer.
            prior = await service.prior_answer(key, request_fingerprint, retention)
            return result if prior is None else replay(prior, sub_response)
        except KanaError as error:
            return error_result(error)

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

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        """As Strawberry, but a POST that is not JSON is 415 Unsupported Media Type (D93)."""
        if request.method == "POST" and "application/json" not in media_type(request.content_type or ""):
            raise HTTPException(
                415, "Send GraphQL requests as JSON, with the header Content-Type: application/json."
            )
        return await super().parse_http_body(request)

    def decode_json(self, data: str | bytes) -> object:
        """orjson, and `variables` given as a string decoded too. The body must be one JSON object:
        batches (a JSON array) are not supported (D95)."""
        try:
            decoded = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise json.JSONDecodeError(str(exc), exc.doc, exc.pos) from exc
        if isinstance(decoded, list):
            raise HTTPException(
                400, "Batched requests (a JSON array) are not supported: send one operation per request."
            )
        if not isinstance(decoded, dict):
            raise HTTPException(
                400, 'The request body must be a JSON object such as {"query": "...", "variables": {...}}.'
            )
        if "variables" in decoded:
            decoded["variables"] = decode_variables(decoded["variables"])
        if not isinstance(decoded.get("operationName"), str | None):
            raise HTTPException(
                400, "The GraphQL operation's `operationName` must be a string or null, if provided."
            )
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
        """`{data, errors}` with Kana-shaped errors (a replayed answer as it was stored)."""
        if isinstance(result, ReplayedResult):
            return result.body  # type: ignore[return-value]
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


def replay(stored: bytes, sub_response: Response) -> ReplayedResult:
    """An earlier answer, sent again with `Idempotent-Replayed: true` (D91)."""
    sub_response.headers[REPLAYED_HEADER] = "true"
    return ReplayedResult(orjson.loads(stored))
