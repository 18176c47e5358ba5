"""Starting twice with the same seed changes nothing (the seed is applied once per content, D19)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.kana import FIXTURES, Api
from tests.process import ServerProcess

pytestmark = pytest.mark.e2e
STATE = "{ features { id name } packages { id status updatedAt features { id limit } } users { id } subscriptions { id } }"


async def snapshot(url: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        api = Api(http, "prv_test_kana_server_local")
        data = await api.data(STATE)
        data["used"] = await api.used("alice", "api-calls")
        return data


async def test_restarting_with_the_same_seed_changes_nothing(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    seed = FIXTURES / "seed_with_usage.yaml"
    with ServerProcess("--database", database, "--seed", str(seed)) as first:
        before = await snapshot(first.url)
    assert before["used"] == 7
    with ServerProcess("--database", database, "--seed", str(seed)) as second:
        after = await snapshot(second.url)
        assert any("already applied" in line for line in second.lines)
    assert after == before
