"""Usage traffic for the reliability tests: recordUsage and canUseFeature calls against a real server
from many connections, every outcome kept, and what the SQLite file holds afterwards.

Also runnable to measure a configuration (loopback only):
    python -m tests.reliability.load --workers 2 --synchronous NORMAL --calls 10000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from tests.kana import Api, random_key
from tests.process import ServerProcess
from tests.reliability.wire import Answer, WireClient, WireError

RECORD = "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }"
CAN_USE = (
    "query($u: String!, $f: String!) { canUseFeature(userId: $u, featureId: $f) "
    "{ access consumption { used } } }"
)
BELOW_ZERO = "Cannot revert"  # D8: a revert that would make usage negative is refused

Pair = tuple[str, str]
Status = Literal["recorded", "refused", "read", "unanswered", "not sent", "unexpected"]


@dataclass(frozen=True, slots=True)
class Call:
    """One request of the load: a recordUsage (ADD `delta`) or a canUseFeature read."""

    kind: Literal["record", "read"]
    user: str
    feature: str
    delta: int = 0

    @property
    def pair(self) -> Pair:
        return (self.user, self.feature)


@dataclass(slots=True)
class Outcome:
    """What the client learnt about one call."""

    call: Call
    status: Status
    detail: str = ""


@dataclass
class Load:
    """A project with users subscribed to an unlimited package of consumable features."""

    key: str
    users: list[str]
    features: list[str]
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def pairs(self) -> list[Pair]:
        return [(u, f) for u in self.users for f in self.features]

    def by_status(self, *statuses: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in statuses]

    def acknowledged_totals(self) -> dict[Pair, int]:
        """Per (user, feature): the sum of the deltas answered `recorded: true`."""
        totals = dict.fromkeys(self.pairs, 0)
        for outcome in self.by_status("recorded"):
            totals[outcome.call.pair] += outcome.call.delta
        return totals


async def set_up(http: httpx.AsyncClient, users: int, features: int) -> Load:
    """A fresh project: `features` consumables in one published unlimited package, `users` subscribed."""
    api = Api(http, random_key())
    load = Load(api.key, [f"user-{i}" for i in range(users)], [f"feature-{i}" for i in range(features)])
    for feature in load.features:
        await api.create_feature(feature)
    await api.create_package("unlimited", [{"id": f, "reset": "MONTH"} for f in load.features])
    for user in load.users:
        await api.create_user(user)
        await api.subscribe(user, "unlimited")
    return load


def mixed_calls(load: Load, records: int, reads: int, seed: int) -> list[Call]:
    """`records` recordUsage calls with deltas from -8 to 10 (reverts included, some refused) and
    `reads` canUseFeature calls, shuffled."""
    rng = random.Random(seed)
    deltas = [d for d in range(-8, 11) if d != 0]
    calls = [
        Call("record", rng.choice(load.users), rng.choice(load.features), rng.choice(deltas))
        for _ in range(records)
    ]
    calls += [Call("read", rng.choice(load.users), rng.choice(load.features)) for _ in range(reads)]
    rng.shuffle(calls)
    return calls


def classify(call: Call, response: Answer) -> Outcome:
    """An answered call's outcome (anything but the expected answers is `unexpected`)."""
    if response.status_code != 200:
        return Outcome(call, "unexpected", f"HTTP {response.status_code}: {response.text[:300]}")
    body = response.json()
    errors = body.get("errors")
    if call.kind == "read":
        consumption = (body.get("data") or {}).get("canUseFeature", {}) or {}
        if errors or not isinstance(consumption.get("consumption"), dict):
            return Outcome(call, "unexpected", str(body)[:300])
        return Outcome(call, "read", str(consumption["consumption"]["used"]))
    if errors:
        error = errors[0]
        if error.get("extensions", {}).get("code") == "BAD_USER_INPUT" and BELOW_ZERO in error["message"]:
            return Outcome(call, "refused", error["message"])
        return Outcome(call, "unexpected", str(errors)[:300])
    if body["data"]["recordUsage"] == {"recorded": True, "reason": None}:
        return Outcome(call, "recorded")
    return Outcome(call, "unexpected", str(body)[:300])


