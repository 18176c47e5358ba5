"""The checkout behind subscription links ([X] `/_kana/checkout/...`): an HTML page that works without
JavaScript, and the same actions as JSON for tests. No key: the session id in the URL is the secret (D70)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kana_server.domain.checkout import CheckoutStatus, describe_price, price_amount
from kana_server.domain.errors import InvalidInput, KanaError
from kana_server.domain.model import Feature, FeatureType, PackageFeature, Subscription
from kana_server.routes.control import STATUS_OF_CODE, error_response, json_body
from kana_server.runtime import Runtime
from kana_server.services import Services
from kana_server.services.billing import CHECKOUT_PATH, CheckoutView

MAX_FORM_BYTES = 16 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"

PAGE_HEADERS = {
    # No scripts at all; the session id must not leak to the success site through Referer (D75).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

CLOSED_TITLES = {
    CheckoutStatus.PAID: "This checkout is already paid",
    CheckoutStatus.CANCELLED: "This checkout was cancelled",
    CheckoutStatus.EXPIRED: "This checkout link has expired",
}


def readable_instant(instant: datetime) -> str:
    """An instant as people read it: "26 Nov 2026, 09:47 UTC"."""
    return instant.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def feature_line(feature: Feature, entitlement: PackageFeature) -> str:
    """One line of the page's "Includes" list, e.g. "API Calls: 1,000 API Calls per month"."""
    if feature.type is FeatureType.BINARY:
        return feature.name
    if entitlement.limit is None:
        amount = "unlimited"
    else:
        amount = f"{entitlement.limit:,} {feature.unit_label_plural or ''}".rstrip()
    period = f" per {entitlement.reset_period.value.lower()}" if entitlement.reset_period else ""
    return f"{feature.name}: {amount}{period}"


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    """A subscription as subscribe's usual selection shows it."""
    return {
        "id": subscription.id,
        "userId": subscription.user_id,
        "status": subscription.status.value,
        "package": {"id": subscription.package_id},
    }


class CheckoutPages:
    """Renders the checkout pages (Jinja2, every value escaped)."""

    def __init__(self) -> None:
        self.templates = Environment(
            loader=PackageLoader("kana_server", "templates"), autoescape=True, undefined=StrictUndefined
        )

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """An HTML page with the checkout's security headers."""
        html = self.templates.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def checkout(self, view: CheckoutView) -> HTMLResponse:
        """The page with Pay and Cancel, or a message when the session is closed."""
        session = view.session
        if view.status is not CheckoutStatus.OPEN:
            lines = []
            link = None
            if view.status is CheckoutStatus.PAID:
                link = {"href": session.success_redirect(), "text": "Continue"}
            elif view.status is CheckoutStatus.EXPIRED:
                lines.append(f"It expired on {readable_instant(session.expires_at)}. Ask for a new link.")
            return self.message(CLOSED_TITLES[view.status], 409, lines=lines, link=link)
        return self.render(
            "checkout.html",
            package=view.package,
            price=view.price,
            price_text=describe_price(view.price),
            pay_text=f"Pay {price_amount(view.price)}" if view.price else "Pay",
            user=view.user,
            features=[feature_line(feature, entitlement) for feature, entitlement in view.features],
            expires_at=readable_instant(session.expires_at),
        )

    def message(
        self,
        title: str,
        status: int,
        *,
        error: str | None = None,
        lines: list[str] | None = None,
        link: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """A page that only says something (closed session, unknown link, failed payment)."""
        return self.render(
            "checkout_message.html", status, title=title, error=error, lines=lines or [], link=link
        )

    def error(self, error: KanaError, session_id: str) -> HTMLResponse:
        """A failed request as a page: the error, and the way back to the checkout when it still exists."""
        status = STATUS_OF_CODE.get(error.code, 400)
        if status == 404:
            return self.message("This checkout link is not valid", status, error=error.message)
        link = {"href": CHECKOUT_PATH + session_id, "text": "Back to the checkout"}
        return self.message("The checkout did not go through", status, error=error.message, link=link)


Handler = Callable[[Request, Services, str], Awaitable[Response]]


async def _services(request: Request, session_id: str) -> Services:
    runtime: Runtime = request.app.state.runtime
    return await runtime.services_for_checkout(session_id)


def page_route(pages: CheckoutPages, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A browser route: errors become HTML pages."""

    async def endpoint(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            return await handler(request, await _services(request, session_id), session_id)
        except KanaError as error:
            return pages.error(error, session_id)

    return endpoint


def json_route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A route for programs (D76): errors are `{"error": {"code", "message"}}` with a 4xx status."""

    async def endpoint(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        try:
            return await handler(request, await _services(request, session_id), session_id)
        except KanaError as error:
            return error_response(error)

    return endpoint


async def form_fields(request: Request) -> dict[str, str]:
    """The checkout form's fields (application/x-www-form-urlencoded, small)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise InvalidInput(
            f"The checkout form is sent as {FORM_TYPE}; programs POST JSON to .../pay or .../cancel"
        )
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("The checkout form is too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("The checkout form could not be read") from exc
    return {name: values[-1] for name, values in parsed.items()}


def routes() -> list[Route]:
    """The checkout's routes."""
    pages = CheckoutPages()

    async def show(request: Request, services: Services, session_id: str) -> Response:
        return pages.checkout(await services.billing.checkout(session_id))

    async def submit(request: Request, services: Services, session_id: str) -> Response:
        fields = await form_fields(request)
        action = fields.get("action")
        if action == "pay":
            result = await services.billing.pay(session_id, fields.get("email"), fields.get("name"))
            return RedirectResponse(result.redirect_url, status_code=303, headers=PAGE_HEADERS)
        if action == "cancel":
            session = await services.billing.cancel(session_id)
            return RedirectResponse(session.cancel_url, status_code=303, headers=PAGE_HEADERS)
        raise InvalidInput("The checkout form's action must be pay or cancel")

    async def pay(request: Request, services: Services, session_id: str) -> Response:
        body = await json_body(request)
        unknown = set(body) - {"email", "name"}
        if unknown:
            raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))} (use email, name)")
        result = await services.billing.pay(session_id, body.get("email"), body.get("name"))
        return JSONResponse(
            {
                "session": result.session.id,
                "status": CheckoutStatus.PAID.value,
                "userId": result.user.id,
                "subscriptions": [subscription_json(s) for s in result.subscriptions],
                "redirectUrl": result.redirect_url,
            }
        )

    async def cancel(request: Request, services: Services, session_id: str) -> Response:
        if await json_body(request):
            raise InvalidInput("cancel takes no fields")
        session = await services.billing.cancel(session_id)
        return JSONResponse(
            {
                "session": session.id,
                "status": CheckoutStatus.CANCELLED.value,
                "redirectUrl": session.cancel_url,
            }
        )

    path = CHECKOUT_PATH + "{session_id}"
    return [
        Route(path, page_route(pages, show), methods=["GET"]),
        Route(path, page_route(pages, submit), methods=["POST"]),
        Route(path + "/pay", json_route(pay), methods=["POST"]),
        Route(path + "/cancel", json_route(cancel), methods=["POST"]),
    ]
