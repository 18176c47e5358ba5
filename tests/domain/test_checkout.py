"""Checkout session rules: redirect URLs, expiry, single use, what the page says about prices."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kana_server.domain import checkout
from kana_server.domain.checkout import CheckoutSession, CheckoutStatus
from kana_server.domain.errors import CheckoutSessionClosed, InvalidInput, SubscriptionLinkError
from kana_server.domain.model import BillingTemplate, Catalog, Package, PackageStatus, Price

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
SESSION_ID = "cs_test_" + "a" * 40


def session(**changes: object) -> CheckoutSession:
    """An open session made at T0 that expires a day later."""
    values: dict[str, object] = {
        "id": SESSION_ID,
        "template_id": "t",
        "package_id": "p",
        "price_id": "price",
        "user_id": "alice",
        "success_url": "https://app.example/ok",
        "cancel_url": "https://app.example/cancel",
        "created_at": T0,
        "expires_at": T0 + timedelta(days=1),
    }
    values.update(changes)
    return CheckoutSession(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example/ok",
        "http://127.0.0.1:5000/done?x=1#y",
        "HTTPS://APP.EXAMPLE",
        "https://app.example/ok?session={CHECKOUT_SESSION_ID}",
        "https://[::1]:8443/ok",
        "https://user@app.example/",
        "https://app.example/" + "x" * (2048 - len("https://app.example/")),
    ],
)
def test_absolute_http_urls_are_accepted(url: str) -> None:
    assert checkout.check_redirect_url("successUrl", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "app.example",
        "//app.example/ok",
        "mailto:a@example.com",
        "data:text/html,hi",
        "javascript:alert(1)",
        "https://",
        "https://:443/",
        "https://app.example:0/",
        "https://app.example:70000/",
        "https://[::1/",
        "https://app.example/a b",
        "https://app.example/\t",
        "https://app.example/\x7f",
        "https://app.example/" + "x" * 2048,
    ],
)
def test_anything_else_is_a_subscription_link_error(url: str) -> None:
    with pytest.raises(SubscriptionLinkError, match=r"^cancelUrl must be an absolute http\(s\) URL"):
        checkout.check_redirect_url("cancelUrl", url)


@given(st.text(max_size=60))
def test_redirect_url_check_never_fails_otherwise(text: str) -> None:
    with contextlib.suppress(SubscriptionLinkError):
        checkout.check_redirect_url("successUrl", text)


def test_a_session_expires_exactly_at_its_expiry() -> None:
    open_session = session()
    assert open_session.status_at(T0) is CheckoutStatus.OPEN
    assert open_session.status_at(T0 + timedelta(days=1, milliseconds=-1)) is CheckoutStatus.OPEN
    assert open_session.status_at(T0 + timedelta(days=1)) is CheckoutStatus.EXPIRED
    checkout.require_open(open_session, T0 + timedelta(hours=23))
    with pytest.raises(CheckoutSessionClosed, match="expired at 2026-02-01T09:00:00"):
        checkout.require_open(open_session, T0 + timedelta(days=1))


@pytest.mark.parametrize(
    ("status", "message"),
    [(CheckoutStatus.PAID, "was already paid"), (CheckoutStatus.CANCELLED, "was cancelled")],
)
def test_a_used_session_stays_used_whatever_the_time(status: CheckoutStatus, message: str) -> None:
    used = session(status=status, completed_at=T0)
    assert used.status_at(T0 + timedelta(days=30)) is status
    with pytest.raises(CheckoutSessionClosed, match=message):
        checkout.require_open(used, T0)


def test_the_success_url_gets_the_session_id_like_stripe() -> None:
    paid = session(success_url="https://app.example/ok?s={CHECKOUT_SESSION_ID}&again={CHECKOUT_SESSION_ID}")
    assert paid.success_redirect() == f"https://app.example/ok?s={SESSION_ID}&again={SESSION_ID}"
    assert session().success_redirect() == "https://app.example/ok"


def test_prices_are_described_with_their_interval() -> None:
    monthly = Price("price", "STRIPE", 5000, "50.00", "gbp", "month")
    once = Price("once", "STRIPE", 1999, "19.99", "usd", None)
    assert checkout.describe_price(monthly) == "50.00 GBP per month"
    assert checkout.describe_price(once) == "19.99 USD, once"
    assert checkout.describe_price(None) == "No price"
    assert checkout.price_amount(monthly) == "50.00 GBP"


def test_link_template_needs_a_known_template_of_a_published_package() -> None:
    def package(status: PackageStatus) -> Package:
        return Package("p", "P", False, status, T0)

    catalog = Catalog(
        packages={"p": package(PackageStatus.PUBLISHED)},
        billing_templates={"t": BillingTemplate("t", "p", "price")},
    )
    template, found = checkout.link_template(catalog, "t")
    assert (template.id, found.id) == ("t", "p")
    with pytest.raises(SubscriptionLinkError, match=r'^Billing template "x" not found$'):
        checkout.link_template(catalog, "x")
    archived = Catalog(
        packages={"p": package(PackageStatus.ARCHIVED)}, billing_templates=catalog.billing_templates
    )
    with pytest.raises(SubscriptionLinkError, match="which is ARCHIVED"):
        checkout.link_template(archived, "t")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", None, None),
        ("email", "   ", None),
        ("email", " a@b.example ", "a@b.example"),
        ("name", "Zoë O'Brien", "Zoë O'Brien"),
    ],
)
def test_form_text_is_trimmed_and_optional(field: str, value: object, expected: str | None) -> None:
    assert checkout.check_form_text(field, value) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "no-at-sign"), ("email", "a@b@c"), ("name", "x" * 256), ("name", "bell\x07"), ("email", 3)],
)
def test_bad_form_text_is_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidInput, match=f"^{field} must"):
        checkout.check_form_text(field, value)