async def fire(
    url: str,
    load: Load,
    calls: list[Call],
    connections: int,
    *,
    stop: Callable[[Load], bool] = lambda load: False,
    seconds: float = 300.0,
) -> None:
    """Send every call from `connections` concurrent connections, keeping each outcome in `load`.

    When `stop(load)` becomes true no further call is sent (a crash test kills the server then); calls
    whose connection broke are `unanswered`, those never sent `not sent`. Fails after `seconds`."""
    pending = iter(calls)
    stopped = False

    async def worker(client: WireClient) -> None:
        nonlocal stopped
        for call in pending:
            if stopped:
                load.outcomes.append(Outcome(call, "not sent"))
                continue
            if call.kind == "record":
                variables = {"input": {"userId": call.user, "featureId": call.feature, "delta": call.delta}}
                body = {"query": RECORD, "variables": variables}
            else:
                body = {"query": CAN_USE, "variables": {"u": call.user, "f": call.feature}}
            try:
                response = await client.post_json("/graphql", body, {"Authorization": load.key})
            except WireError as exc:
                load.outcomes.append(Outcome(call, "unanswered", str(exc)))
                continue
            load.outcomes.append(classify(call, response))
            if not stopped and stop(load):
                stopped = True

    clients = [WireClient(url) for _ in range(connections)]
    try:
        async with asyncio.timeout(seconds):
            await asyncio.gather(*(worker(client) for client in clients))
    except TimeoutError:
        raise AssertionError(
            f"the load did not finish in {seconds} s ({len(load.outcomes)} of {len(calls)} calls done)"
        ) from None
    finally:
        for client in clients:
            await client.close()


async def used_now(http: httpx.AsyncClient, load: Load) -> dict[Pair, int]:
    """Every pair's current usage, through canUseFeature."""
    api = Api(http, load.key)
    found: dict[Pair, int] = {}
    for pair in load.pairs:
        used = await api.used(*pair)
        assert used is not None, pair
        found[pair] = used
    return found


@dataclass
class Stored:
    """What the database file holds for one project."""

    events: dict[Pair, list[tuple[int, int]]]  # (delta, used_after) per pair, in the order written
    counters: dict[Pair, int]
    integrity: str

    def deltas(self) -> Counter[int]:
        """How many events carry each delta, over all pairs."""
        return Counter(d for events in self.events.values() for d, _ in events)


def stored(database: Path, key: str) -> Stored:
    """Read the project's usage events and counters straight from the SQLite file."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        project = conn.execute("SELECT id FROM projects WHERE private_key = ?", (key,)).fetchone()[0]
        events: dict[Pair, list[tuple[int, int]]] = defaultdict(list)
        rows = conn.execute(
            "SELECT u.id, f.id, e.action, e.delta, e.used_after FROM usage_events e "
            "JOIN users u ON u.pk = e.user_pk JOIN features f ON f.pk = e.feature_pk "
            "WHERE e.project_id = ? ORDER BY e.pk",
            (project,),
        )
        for user, feature, action, delta, used_after in rows:
            assert action == "ADD", action
            events[(user, feature)].append((delta, used_after))
        counters: dict[Pair, int] = defaultdict(int)
        for user, feature, used in conn.execute(
            "SELECT u.id, f.id, c.used FROM usage_counters c JOIN users u ON u.pk = c.user_pk "
            "JOIN features f ON f.pk = c.feature_pk WHERE c.project_id = ?",
            (project,),
        ):
            counters[(user, feature)] += used
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return Stored(dict(events), dict(counters), integrity)


def replay_problems(events: Iterable[tuple[int, int]]) -> list[str]:
    """Replaying a pair's events in the order written: each `used_after` is the running sum, never < 0."""
    problems = []
    running = 0
    for index, (delta, used_after) in enumerate(events):
        running += delta
        if used_after != running or running < 0:
            problems.append(f"event {index}: delta {delta}, used_after {used_after}, replayed {running}")
    return problems


def server_problems(log: str) -> list[str]:
    """Log lines that show a server-side failure."""
    markers = ("database is locked", "Traceback", "ERROR", "Exception", "died", "WARNING")
    return [line for line in log.splitlines() if any(m in line for m in markers)]


async def measure(workers: int, synchronous: str, records: int, connections: int) -> None:
    """Run the mixed load once and print the throughput (a tool for docs/reliability.md)."""
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "kana.db"
        env = {"KANA_SQLITE_SYNCHRONOUS": synchronous}
        with ServerProcess(
            "--database", f"sqlite+aiosqlite:///{database}", workers=workers, env=env
        ) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                load = await set_up(http, users=5, features=3)
            calls = mixed_calls(load, records, records // 10, seed=1)
            started = time.perf_counter()
            await fire(server.url, load, calls, connections)
            elapsed = time.perf_counter() - started
        unexpected = load.by_status("unexpected", "unanswered")
        print(
            f"workers={workers} synchronous={synchronous} calls={len(calls)} connections={connections}: "
            f"{elapsed:.1f} s, {len(calls) / elapsed:.0f} calls/s, {len(unexpected)} unexpected"
        )


def main() -> None:
    """Command line of `measure`."""
    parser = argparse.ArgumentParser(description=measure.__doc__)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(measure(args.workers, args.synchronous, args.calls, args.connections))


if __name__ == "__main__":
    main()
