"""The benchmark harness itself (bench/): the floor is correct and durable, both load generators count
errors alike (GraphQL errors on HTTP 200 included), exports import, and the results hold every number.
No timing is asserted: the runs here are one second long and only their counts are checked."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from bench.asyncload import AsyncioClient
from bench.load import HttpRequest, LoadGenerator, LoadResult, Workload
from bench.processes import ChildServer, floor_server, kana_executable, sqlite_url
from bench.project import CONSUMABLE, BenchProject, EventLayout, user_id, users_for, write_export
from bench.report import render
from bench.results import (
    BenchRun,
    Curve,
    CurvePoint,
    ImportTiming,
    Landed,
    Memory,
    ScenarioResult,
    write_results,
)
from bench.scenarios import BY_KEY, FloorApi, send, total_used
from bench.wrk import Wrk, find_wrk, lua_string

PAIR = ("user-1", "api-calls")


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's seed with three users."""
    return BenchProject.started_yesterday(3).write_seed(tmp_path_factory.mktemp("seed") / "seed.json")


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory, seed: Path) -> Iterator[ChildServer]:
    """The floor app on a free port (synchronous=OFF: nothing here needs the disk's durability)."""
    with floor_server(tmp_path_factory.mktemp("floor") / "floor.db", seed, "OFF") as server:
        yield server


def generators() -> list[LoadGenerator]:
    """The asyncio client, and wrk when it is installed."""
    path = find_wrk()
    return [AsyncioClient(), *([Wrk(path)] if path else [])]


def test_floor_record_is_durable_across_a_restart(tmp_path: Path, seed: Path):
    database = tmp_path / "floor.db"
    api = FloorApi()
    with floor_server(database, seed, "FULL") as server, httpx.Client(timeout=10) as client:
        for _ in range(3):
            assert send(client, server.url, api.record(PAIR)) == {
                "data": {"recordUsage": {"recorded": True, "reason": None}}
            }
    with floor_server(database, seed, "FULL") as server, httpx.Client(timeout=10) as client:
        assert total_used(server.url, api, [PAIR]) == 3
        shown = send(client, server.url, api.show_usage(PAIR))["data"]["showUsage"]
        assert shown["current"]["consumption"]["used"] == 3
        assert shown["past"] == []
        features = send(client, server.url, api.features())["data"]["features"]
        assert [f["id"] for f in features] == ["api-calls", "messages", "exports", "storage", "dashboard"]
        user = send(client, server.url, api.current_user("user-1"))["data"]["currentUser"]
        used = {f["id"]: f["entitlement"]["consumption"] for f in user["subscribedPackages"][0]["features"]}
        assert used["api-calls"] == {"budget": 2147483647, "used": 3}


def test_floor_answers_an_unknown_user_with_a_graphql_error_on_200(floor: ChildServer):
    with httpx.Client(timeout=10) as client:
        answer = send(client, floor.url, FloorApi().can_use(("nobody", "api-calls")))
    assert answer["data"] is None
    assert answer["errors"][0]["message"] == 'User "nobody" not found'


@pytest.mark.parametrize("generator", generators(), ids=lambda g: g.name)
def test_generator_counts_graphql_errors_on_200_and_http_errors(floor: ChildServer, generator: LoadGenerator):
    api = FloorApi()
    workload = Workload(
        [
            api.can_use(PAIR),
            api.can_use(("nobody", "api-calls")),  # 200 with {"errors": [...]}
            HttpRequest("POST", "/nowhere", (), b"{}"),  # 404
        ],
        BY_KEY["canuse"].expect,
    )
    result = generator.run(floor.url, workload, connections=3, seconds=1, timeout=10)
    assert result.ok > 0
    assert result.graphql_errors > 0
    assert result.http_errors > 0
    assert result.unexpected == result.socket_errors == 0
    assert result.answered == result.ok + result.graphql_errors + result.http_errors
    # Each connection sends the three in turn: the counts differ by less than one per connection.
    assert abs(result.ok - result.graphql_errors) <= 3
    assert result.errors == result.graphql_errors + result.http_errors
    assert result.p50 <= result.p99


@pytest.mark.parametrize("generator", generators(), ids=lambda g: g.name)
def test_generator_counts_an_answer_without_the_expected_marker(floor: ChildServer, generator: LoadGenerator):
    workload = Workload([FloorApi().features()], BY_KEY["canuse"].expect)
    result = generator.run(floor.url, workload, connections=2, seconds=1, timeout=10)
    assert result.ok == 0
    assert result.unexpected == result.answered > 0


def test_classify_matches_the_lua_rules():
    workload = Workload([], ('"access":true', '"access": true'))
    assert workload.classify(200, b'{"data":{"canUseFeature":{"access": true}}}') == "ok"
    assert workload.classify(200, b'{"data":null,"errors":[{"message":"x"}]}') == "graphql_error"
    assert workload.classify(200, b'{"data":{"canUseFeature":{"access":false}}}') == "unexpected"
    assert workload.classify(500, b'{"data":{"canUseFeature":{"access":true}}}') == "http_error"


