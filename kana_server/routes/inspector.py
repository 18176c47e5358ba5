"""The web inspector ([X]): the page at `/_kana/ui`, its static files, and the JSON it reads.

The page is a server-rendered shell; its script asks for the private key, keeps it in the browser's
session storage, and reads the project through the JSON routes below and `/_kana/requests` (control
routes, so looking at a project never adds to its request ledger). Everything is local: no CDN (D84).
"""

from __future__ import annotations

import html
from importlib import resources
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from kana_server import __version__
from kana_server.api.scalars import format_instant
from kana_server.domain.entitlements import Decision
from kana_server.domain.model import Feature, Package, User, Window
from kana_server.redaction import mask
from kana_server.routes.control import authenticated
from kana_server.routes.ledger import query_params
from kana_server.runtime import Runtime
from kana_server.services import Services
from kana_server.settings import DEFAULT_PRIVATE_KEY

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""The page runs only its own script and style: even a value that escaped escaping could not run."""


def _window(window: Window | None) -> dict[str, str] | None:
    return (
        None if window is None else {"start": format_instant(window.start), "end": format_instant(window.end)}
    )


def _user(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "billingId": user.billing_id}


def _feature(feature: Feature) -> dict[str, Any]:
    return {
        "id": feature.id,
        "name": feature.name,
        "type": feature.type.value,
        "unitLabel": feature.unit_label,
        "unitLabelPlural": feature.unit_label_plural,
    }


def _package(package: Package) -> dict[str, Any]:
    return {
        "id": package.id,
        "name": package.name,
        "status": package.status.value,
        "isAddon": package.is_addon,
        "basePackages": sorted(package.base_packages),
        "features": [
            {
                "id": f.feature_id,
                "limit": f.limit,
                "resetPeriod": f.reset_period,
                "overageEnabled": f.overage_enabled,
            }
            for f in package.features
        ],
    }


def _decision(feature: Feature, decision: Decision) -> dict[str, Any]:
    consumption = decision.consumption
    winner = decision.winner
    return {
        **_feature(feature),
        "access": decision.access,
        "reason": decision.reason,
        "rule": decision.rule,
        "used": consumption.used if consumption else None,
        "budget": consumption.budget if consumption else None,
        "overageEnabled": consumption.overage_enabled if consumption else None,
        "period": _window(decision.window),
        "winner": None
        if winner is None
        else {"subscriptionId": winner.subscription.id, "packageId": winner.package.id},
    }


async def overview(request: Request, services: Services) -> Response:
    """The project at a glance: name, clock, features, packages, users."""
    found = await services.inspector.overview()
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(
        {
            "project": {
                "name": mask(found.project.name),
                "now": format_instant(found.now),
                "clock": {
                    "virtual": found.clock.is_virtual,
                    "frozen": found.clock.frozen_at is not None,
                    "offsetSeconds": found.clock.offset.total_seconds(),
                },
            },
            "features": [_feature(f) for f in found.catalog.features.values()],
            "packages": [_package(p) for p in found.catalog.packages.values()],
            "users": [_user(u) for u in found.users],
            "usersTotal": found.users_total,
            "ledger": {"capacity": runtime.ledgers.capacity, "enabled": runtime.ledgers.enabled},
        }
    )


async def user_usage(request: Request, services: Services) -> Response:
    """One user: subscriptions, and per feature access, used/budget and the current period."""
    params = query_params(request, ("id",))
    found = await services.inspector.user_usage(params.get("id", ""))
    return JSONResponse(
        {
            "user": _user(found.user),
            "now": format_instant(found.now),
            "subscriptions": [
                {
                    "id": s.id,
                    "packageId": s.package_id,
                    "packageName": package.name if package else s.package_id,
                    "isAddon": package.is_addon if package else False,
                    "status": s.status.value,
                    "live": s.is_live,
                    "startedAt": format_instant(s.started_at),
                }
                for s, package in found.subscriptions
            ],
            "features": [_decision(f, d) for f, d in found.features],
        }
    )


async def usage_history(request: Request, services: Services) -> Response:
    """A user's usage of one feature over time (the newest events), for the chart."""
    params = query_params(request, ("user", "feature"))
    found = await services.inspector.usage_history(params.get("user", ""), params.get("feature", ""))
    current = found.current
    return JSONResponse(
        {
            "userId": found.user.id,
            "feature": _feature(found.feature),
            "now": format_instant(found.now),
            "points": [
                {
                    "at": format_instant(p.at),
                    "action": p.action.value,
                    "delta": p.delta,
                    "usedAfter": p.used_after,
                    "subscriptionId": p.subscription_id,
                    "packageId": p.package_id,
                    "period": _window(p.window),
                    "budget": p.budget,
                }
                for p in found.points
            ],
            "current": None if current is None else _decision(found.feature, current),
        }
    )


def page(settings_key: str) -> str:
    """The page's HTML (the shell; the script fills it in once a key is entered)."""
    template = Template(
        resources.files("kana_server").joinpath("templates/inspector.html").read_text("utf-8")
    )
    hint = ""
    if settings_key == DEFAULT_PRIVATE_KEY:
        hint = f"The local default project's key is <code>{html.escape(DEFAULT_PRIVATE_KEY)}</code>."
    return template.substitute(version=html.escape(__version__), key_hint=hint)


def routes(private_key: str) -> list[BaseRoute]:
    """The inspector page, its files, and its JSON routes."""
    text = page(private_key)

    async def ui(request: Request) -> Response:
        return HTMLResponse(text, headers=PAGE_HEADERS)

    return [
        Route("/_kana/ui", ui, methods=["GET"]),
        Mount("/_kana/static", app=StaticFiles(packages=[("kana_server", "static")]), name="kana-static"),
        Route("/_kana/inspector/overview", authenticated(overview), methods=["GET"]),
        Route("/_kana/inspector/user", authenticated(user_usage), methods=["GET"]),
        Route("/_kana/inspector/usage", authenticated(usage_history), methods=["GET"]),
    ]
