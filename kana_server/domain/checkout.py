"""Checkout sessions behind subscription links ([X] emulation of Kana's Stripe payment links): pure rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from kana_server.domain.errors import CheckoutSessionClosed, InvalidInput, SubscriptionLinkError
from kana_server.domain.model import BillingTemplate, Catalog, Package, PackageStatus, Price

SESSION_ID = re.compile(r"^cs_(test|live)_[A-Za-z0-9]{40}$")
"""A checkout session id, shaped like Stripe's (`cs_test_...`): the link's only secret (D70)."""

SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
"""Stripe replaces this text in a success URL with the session id (D75)."""

MAX_URL_LENGTH = 2048
MAX_FORM_TEXT = 255


class CheckoutStatus(StrEnum):
    """Where a checkout session stands; EXPIRED is computed from the clock, never stored."""

    OPEN = "OPEN"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """One subscription link: the template's package and price as they were when the link was made."""

    id: str
    template_id: str
    package_id: str
    price_id: str | None
    user_id: str | None  # None: the user is created at payment (D74)
    success_url: str
    cancel_url: str
    created_at: datetime
    expires_at: datetime
    status: CheckoutStatus = CheckoutStatus.OPEN
    completed_at: datetime | None = None

    def status_at(self, now: datetime) -> CheckoutStatus:
        """The status at an instant of the project's clock: an open session expires at `expires_at`."""
        if self.status is CheckoutStatus.OPEN and now >= self.expires_at:
            return CheckoutStatus.EXPIRED
        return self.status

    def success_redirect(self) -> str:
        """Where a paid checkout sends the browser: successUrl with the session id filled in (D75)."""
        return self.success_url.replace(SESSION_ID_PLACEHOLDER, self.id)


def require_open(session: CheckoutSession, now: datetime) -> None:
    """Refuse a session that was used or has expired: a link is paid or cancelled at most once (D72)."""
    status = session.status_at(now)
    if status is CheckoutStatus.PAID:
        raise CheckoutSessionClosed(f"Checkout session {session.id} was already paid")
    if status is CheckoutStatus.CANCELLED:
        raise CheckoutSessionClosed(f"Checkout session {session.id} was cancelled")
    if status is CheckoutStatus.EXPIRED:
        raise CheckoutSessionClosed(
            f"Checkout session {session.id} expired at {session.expires_at.isoformat()}; generate a new link"
        )


def check_redirect_url(argument: str, url: str) -> str:
    """successUrl / cancelUrl: an absolute http(s) URL with a host, no whitespace, at most 2048 characters."""
    example = f"an absolute http(s) URL such as https://example.com/{argument.removesuffix('Url')}"
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise SubscriptionLinkError(
            f"{argument} must be {example} (at most {MAX_URL_LENGTH} characters, no spaces); got {shown!r}"
        )
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise SubscriptionLinkError(f"{argument} must be {example}; got {url!r}")
    return url


def link_template(catalog: Catalog, template_id: str) -> tuple[BillingTemplate, Package]:
    """The template a link sells and its package; unknown or unsellable: SubscriptionLinkError (D71)."""
    template = catalog.billing_templates.get(template_id)
    if template is None:
        raise SubscriptionLinkError(f'Billing template "{template_id}" not found')
    package = catalog.packages[template.package_id]
    if package.status is not PackageStatus.PUBLISHED:
        raise SubscriptionLinkError(
            f'Billing template "{template_id}" sells package "{package.id}", which is {package.status}: '
            "only PUBLISHED packages can be subscribed to"
        )
    return template, package


def price_of(package: Package, price_id: str | None) -> Price | None:
    """The package's price with that id (None when the link has no price or the package lost it)."""
    return next((p for p in package.prices if p.id == price_id), None)


def price_amount(price: Price) -> str:
    """A price's amount as the checkout page shows it: "50.00 GBP"."""
    return f"{price.display_amount} {price.currency.upper()}"


def describe_price(price: Price | None) -> str:
    """A price with its interval: "50.00 GBP per month", "19.99 USD, once"."""
    if price is None:
        return "No price"
    amount = price_amount(price)
    return f"{amount} per {price.interval}" if price.interval else f"{amount}, once"


def check_form_text(field: str, value: object) -> str | None:
    """An optional email or name typed at checkout: trimmed, at most 255 characters, no control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_FORM_TEXT or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"{field} must be at most {MAX_FORM_TEXT} characters without control characters")
    if field == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise InvalidInput(f"email must look like name@example.com; got {value!r}")
    return value
