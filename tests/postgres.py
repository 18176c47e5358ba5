"""The test suite's backends: SQLite files, and throwaway PostgreSQL databases.

`KANA_TEST_BACKENDS` chooses them (default `sqlite,postgres`). `KANA_TEST_POSTGRES_URL` names the
PostgreSQL server and a database to connect to for CREATE/DROP DATABASE (default
`postgresql://postgres@127.0.0.1:5432/test`). Each session creates its databases with random names and
drops them at the end. When PostgreSQL does not answer, the PostgreSQL half fails in CI (`CI=true`)
and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

T = TypeVar("T")

KNOWN_BACKENDS = ("sqlite", "postgres")
ADMIN_URL = os.environ.get("KANA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "kana_test_"
STALE_AFTER_SECONDS = 6 * 3600
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def selected_backends() -> tuple[str, ...]:
    """The backends this session runs the suite on (KANA_TEST_BACKENDS)."""
    raw = os.environ.get("KANA_TEST_BACKENDS", ",".join(KNOWN_BACKENDS))
    chosen = tuple(dict.fromkeys(name.strip().lower() for name in raw.split(",") if name.strip()))
    unknown = [name for name in chosen if name not in KNOWN_BACKENDS]
    if unknown or not chosen:
        raise pytest.UsageError(
            f"KANA_TEST_BACKENDS={raw!r}: use a comma-separated list of {', '.join(KNOWN_BACKENDS)}"
        )
    return chosen


def backend_params() -> list[Any]:
    """pytest params for the backends, PostgreSQL's carrying the `postgres` marker."""
    return [
        pytest.param(name, id=name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in selected_backends()
    ]


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to the end in a thread of its own (callers may be inside an event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class PostgresServer:
    """Creates and drops throwaway databases on one PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        url = make_url(admin_url)
        self.admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.base = url.set(drivername="postgresql+asyncpg")
        self.created: list[str] = []

    async def _execute(self, *statements: str) -> list[Any]:
        connection = await asyncpg.connect(self.admin_dsn, timeout=5)
        try:
            return [await connection.fetch(statement) for statement in statements]
        finally:
            await connection.close()

    def problem(self) -> str | None:
        """Why the server cannot be used (None when it can)."""
        try:
            run_async(lambda: self._execute("SELECT 1"))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return f"PostgreSQL at {self.base.render_as_string()} is not reachable: {exc!r}"
        return None

    def url(self, name: str) -> str:
        """The kana-server URL of a database on this server."""
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create_database(self) -> str:
        """A new empty database (random name, dropped by drop_all); returns its URL."""
        name = f"{PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
        run_async(lambda: self._execute(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop one database, disconnecting whoever is still connected."""
        run_async(lambda: self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop_all(self) -> None:
        """Drop every database this session created."""
        while self.created:
            self.drop_database(self.created.pop())

    def drop_stale(self) -> None:
        """Drop test databases left behind by sessions that were killed (hours old, by their name)."""
        (rows,) = run_async(lambda: self._execute("SELECT datname FROM pg_database"))
        limit = time.time() - STALE_AFTER_SECONDS
        for row in rows:
            found = re.fullmatch(rf"{PREFIX}(\d+)_[0-9a-f]+", row["datname"])
            if found and int(found.group(1)) < limit:
                self.drop_database(row["datname"])


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server for the session (fails in CI, skips elsewhere, when it does not answer)."""
    server = PostgresServer(ADMIN_URL)
    problem = server.problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: the PostgreSQL half of the suite must run)", pytrace=False)
        pytest.skip(f"{problem}; set KANA_TEST_BACKENDS=sqlite to run only SQLite")
    server.drop_stale()
    try:
        yield server
    finally:
        server.drop_all()


@pytest.fixture(scope="session", params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend the session's server runs on: `sqlite` or `postgres`."""
    return str(request.param)


@pytest.fixture(scope="session")
def make_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Makes empty databases of the session's backend; returns their URLs."""
    if backend == "sqlite":
        folder: Path = tmp_path_factory.mktemp("databases")
        return lambda: f"sqlite+aiosqlite:///{folder / (secrets.token_hex(6) + '.db')}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database
