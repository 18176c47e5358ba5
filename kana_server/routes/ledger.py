"""The request ledger's routes ([X]): `GET /_kana/requests` and `GET /_kana/requests/count` (D82)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kana_server.domain.errors import InvalidInput
from kana_server.ledger import Ledger
from kana_server.routes.control import authenticated
from kana_server.runtime import Runtime
from kana_server.services import Services

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100


def query_params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, refusing unknown ones (a typo such as `userId=` must not match everything)."""
    params = dict(request.query_params)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InvalidInput(f"Unknown parameters: {', '.join(unknown)} (use {', '.join(allowed)})")
    return params


def whole_number(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {number}")
    return number


def ledger_of(request: Request, services: Services) -> Ledger:
    """The ledger of the calling project (in this process: D80)."""
    runtime: Runtime = request.app.state.runtime
    return runtime.ledgers.for_reading(services.project.project.id)


async def list_requests(request: Request, services: Services) -> Response:
    """The project's newest GraphQL requests, filtered by root field (`operation`) and `user`."""
    params = query_params(request, ("operation", "user", "limit", "after"))
    ledger = ledger_of(request, services)
    entries = ledger.select(
        operation=params.get("operation") or None,
        user=params.get("user") or None,
        after=whole_number(params, "after", 0, 0, 2**62),
        limit=whole_number(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
    )
    return JSONResponse(
        {
            "requests": [entry.to_json() for entry in entries],
            "kept": len(ledger),
            "capacity": ledger.capacity,
            "recorded": ledger.recorded,
        }
    )


async def count_requests(request: Request, services: Services) -> Response:
    """How many of the kept requests call a root field (`operation`) for a `user`."""
    params = query_params(request, ("operation", "user"))
    count = ledger_of(request, services).count(
        operation=params.get("operation") or None, user=params.get("user") or None
    )
    return JSONResponse({"count": count})


def routes() -> list[Route]:
    """The ledger's routes."""
    return [
        Route("/_kana/requests", authenticated(list_requests), methods=["GET"]),
        Route("/_kana/requests/count", authenticated(count_requests), methods=["GET"]),
    ]