def test_lua_string_escapes_quotes_newlines_and_utf8():
    assert lua_string('{"a": "b\\\\"}\n') == '"{\\034a\\034: \\034b\\092\\092\\034}\\010"'
    assert lua_string("é") == '"\\195\\169"'


def test_an_export_written_by_the_bench_imports(tmp_path: Path):
    export = tmp_path / "export.json"
    layout = write_export(export, 1000)
    assert (layout.hot_events, layout.spread_events, layout.users) == (500, 500, 100)
    done = subprocess.run(
        [*kana_executable(), "import", str(export), "--database", sqlite_url(tmp_path / "kana.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "100 users, 100 subscriptions, 1000 usage" in done.stderr


def load(ok: int, rps_seconds: float = 10.0, p99: float = 20.0, errors: int = 0) -> LoadResult:
    """A made-up run."""
    return LoadResult(
        generator="wrk",
        connections=50,
        seconds=rps_seconds,
        answered=ok + errors,
        ok=ok,
        http_errors=0,
        graphql_errors=errors,
        unexpected=0,
        socket_errors=0,
        timeouts=0,
        latency_ms={"p50": p99 / 2, "p90": p99 * 0.8, "p99": p99, "max": p99 * 2, "mean": p99 / 2},
    )


def layout_of(events: int) -> EventLayout:
    """The layout write_export gives for a size, without writing the file."""
    return EventLayout(
        events, users_for(events), (user_id(0), CONSUMABLE[0]), events // 2, events - events // 2
    )


def made_up_run() -> BenchRun:
    """A run with every part filled from given numbers."""
    points = [CurvePoint(layout_of(1000), 1.0), CurvePoint(layout_of(1_000_000), 40.0)]
    for point, rps in zip(points, (1000, 900), strict=True):
        point.runs = {"canUseFeature": {"one": load(rps), "spread": load(rps)}}
        point.rounds = {"canUseFeature": {"one": [rps / 10], "spread": [rps / 10]}}
    return BenchRun(
        started=datetime(2026, 1, 1, tzinfo=UTC),
        finished=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
        settings={"connections": 50, "duration_s": 8, "warmup_s": 2},
        environment={"machine": {"cores": 2}, "generator": {"name": "wrk"}},
        scenarios=[
            ScenarioResult(
                "record",
                "recordUsage",
                0.5,
                kana=load(6000),
                floor=load(10000),
                landed=[Landed("kana-server", before=10, after=6040, acknowledged=6000, allowance=50)],
            ),
            ScenarioResult("canuse", "canUseFeature", 0.4, kana=load(3000, p99=60), floor=load(10000)),
        ],
        curve=Curve(points),
        import_timing=ImportTiming(1_000_000, 100_000, 45.0, 2_000_000),
        memory=Memory(1_000_000, 100_000, 150 * 1024, 160 * 1024, load(500)),
    )


def test_results_document_holds_every_number_and_goal(tmp_path: Path):
    run = made_up_run()
    written = json.loads(write_results(run, tmp_path / "results.json").read_text())
    assert {
        "date",
        "machine",
        "generator",
        "settings",
        "scenarios",
        "curve",
        "import",
        "memory",
        "goals",
    } <= set(written)
    record = written["scenarios"]["record"]
    assert record["ratio"] == 0.6
    assert record["kana"]["rps"] == 600.0
    assert record["landed"][0] == {
        "target": "kana-server",
        "before": 10,
        "after": 6040,
        "landed": 6030,
        "acknowledged": 6000,
        "allowance": 50,
        "met": True,
    }
    met = {goal["name"]: goal["met"] for goal in written["goals"]}
    assert met["recordUsage ≥ 0.50 × floor"] is True
    assert met["canUseFeature ≥ 0.40 × floor"] is False  # 0.30
    assert met["canUseFeature p99 < 50 ms"] is False
    assert met["canUseFeature (one) flat from 1,000 to 1,000,000 events"] is True  # −10%
    assert met["import of 1,000,000 events"] is True
    assert met["server RSS with 100,000 users, 1,000,000 events"] is True
    assert written["curve"]["relative_rps"]["canUseFeature"]["one"] == [0.0, -0.1]
    assert written["all_goals_met"] is False


def test_landed_allows_only_requests_in_flight():
    assert Landed("kana", 0, 100, 100, 50).met
    assert Landed("kana", 0, 150, 100, 50).met
    assert not Landed("kana", 0, 99, 100, 50).met  # an acknowledged write is missing
    assert not Landed("kana", 0, 151, 100, 50).met  # more than could have been in flight


def test_report_prints_the_tables():
    out = io.StringIO()
    render(Console(file=out, width=200), made_up_run())
    text = out.getvalue()
    for expected in (
        "recordUsage",
        "canUseFeature",
        "0.60",
        "Scaling curve",
        "1,000,000",
        "Import",
        "Memory",
    ):
        assert expected in text
    assert "✘ ratio, p99" in text
