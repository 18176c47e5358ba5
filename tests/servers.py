"""Extra kana-servers for tests that need their own settings or clock (the session server has neither)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from kana_server.app import create_app
from kana_server.clock import Clock
from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer

SERVER_MODE = os.environ.get("KANA_TEST_SERVER", "") not in ("", "0", "false")


@asynccontextmanager
async def serving(settings: Settings, clock: Clock | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to a kana-server of its own: in-process, or a real server in server mode."""
    if SERVER_MODE:
        with ThreadedServer(settings, clock=clock) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                yield client
        return
    app = create_app(settings, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as client,
    ):
        yield client
