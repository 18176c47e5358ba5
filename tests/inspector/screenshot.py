"""Makes the README's screenshot of the inspector from a real run: `make screenshot`.

A live server with the demo seed, five weeks of traffic (tests/inspector/activity.py), the page in
headless Chromium: alice selected, the newest request's decision trace open.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import ViewportSize, async_playwright

from kana_server.settings import DEFAULT_PRIVATE_KEY, Settings
from kana_server.testing.server import ThreadedServer
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.inspector.activity import use_the_demo
from tests.kana import Api

OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "inspector.png"
VIEWPORT: ViewportSize = {"width": 1440, "height": 1320}


async def screenshot(output: Path) -> None:
    """Run the server, send the traffic, photograph the page."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{folder}/kana.db", seed="demo", port=0)
        with ThreadedServer(settings) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                await use_the_demo(Api(http, DEFAULT_PRIVATE_KEY))
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = await browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
                await page.goto(server.url + "/_kana/ui")
                await page.get_by_label("Private key").fill(DEFAULT_PRIVATE_KEY)
                await page.get_by_role("button", name="Open project").click()
                await page.locator('#users button[data-user="alice"]').click()
                await page.locator("#chart svg").wait_for()
                await page.locator("#requests tr.summary").first.get_by_role("button").click()
                await page.locator("#requests tr.detail .trace").first.wait_for()
                await page.evaluate("document.activeElement && document.activeElement.blur()")
                await page.screenshot(path=str(output))
                await browser.close()


def main() -> None:
    """Write the screenshot (docs/inspector.png, or the path given)."""
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    asyncio.run(screenshot(output))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
