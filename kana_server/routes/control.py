"""kana-server's own control plane under `/_kana/` ([X]): health, clock, seed, statuses, packages,
reset, state (export/import) and snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kana_server.config_files import render_document
from kana_server.domain.clock import ClockState, format_instant
from kana_server.domain.config import parse_config
from kana_server.domain.errors import InvalidInput, KanaError
from kana_server.domain.model import PackageStatus, SubscriptionStatus
from kana_server.runtime import Runtime, load_config_text
from kana_server.services import Services
from kana_server.services.seeding import SeedFile, seed_digest
from kana_server.store.state import SnapshotInfo

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


def authenticated(
    handler: Handler, errors: Callable[[KanaError], Response] = error_response
) -> Callable[[Request], Awaitable[Response]]:
    """A route acting on the project of the private key it was called with; Kana errors are answered
    in the route family's shape (the control plane's by default)."""

    async def endpoint(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            services = await runtime.services_for_private_key(request.headers.get("authorization"))
            return await handler(request, services)
        except KanaError as error:
            return errors(error)

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
    report = await services.seeding.apply_seed(
        SeedFile(load_config_text(text, "seed"), seed_digest(text), "seed")
    )
    return JSONResponse({"applied": report.applied, "messages": report.messages})


def package_status(status: PackageStatus) -> Handler:
    """Publish or archive a package."""

    async def handler(request: Request, services: Services) -> Response:
        package = await services.catalog.set_package_status(request.path_params["package_id"], status)
        return JSONResponse({"id": package.id, "status": package.status.value})

    return handler


async def reset(request: Request, services: Services) -> Response:
    """Empty the project (`{"reseed": true}`: then apply the server's startup seed again, D56)."""
    body = await json_body(request)
    unknown = set(body) - {"reseed"}
    if unknown:
        raise InvalidInput(f"Unknown reset fields: {', '.join(sorted(unknown))} (use reseed)")
    reseed = body.get("reseed", False)
    if not isinstance(reseed, bool):
        raise InvalidInput("reseed must be true or false")
    runtime: Runtime = request.app.state.runtime
    messages = await services.project.reset(reseed=reseed, seed=runtime.startup_seed)
    runtime.ledgers.forget(services.project.project.id)  # a reset project starts with an empty ledger
    return JSONResponse({"reset": True, "reseeded": reseed, "messages": messages})


async def get_state(request: Request, services: Services) -> Response:
    """The project's export document: JSON, or YAML with `?format=yaml`."""
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "yaml"):
        raise InvalidInput("format must be json or yaml")
    document = await services.project_state.export_document()
    return Response(render_document(document, fmt), media_type=f"application/{fmt}")


async def put_state(request: Request, services: Services) -> Response:
    """Replace the project's state with an export document (JSON body), all or nothing."""
    config = parse_config(await json_body(request), "body")
    report = await services.project_state.import_state(config, replace=True, source="body")
    return JSONResponse({"imported": report.as_dict()})


def snapshot_json(info: SnapshotInfo) -> dict[str, Any]:
    """A snapshot as the control plane reports it."""
    return {
        "name": info.name,
        "createdAt": format_instant(info.created_at),
        "counts": info.counts,
        "size": info.size,
    }


async def list_snapshots(request: Request, services: Services) -> Response:
    """The project's snapshots, oldest first."""
    return JSONResponse({"snapshots": [snapshot_json(i) for i in await services.project_state.snapshots()]})


async def save_snapshot(request: Request, services: Services) -> Response:
    """Save the project's state under a name (a snapshot of that name is replaced)."""
    info = await services.project_state.save_snapshot(request.path_params["name"])
    return JSONResponse(snapshot_json(info))


async def restore_snapshot(request: Request, services: Services) -> Response:
    """Replace the project's state with a snapshot's."""
    info = await services.project_state.restore_snapshot(request.path_params["name"])
    return JSONResponse({"restored": snapshot_json(info)})


async def delete_snapshot(request: Request, services: Services) -> Response:
    """Delete a snapshot."""
    name = request.path_params["name"]
    await services.project_state.delete_snapshot(name)
    return JSONResponse({"deleted": name})


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
        Route("/_kana/reset", authenticated(reset), methods=["POST"]),
        Route("/_kana/state", authenticated(get_state), methods=["GET"]),
        Route("/_kana/state", authenticated(put_state), methods=["PUT"]),
        Route("/_kana/snapshots", authenticated(list_snapshots), methods=["GET"]),
        Route("/_kana/snapshots/{name}", authenticated(save_snapshot), methods=["POST"]),
        Route("/_kana/snapshots/{name}", authenticated(delete_snapshot), methods=["DELETE"]),
        Route("/_kana/snapshots/{name}/restore", authenticated(restore_snapshot), methods=["POST"]),
    ]
