"""Crash safety: `kill -9` in the middle of a recordUsage load, restart on the same SQLite file. Every
event answered `recorded: true` is there once (event row and counter), none that was refused is, and
each call that got no answer is there at most once: every call carries a delta no other call has, so
the event rows say exactly which calls committed."""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest

from tests.process import ServerProcess
from tests.reliability.load import (
    Call,
    Load,
    Pair,
    fire,
    replay_problems,
    server_problems,
    set_up,
    stored,
    used_now,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CALLS = 4_000
KILL_AFTER = 1_500  # answers received before the server is killed
CONNECTIONS = 64
REFUSED = 100_000_000  # reverts of this size are always refused: the load never gets near it


def marked_calls(load: Load) -> list[Call]:
    """Call i adds i + 1 (unique), or every tenth call tries to revert 100 000 000 + i (refused)."""
    pairs = load.pairs
    calls = []
    for i in range(CALLS):
        user, feature = pairs[i % len(pairs)]
        delta = -(REFUSED + i) if i % 10 == 9 else i + 1
        calls.append(Call("record", user, feature, delta))
    return calls


def kill(server: ServerProcess) -> None:
    """SIGKILL the server and each of its workers, by PID."""
    for pid in [server.pid, *sorted(server.worker_pids - {server.pid})]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("workers", [1, 2])
async def test_a_killed_server_keeps_every_acknowledged_event_and_counts_none_twice(
    tmp_path: Path, workers: int
) -> None:
    database = tmp_path / "kana.db"
    url = f"sqlite+aiosqlite:///{database}"
    with ServerProcess("--database", url, workers=workers) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            load = await set_up(http, users=3, features=2)
        calls = marked_calls(load)

        def crash_when_enough(load: Load) -> bool:
            if len(load.outcomes) < KILL_AFTER:
                return False
            kill(server)
            return True

        await fire(server.url, load, calls, CONNECTIONS, stop=crash_when_enough, seconds=300)
        first_log = server.log()
    assert not load.by_status("unexpected"), load.by_status("unexpected")[:3]
    assert load.by_status("not sent"), "the server must die before the load ends"

    with ServerProcess("--database", url, workers=1) as restarted:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as http:
            used = await used_now(http, load)
        assert not server_problems(restarted.log()), restarted.log()
    assert not server_problems(first_log), server_problems(first_log)[:10]

    found = stored(database, load.key)
    assert found.integrity == "ok"
    present = found.deltas()
    assert all(count == 1 for count in present.values()), [d for d, c in present.items() if c > 1][:10]
    assert set(present) <= {c.delta for c in calls}, "an event that no call sent"
    for outcome in load.by_status("recorded"):
        assert present[outcome.call.delta] == 1, f"acknowledged but lost: {outcome.call}"
    for outcome in load.by_status("refused", "not sent"):
        assert present[outcome.call.delta] == 0, f"{outcome.status} but present: {outcome.call}"

    committed: dict[Pair, int] = defaultdict(int)
    for outcome in load.by_status("recorded", "unanswered"):
        if present[outcome.call.delta]:
            committed[outcome.call.pair] += outcome.call.delta
    expected = {pair: committed[pair] for pair in load.pairs}
    assert found.counters | dict.fromkeys(set(load.pairs) - set(found.counters), 0) == expected
    assert used == expected
    for pair, events in found.events.items():
        assert not replay_problems(events), (pair, replay_problems(events)[:5])
    statuses = Counter(o.status for o in load.outcomes)
    print(
        f"workers={workers}: {dict(statuses)}; unanswered present: "
        f"{sum(present[o.call.delta] for o in load.by_status('unanswered'))}"
    )
