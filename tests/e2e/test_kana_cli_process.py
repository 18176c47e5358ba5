"""The Kana CLI's requests against a real `kana-server serve` process (KANA_DEV_URL=<server>/cli)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.kana import FIXTURES, random_key
from tests.kana_cli import KanaCli
from tests.process import ServerProcess

pytestmark = pytest.mark.e2e


async def test_validate_publish_pull_against_a_real_server(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    with ServerProcess("--database", database) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            cli = KanaCli(http, random_key(), tmp_path / "app")
            cli.write((FIXTURES / "cli" / "kana.dev.yaml").read_text(encoding="utf-8"))
            assert len((await cli.validate())["data"]) == 7
            assert await cli.publish() is True
            cli.printed.clear()
            assert (await cli.validate())["data"] == []
            assert cli.lines("✔")[-1] == "The local config file is up to date."
            other = KanaCli(http, cli.key, tmp_path / "elsewhere")
            assert await other.pull() is True
            assert other.read()["packages"] == cli.read()["packages"]
