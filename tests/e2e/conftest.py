"""A real `kana-server serve` process for the end-to-end tests (one per module)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.kana import FIXTURES
from tests.process import ServerProcess


@pytest.fixture(scope="module")
def process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`kana-server serve` on a free port, a SQLite file, the e2e seed; stopped by PID afterwards."""
    database = tmp_path_factory.mktemp("e2e") / "kana.db"
    with ServerProcess(
        "--database", f"sqlite+aiosqlite:///{database}", "--seed", str(FIXTURES / "e2e_seed.yaml")
    ) as p:
        yield p


@pytest.fixture(scope="module")
async def server(process: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to that process."""
    async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
        yield client


@pytest.fixture
def database_of(process: ServerProcess) -> Path:
    """The process's database file."""
    return Path(process.command[process.command.index("--database") + 1].removeprefix("sqlite+aiosqlite:///"))
