"""The checkout page in a real headless Chromium: open the link, press Pay or Cancel, land on the app."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from kana_server.testing.server import ThreadedServer
from tests.api.test_billing import LINK, link_variables
from tests.kana import Api, random_key

pytestmark = pytest.mark.browser


class AppPages(BaseHTTPRequestHandler):
    """The customer's app: answers every GET with a small page naming the path it was asked for."""

    def do_GET(self) -> None:
        body = f"<!doctype html><title>App</title><h1>App page {self.path}</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def app_site() -> Iterator[ThreadingHTTPServer]:
    """The app the checkout redirects to, on a free 127.0.0.1 port; stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), AppPages)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="app-site", daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def visited(server: ThreadingHTTPServer) -> list[str]:
    """The app pages the browser opened (its favicon requests aside)."""
    return [p for p in server.paths if p != "/favicon.ico"]  # type: ignore[attr-defined]


def site_url(server: ThreadingHTTPServer, path: str) -> str:
    """A URL on the app site."""
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
async def kana(live_server: ThreadedServer) -> AsyncIterator[Api]:
    """A fresh project on a real kana-server, seeded with tests/fixtures/billing.yaml."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        api = Api(http, random_key())
        await api.seed("billing.yaml")
        yield api


@pytest.fixture
async def no_js(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser context with JavaScript off: the checkout must work without it."""
    context = await browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15_000)
    yield context
    await context.close()


async def generate_link(kana: Api, template: str, user: str | None, site: ThreadingHTTPServer) -> str:
    """A subscription link that returns to the app site."""
    variables = link_variables(
        template,
        user,
        success=site_url(site, "/welcome?session={CHECKOUT_SESSION_ID}"),
        cancel=site_url(site, "/pricing"),
    )
    return str((await kana.data(LINK, variables))["generateSubscriptionLink"]["url"])


async def test_pay_in_a_browser_lands_on_the_success_url_and_subscribes(
    kana: Api, no_js: BrowserContext, app_site: ThreadingHTTPServer
) -> None:
    link = await generate_link(kana, "starter-50gbp-month", "alice", app_site)
    session_id = urlsplit(link).path.rsplit("/", 1)[1]
    page = await no_js.new_page()
    response = await page.goto(link)
    assert response is not None
    assert response.status == 200
    await expect(page).to_have_title("Subscribe to Starter · kana-server checkout")
    await expect(page.locator("dl")).to_contain_text("50.00 GBP per month")
    await expect(page.locator("dl")).to_contain_text("Alice <alice@example.com>")
    await page.get_by_role("button", name="Pay 50.00 GBP").click()
    await page.wait_for_url(site_url(app_site, f"/welcome?session={session_id}"))
    await expect(page.locator("h1")).to_have_text(f"App page /welcome?session={session_id}")
    assert visited(app_site) == [f"/welcome?session={session_id}"]
    subscriptions = await kana.data('{ subscriptions(userId: "alice") { status package { id } } }')
    assert subscriptions["subscriptions"] == [{"status": "ACTIVE", "package": {"id": "starter"}}]
    # The link is spent: opening it again says so instead of offering Pay.
    await page.goto(link)
    await expect(page.locator("h1")).to_have_text("This checkout is already paid")
    await expect(page.get_by_role("button", name="Pay 50.00 GBP")).to_have_count(0)


async def test_cancel_in_a_browser_lands_on_the_cancel_url(
    kana: Api, no_js: BrowserContext, app_site: ThreadingHTTPServer
) -> None:
    link = await generate_link(kana, "starter-50gbp-month", "alice", app_site)
    page = await no_js.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Cancel").click()
    await page.wait_for_url(site_url(app_site, "/pricing"))
    assert (await kana.data("{ subscriptions { id } }"))["subscriptions"] == []


async def test_a_new_customer_types_email_and_name_in_the_browser(
    kana: Api, browser: Browser, app_site: ThreadingHTTPServer
) -> None:
    link = await generate_link(kana, "pro-99gbp-month", None, app_site)
    context = await browser.new_context()  # JavaScript on, as most customers have it
    try:
        page = await context.new_page()
        await page.goto(link)
        await page.get_by_label("Email").fill("new@example.com")
        await page.get_by_label("Name").fill("New Customer")
        await page.get_by_role("button", name="Pay 99.00 GBP").click()
        await page.wait_for_url(site_url(app_site, "/welcome?session=*"))
    finally:
        await context.close()
    users = (await kana.data("{ users { id billingId name email } }"))["users"]
    new = [u for u in users if u["id"] != "alice"]
    assert len(new) == 1
    assert new[0]["billingId"] == new[0]["id"]
    assert (new[0]["name"], new[0]["email"]) == ("New Customer", "new@example.com")
    subscriptions = await kana.data(
        "query($u: String) { subscriptions(userId: $u) { package { id } } }", {"u": new[0]["id"]}
    )
    assert subscriptions["subscriptions"] == [{"package": {"id": "pro"}}]


async def test_a_refused_payment_shows_kanas_error_in_the_browser(
    kana: Api, no_js: BrowserContext, app_site: ThreadingHTTPServer
) -> None:
    link = await generate_link(kana, "extra-calls-once", "alice", app_site)
    page = await no_js.new_page()
    await page.goto(link)
    await page.get_by_role("button", name="Pay 19.99 USD").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Cannot subscribe to addon. Missing live tier subscription."
    )
    await page.get_by_role("link", name="Back to the checkout").click()
    await expect(page.locator("h1")).to_have_text("Subscribe to Extra calls")
    assert visited(app_site) == []
