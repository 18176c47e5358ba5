"""The Kana CLI's routes: `POST /cli/validate`, `POST /cli/publish`, `GET /cli/pull` (spec §7).

The CLI sends `Authorization: <private key>` and the parsed kana.yaml as JSON. Validate answers
`{"data": [messages]}` (empty: up to date); publish answers the catalog after publishing, or 409 with
`{"data": [messages]}` when a message is an `[ERROR]`; pull answers the catalog. A request the server
cannot take (no key, a body that is not a config) answers `{"data": ["[ERROR] ..."]}` with a 4xx
status: the CLI prints validate's messages whatever the status (D51).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kana_server.domain.config import ConfigError, KanaConfig, parse_config
from kana_server.domain.errors import InvalidInput, KanaError
from kana_server.domain.publish import ERROR
from kana_server.routes.control import STATUS_OF_CODE, Handler, authenticated
from kana_server.services import Services


def cli_error(error: KanaError) -> JSONResponse:
    """An error as the CLI prints it: `{"data": ["[ERROR] ..."]}`, one line per problem."""
    if isinstance(error, ConfigError):
        lines = [f"{ERROR} {problem}" for problem in error.problems]
    else:
        lines = [f"{ERROR} {error.message}"]
    return JSONResponse({"data": lines}, status_code=STATUS_OF_CODE.get(error.code, 400))


async def config_body(request: Request) -> KanaConfig:
    """The request's body as a kana.yaml config (the CLI sends the parsed file as JSON)."""
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not a kana.yaml config in JSON: {exc}") from exc
    return parse_config(data, "body")


def cli_route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A CLI route acting on the project of the private key it was called with."""
    return authenticated(handler, cli_error)


async def validate(request: Request, services: Services) -> Response:
    """The diff between the file and the server: `{"data": [messages]}`."""
    config = await config_body(request)
    notes = await services.catalog.validate_config(config)
    return JSONResponse({"data": [note.text for note in notes]})


async def publish(request: Request, services: Services) -> Response:
    """Apply the file in one transaction (or nothing: 409 with the messages); answer the new catalog."""
    config = await config_body(request)
    outcome = await services.catalog.publish_config(config)
    if outcome.document is None:
        return JSONResponse({"data": outcome.messages}, status_code=409)
    return JSONResponse(outcome.document)


async def pull(request: Request, services: Services) -> Response:
    """The server's catalog in the CLI's format."""
    return JSONResponse(await services.catalog.pull_config())


def routes() -> list[Route]:
    """The Kana CLI's routes."""
    return [
        Route("/cli/validate", cli_route(validate), methods=["POST"]),
        Route("/cli/publish", cli_route(publish), methods=["POST"]),
        Route("/cli/pull", cli_route(pull), methods=["GET"]),
    ]
