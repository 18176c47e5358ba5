"""`kana-server serve --workers 2` on PostgreSQL: usage counters stay exact under concurrent load from
both worker processes, and the seed every worker applies at start is applied once."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kana_server.store.database import Database, DatabaseOptions
from kana_server.store.scoped import FEATURES, PROJECTS, USAGE_COUNTERS, USAGE_EVENTS, USERS
from tests.kana import FIXTURES, Api, random_key
from tests.postgres import PostgresServer
from tests.process import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]

CALLS = 2000
CONNECTIONS = 50
USERS_IDS = ["u1", "u2", "u3", "u4", "u5"]
FEATURE_IDS = ["api-calls", "messages"]
SEEDED = 20_000  # each user's starting usage of each feature (tests/fixtures/workers-seed.yaml)
RECORD = "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }"

Pair = tuple[str, str]


def planned_calls() -> list[tuple[str, str, int]]:
    """The load: users, features and deltas (reverts included), the same on every run."""
    rng = random.Random(9)
    deltas = [*range(-5, 0), *range(1, 11)]
    return [(rng.choice(USERS_IDS), rng.choice(FEATURE_IDS), rng.choice(deltas)) for _ in range(CALLS)]


async def fire(api: Api, calls: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """Every call, at most CONNECTIONS at a time; returns each response body."""
    gate = asyncio.Semaphore(CONNECTIONS)

    async def one(user_id: str, feature_id: str, delta: int) -> dict[str, Any]:
        async with gate:
            variables = {"input": {"userId": user_id, "featureId": feature_id, "delta": delta}}
            return await api.gql(RECORD, variables)

    return await asyncio.gather(*(one(*call) for call in calls))


async def stored_usage(url: str, key: str) -> tuple[dict[Pair, list[tuple[str, int, int]]], dict[Pair, int]]:
    """The project's events per (user, feature) in the order they were written, and its counters."""
    db = Database(DatabaseOptions(url=url))
    try:

        async def work(conn: Any) -> tuple[Sequence[Any], Sequence[Any]]:
            project_id = (
                await conn.execute(select(PROJECTS.c.id).where(PROJECTS.c.private_key == key))
            ).scalar_one()
            events = (
                await conn.execute(
                    select(USERS.c.id, FEATURES.c.id, USAGE_EVENTS.c.action, USAGE_EVENTS.c.delta)
                    .add_columns(USAGE_EVENTS.c.used_after)
                    .join(USERS, USERS.c.pk == USAGE_EVENTS.c.user_pk)
                    .join(FEATURES, FEATURES.c.pk == USAGE_EVENTS.c.feature_pk)
                    .where(USAGE_EVENTS.c.project_id == project_id)
                    .order_by(USAGE_EVENTS.c.pk)
                )
            ).all()
            counters = (
                await conn.execute(
                    select(USERS.c.id, FEATURES.c.id, USAGE_COUNTERS.c.used)
                    .join(USERS, USERS.c.pk == USAGE_COUNTERS.c.user_pk)
                    .join(FEATURES, FEATURES.c.pk == USAGE_COUNTERS.c.feature_pk)
                    .where(USAGE_COUNTERS.c.project_id == project_id)
                )
            ).all()
            return events, counters

        events, counters = await db.run_read(work)
    finally:
        await db.close()
    by_pair: dict[Pair, list[tuple[str, int, int]]] = defaultdict(list)
    for user_id, feature_id, action, delta, used_after in events:
        by_pair[(user_id, feature_id)].append((action, int(delta), int(used_after)))
    return by_pair, {(u, f): int(used) for u, f, used in counters}


async def test_two_workers_on_postgres_keep_usage_exact(postgres: PostgresServer) -> None:
    url = postgres.create_database()
    key = random_key()
    seed = str(FIXTURES / "workers-seed.yaml")
    calls = planned_calls()
    with ServerProcess("--database", url, "--api-key", key, "--seed", seed, workers=2) as server:
        assert len(server.worker_pids) == 2, server.log()
        # Idle connections expire on the client (1 s) before uvicorn closes them (5 s): a request is never
        # sent on a connection the server is closing, which would fail with no way to know if it ran.
        limits = httpx.Limits(
            max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS, keepalive_expiry=1.0
        )
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            api = Api(http, key)
            started = time.perf_counter()
            bodies = await fire(api, calls)
            elapsed = time.perf_counter() - started
            used = {(u, f): await api.used(u, f) for u in USERS_IDS for f in FEATURE_IDS}
        exit_code = server.stop()
    print(f"{CALLS} recordUsage calls through 2 workers on PostgreSQL: {CALLS / elapsed:.0f} calls/s")

    assert [b for b in bodies if b != {"data": {"recordUsage": {"recorded": True, "reason": None}}}] == []
    expected = {(u, f): SEEDED for u in USERS_IDS for f in FEATURE_IDS}
    for user_id, feature_id, delta in calls:
        expected[(user_id, feature_id)] += delta
    assert used == expected

    events, counters = await stored_usage(url, key)
    assert counters == expected
    for pair, rows in events.items():
        assert len(rows) == 1 + sum(1 for u, f, _ in calls if (u, f) == pair), pair  # the seed's, once
        replayed = 0
        for action, delta, used_after in rows:
            assert action == "ADD"
            replayed += delta
            assert used_after == replayed, pair
        assert replayed == expected[pair]

    assert exit_code == 0, server.log()
    for pid in server.worker_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
