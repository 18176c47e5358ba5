"""The inspector page in a real headless Chromium against a live seeded server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, Page, expect

from kana_server.testing.server import ThreadedServer
from tests.inspector.activity import STEPS
from tests.kana import Api, random_key

pytestmark = pytest.mark.browser
PLAN = '<i class="x">plan'

OpenPage = Callable[..., Awaitable[Page]]
WAIT_MS = 15_000
"""How long an expectation waits for the page (the request log polls every 2 s)."""


@pytest.fixture
async def open_page(browser: Browser, demo_server: ThreadedServer) -> AsyncIterator[OpenPage]:
    """Opens the inspector in a fresh browser context (its own session storage), optionally with a key."""
    contexts = []
    errors: list[str] = []

    async def open_with(key: str | None = None) -> Page:
        context = await browser.new_context(viewport={"width": 1440, "height": 1000})
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(demo_server.url + "/_kana/ui")
        if key is not None:
            await page.get_by_label("Private key").fill(key)
            await page.get_by_role("button", name="Open project").click()
            await expect(page.locator("#main")).to_be_visible(timeout=WAIT_MS)
        return page

    yield open_with
    for context in contexts:
        await context.close()
    assert errors == []


async def show_user(page: Page, user_id: str) -> None:
    await page.locator(f'#users button[data-user="{user_id}"]').click()
    await expect(page.locator("#user-title")).to_have_text(f"User {user_id}", timeout=WAIT_MS)


async def test_the_key_opens_the_project_with_users_bars_and_a_chart(open_page: OpenPage, demo: Api) -> None:
    page = await open_page(demo.key)
    overview = (await demo.control("GET", "/_kana/inspector/overview")).json()
    await expect(page.locator("#project-name")).to_have_text(overview["project"]["name"])
    await expect(page.locator("#users button")).to_have_count(4)
    await expect(page.locator("#packages .package")).to_have_count(len(overview["packages"]))
    await show_user(page, "alice")

    used = await demo.used("alice", "api-calls")
    meter = page.locator('li[data-feature="api-calls"] [role="meter"]')
    await expect(meter).to_have_attribute("aria-valuemax", "5000")
    await expect(meter).to_have_attribute("data-used", str(used))
    await expect(meter).to_have_attribute("aria-valuetext", f"{used:,} / 5,000 API Calls")
    await expect(page.locator('li[data-feature="api-calls"]')).to_contain_text("via extra-api-calls")
    await expect(page.locator('li[data-feature="sso"]')).to_contain_text("No live package holds this feature")

    chart = page.locator('#chart svg[role="img"]')
    await expect(chart).to_have_attribute("data-points", str(STEPS + 2))  # the seed, the steps, one more
    await expect(chart.locator("circle")).to_have_count(STEPS + 2)
    await expect(chart.locator("path.budget")).to_have_count(2)  # the monthly allowance reset once
    await expect(chart.locator("title").first).to_have_text("API Calls used by alice over time")

    await page.get_by_label("Feature shown in the chart").select_option("messages")
    await expect(chart.locator("title").first).to_have_text("Messages used by alice over time")


async def test_clicking_a_request_shows_its_decision_trace(open_page: OpenPage, demo: Api) -> None:
    await demo.can_use("alice", "api-calls", 7)
    page = await open_page(demo.key)
    newest = page.locator("#requests tr.summary").first
    await expect(newest).to_contain_text("canUseFeature", timeout=WAIT_MS)
    button = newest.get_by_role("button")
    await expect(button).to_have_attribute("aria-expanded", "false")
    await button.click()
    await expect(button).to_have_attribute("aria-expanded", "true")
    trace = page.locator('#requests tr.detail .trace[data-kind="entitlement"]')
    await expect(trace).to_contain_text("Winner")
    await expect(trace).to_contain_text("extra-api-calls (subscription 3, limit 5,000 per month, add-on)")
    await expect(trace).to_contain_text("highest limit wins (5000 > 1000); limits are not added")
    await expect(trace).to_contain_text("used + delta <= budget")
    await expect(page.locator('#requests tr.detail pre[data-part="variables"]')).to_contain_text('"d": 7')
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(button).to_have_attribute("aria-expanded", "false")
    await expect(page.locator("#requests tr.detail")).to_have_count(0)


async def test_new_requests_appear_while_the_page_is_open(open_page: OpenPage, demo: Api) -> None:
    page = await open_page(demo.key)
    await expect(page.locator("#requests tr.summary").first).to_be_visible(timeout=WAIT_MS)
    await demo.record("bob", "seats", 2)
    newest = page.locator("#requests tr.summary").first
    await expect(newest).to_contain_text("recordUsage", timeout=WAIT_MS)
    await expect(newest).to_contain_text("bob")


async def test_filters_narrow_the_request_log(open_page: OpenPage, demo: Api) -> None:
    page = await open_page(demo.key)
    await page.get_by_label("Filter by operation").fill("recordUsage")
    await page.get_by_label("Filter by user id").fill("carol")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("#requests tr.summary")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    await expect(rows.first).to_contain_text("not recorded")


async def test_the_key_is_kept_for_the_tab_and_can_be_forgotten(open_page: OpenPage, demo: Api) -> None:
    page = await open_page(demo.key)
    await page.reload()
    await expect(page.locator("#main")).to_be_visible(timeout=WAIT_MS)
    assert await page.evaluate("sessionStorage.getItem('kana-inspector-key')") == demo.key
    await page.get_by_role("button", name="Forget key").click()
    await expect(page.locator("#main")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('kana-inspector-key')") is None
    other_tab = await open_page()
    await expect(other_tab.locator("#main")).to_be_hidden()


async def test_a_wrong_key_is_refused(open_page: OpenPage, demo: Api) -> None:
    page = await open_page()
    await page.get_by_label("Private key").fill("not-a-key")
    await page.get_by_label("Private key").press("Enter")
    await expect(page.locator("#status")).to_contain_text("That key was refused", timeout=WAIT_MS)
    await expect(page.locator("#main")).to_be_hidden()


async def test_the_page_works_with_the_keyboard_alone(open_page: OpenPage, demo: Api) -> None:
    page = await open_page()
    await page.keyboard.press("Tab")  # the skip link comes first
    await expect(page.locator(".skip-link")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Private key")).to_be_focused()
    await page.keyboard.type(demo.key)
    await page.keyboard.press("Enter")
    await expect(page.locator("#main")).to_be_visible(timeout=WAIT_MS)
    alice = page.locator('#users button[data-user="alice"]')
    for _ in range(40):
        if await alice.evaluate("node => node === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await expect(alice).to_be_focused()
    assert await alice.evaluate("node => getComputedStyle(node).outlineStyle") == "solid"  # focus is visible
    await page.keyboard.press("Enter")
    await expect(page.locator("#user-title")).to_have_text("User alice", timeout=WAIT_MS)
    await expect(page.locator("#user-title")).to_be_focused()


async def test_everything_the_page_shows_is_escaped(open_page: OpenPage, demo: Api) -> None:
    hostile = Api(demo.http, random_key())
    await hostile.create_feature("calls", name='<img src=x onerror="window.__pwned = 1">')
    await hostile.create_package(PLAN, [{"id": "calls", "limit": 10}])
    await hostile.create_user('<b id="injected">bold</b>', name="<script>window.__pwned = 2</script>")
    await hostile.subscribe('<b id="injected">bold</b>', PLAN)
    await hostile.record('<b id="injected">bold</b>', "calls", 3)
    page = await open_page(hostile.key)
    await expect(page.locator("#features")).to_contain_text('<img src=x onerror="window.__pwned = 1">')
    await expect(page.locator("#packages")).to_contain_text(PLAN)
    await page.locator("#users button").first.click()
    await expect(page.locator("#user-title")).to_have_text('User <b id="injected">bold</b>', timeout=WAIT_MS)
    await expect(page.locator("#user-detail")).to_contain_text("<script>window.__pwned = 2</script>")
    await page.locator("#requests tr.summary").first.get_by_role("button").click()
    await expect(page.locator("#requests tr.detail")).to_contain_text('<b id="injected">bold</b>')
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("#injected, main img, main i, main script").count() == 0
