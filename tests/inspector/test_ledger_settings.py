"""The ledger's size settings, each on a server of its own: the ring bound and turning it off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from kana_server.app import create_app
from kana_server.settings import Settings
from tests.kana import Api, random_key

Server = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def server_with(tmp_path: Path) -> Server:
    """Starts an in-process server with some settings changed; yields a client for a fresh project."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[Api]:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}", **changes)
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as http,
        ):
            yield Api(http, random_key())

    return start


async def test_the_ring_keeps_only_the_newest_requests(server_with: Server) -> None:
    async with server_with(ledger_size=3) as api:
        for n in range(5):
            await api.data(f'{{ users(id: "u{n}") {{ id }} }}')
        response = await api.control("GET", "/_kana/requests")
        page = response.json()
        assert (page["kept"], page["capacity"], page["recorded"]) == (3, 3, 5)
        assert [e["id"] for e in page["requests"]] == [5, 4, 3]
        assert [e["users"] for e in page["requests"]] == [["u4"], ["u3"], ["u2"]]
        assert await api.request_count(user="u0") == 0


async def test_a_size_of_zero_turns_the_ledger_off(server_with: Server) -> None:
    async with server_with(ledger_size=0) as api:
        await api.data("{ features { id } }")
        response = await api.control("GET", "/_kana/requests")
        assert response.json() == {"requests": [], "kept": 0, "capacity": 0, "recorded": 0}
        assert await api.request_count() == 0
        overview = (await api.control("GET", "/_kana/inspector/overview")).json()
        assert overview["ledger"] == {"capacity": 0, "enabled": False}


def test_the_size_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="ledger_size"):
        Settings(ledger_size=-1)
