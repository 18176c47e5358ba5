"""A live kana-server seeded with the demo and five weeks of traffic, for the inspector's browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.inspector.activity import use_the_demo
from tests.kana import Api, random_key


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """A real server whose default project (a random key) holds the demo seed."""
    folder: Path = tmp_path_factory.mktemp("inspector")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'kana.db'}", api_key=random_key(), seed="demo", port=0
    )
    with ThreadedServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
async def demo(demo_server: ThreadedServer) -> AsyncIterator[Api]:
    """A client of the demo project, after the demo traffic was sent."""
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=30) as http:
        api = Api(http, demo_server.settings.private_key)
        await use_the_demo(api)
        yield api
