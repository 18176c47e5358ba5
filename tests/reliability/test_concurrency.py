"""Exact under concurrency: 10 000 recordUsage calls (reverts included) plus canUseFeature reads from 64
connections against `kana-server serve` with 1, 2 and 4 worker processes sharing one SQLite file give
exactly the totals the answers acknowledged, in the counters and in the event rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.process import ServerProcess
from tests.reliability.load import (
    fire,
    mixed_calls,
    replay_problems,
    server_problems,
    set_up,
    stored,
    used_now,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

RECORDS = 10_000
READS = 1_000
CONNECTIONS = 64


@pytest.mark.timeout(900)
@pytest.mark.parametrize("workers", [1, 2, 4])
async def test_concurrent_usage_is_exact_with_workers_sharing_one_sqlite_file(
    tmp_path: Path, workers: int
) -> None:
    database = tmp_path / "kana.db"
    with ServerProcess("--database", f"sqlite+aiosqlite:///{database}", workers=workers) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            load = await set_up(http, users=5, features=3)
            calls = mixed_calls(load, RECORDS, READS, seed=workers)
            await fire(server.url, load, calls, CONNECTIONS, seconds=600)

            statuses = Counter(o.status for o in load.outcomes)
            bad = load.by_status("unexpected", "unanswered", "not sent")
            assert not bad, f"{len(bad)} calls failed, e.g. {bad[:3]}; {server_problems(server.log())[:10]}"
            assert statuses["recorded"] + statuses["refused"] == RECORDS
            assert statuses["read"] == READS
            assert statuses["refused"] > 0, "the load must include refused reverts"
            expected = load.acknowledged_totals()
            assert await used_now(http, load) == expected
        assert not server_problems(server.log()), server_problems(server.log())[:10]

    found = stored(database, load.key)
    assert found.integrity == "ok"
    assert found.counters == expected
    assert {pair: sum(d for d, _ in events) for pair, events in found.events.items()} == {
        pair: total for pair, total in expected.items() if found.events.get(pair)
    }
    assert sum(len(events) for events in found.events.values()) == statuses["recorded"]
    recorded = Counter((o.call.pair, o.call.delta) for o in load.by_status("recorded"))
    assert Counter((pair, d) for pair, events in found.events.items() for d, _ in events) == recorded
    for pair, events in found.events.items():
        assert not replay_problems(events), (pair, replay_problems(events)[:5])
