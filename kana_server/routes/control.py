"""kana-server's own control plane under `/_kana/` ([X]): health, clock, seed, statuses, packages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kana_server.api.scalars import format_instant
from kana_server.domain.clock import ClockState
from kana_server.domain.errors import InvalidInput, KanaError
from kana_server.domain.model import PackageStatus, SubscriptionStatus
from kana_server.runtime import Runtime, load_config_text
from kana_server.services import Services
from kana_server.services.seeding import seed_digest

STATUS_OF_CODE = {"UNAUTHENTICATED": 401, "NOT_FOUND": 404, "CONFLICT": 409}


def error_response(error: KanaError) -> JSONResponse:
    """A control-plane error: `{"error": {"code", "message"}}` with a 4xx status."""
    status = STATUS_OF_CODE.get(error.code, 400)
    return JSONResponse({"error": {"code": error.code, "message": error.message}}, status_code=status)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body ({} when empty)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object")
    return body


Handler = Callable[[Request, Services], Awaitable[Response]]


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A control route acting on the project of the private key it was called with."""

    async def endpoint(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            services = await runtime.services_for_private_key(request.headers.get("authorization"))
            return await handler(request, services)
        except KanaError as error:
            return error_response(error)

    return endpoint


def clock_json(state: ClockState, services: Services) -> dict[str, Any]:
    """The clock as the control plane reports it."""
    now = state.now(services.project.env.real_clock.now())
    return {
        "now": format_instant(now),
        "frozen": state.frozen_at is not None,
        "offsetSeconds": state.offset.total_seconds(),
        "virtual": state.is_virtual,
    }


async def health(request: Request) -> Response:
    """200 once the database answers (no key needed)."""
    runtime: Runtime = request.app.state.runtime
    try:
        await runtime.db.ping()
    except Exception as exc:  # any database failure means "not healthy"
        return JSONResponse({"status": "error", "detail": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """200 once started: database answering, schema created, seed applied (no key needed)."""
    runtime: Runtime = request.app.state.runtime
    if not runtime.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    return await health(request)


async def get_clock(request: Request, services: Services) -> Response:
    """The project's clock."""
    return JSONResponse(clock_json(services.project.clock_state(), services))


async def post_clock(request: Request, services: Services) -> Response:
    """Move the project's clock: `set` first, then `advance`, then `freeze` (D17)."""
    body = await json_body(request)
    unknown = set(body) - {"set", "advance", "freeze"}
    if unknown:
        raise InvalidInput(f"Unknown clock fields: {', '.join(sorted(unknown))} (use set, advance, freeze)")
    set_to = body.get("set")
    if set_to is not None and not isinstance(set_to, str):
        raise InvalidInput("set must be an ISO-8601 instant string")
    advance = body.get("advance")
    if advance is not None and (isinstance(advance, bool) or not isinstance(advance, int | float | str)):
        raise InvalidInput("advance must be a number of seconds or an ISO-8601 duration")
    freeze = body.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise InvalidInput("freeze must be true or false")
    state = await services.project.change_clock(set_to=set_to, advance=advance, freeze=freeze)
    return JSONResponse(clock_json(state, services))


async def subscription_status(request: Request, services: Services) -> Response:
    """Set a subscription's status, as Kana's Stripe sync would ({"status": "PAST_DUE"})."""
    body = await json_body(request)
    value = body.get("status")
    if not isinstance(value, str) or value not in SubscriptionStatus.__members__:
        raise InvalidInput(f"status must be one of {', '.join(SubscriptionStatus.__members__)}")
    subscription = await services.subscriptions.set_status(
        request.path_params["subscription_id"], SubscriptionStatus(value)
    )
    return JSONResponse(
        {"id": subscription.id, "userId": subscription.user_id, "status": subscription.status.value}
    )


async def seed(request: Request, services: Services) -> Response:
    """Apply a seed (a kana.yaml with kana-server's sections, as YAML or JSON) to this project (D78)."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The seed must be UTF-8 text (YAML or JSON)") from exc
    report = await services.seeding.apply_seed(load_config_text(text, "seed"), seed_digest(text))
    return JSONResponse({"applied": report.applied, "messages": report.messages})


def package_status(status: PackageStatus) -> Handler:
    """Publish or archive a package."""

    async def handler(request: Request, services: Services) -> Response:
        package = await services.catalog.set_package_status(request.path_params["package_id"], status)
        return JSONResponse({"id": package.id, "status": package.status.value})

    return handler


def routes() -> list[Route]:
    """The control plane's routes."""
    return [
        Route("/_kana/health", health, methods=["GET"]),
        Route("/_kana/ready", ready, methods=["GET"]),
        Route("/_kana/clock", authenticated(get_clock), methods=["GET"]),
        Route("/_kana/clock", authenticated(post_clock), methods=["POST"]),
        Route("/_kana/seed", authenticated(seed), methods=["POST"]),
        Route(
            "/_kana/subscriptions/{subscription_id}/status",
            authenticated(subscription_status),
            methods=["POST"],
        ),
        Route(
            "/_kana/packages/{package_id}/publish",
            authenticated(package_status(PackageStatus.PUBLISHED)),
            methods=["POST"],
        ),
        Route(
            "/_kana/packages/{package_id}/archive",
            authenticated(package_status(PackageStatus.ARCHIVED)),
            methods=["POST"],
        ),
    ]
