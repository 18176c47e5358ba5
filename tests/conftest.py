"""Shared fixtures: one kana-server per test session and backend (in-process by default, a real
server with KANA_TEST_SERVER=1), and an `api` client bound to a fresh project per test. Every test that
uses them runs on each backend of KANA_TEST_BACKENDS (tests/postgres.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kana_server.app import create_app
from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.kana import Api, random_key

pytest_plugins = ["tests.browser", "tests.postgres"]

SERVER_MODE = os.environ.get("KANA_TEST_SERVER", "") not in ("", "0", "false")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the session's databases."""
    return tmp_path_factory.mktemp("kana")


@pytest.fixture(scope="session")
def settings(make_database: Callable[[], str]) -> Settings:
    """The session server's settings: a real database of the session's backend (a SQLite file or a
    throwaway PostgreSQL database)."""
    return Settings(database_url=make_database(), port=0, graphiql=True)


@pytest.fixture(scope="session")
def live_server(settings: Settings, make_database: Callable[[], str]) -> Iterator[ThreadedServer]:
    """A real uvicorn server in a thread, on a database of its own (started only when a test asks)."""
    with ThreadedServer(settings.model_copy(update={"database_url": make_database()})) as server:
        yield server


@pytest.fixture(scope="session")
async def http(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to the session's kana-server: in-process, or a real server in server mode."""
    if SERVER_MODE:
        server: ThreadedServer = request.getfixturevalue("live_server")
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            yield client
        return
    app = create_app(settings)
    # httpx's ASGITransport does not run the lifespan: enter it ourselves.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kana.test", timeout=30
        ) as client,
    ):
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    """A client for a fresh, empty project (its own random private key)."""
    return Api(http, random_key())


@pytest.fixture
def new_api(http: httpx.AsyncClient) -> Callable[[], Api]:
    """Makes clients for more fresh projects."""
    return lambda: Api(http, random_key())


@pytest.fixture
async def catalog_api(api: Api) -> Api:
    """A fresh project with the catalog of tests/fixtures/catalog.yaml."""
    await api.load("catalog.yaml")
    return api
