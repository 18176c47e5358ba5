"""A run's options and progress clock, and the load phase: every scenario on the floor and on kana-server."""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench.load import LoadGenerator, LoadResult, Workload
from bench.processes import ChildServer, clean_environment, floor_server, kana_server
from bench.project import BenchProject, Pair
from bench.results import BenchRun, Landed, ScenarioResult, allowance
from bench.scenarios import (
    BY_KEY,
    Api,
    FloorApi,
    KanaApi,
    Scenario,
    settled_total,
    shuffled,
)

CURVE_SIZES = (1_000, 10_000, 100_000, 1_000_000)
LOAD_USERS = 50


@dataclass(frozen=True)
class Options:
    """What to run and for how long (from the command line)."""

    scenarios: tuple[str, ...]
    load: bool
    curve: bool
    import_timing: bool
    memory: bool
    duration: float
    warmup: float
    curve_duration: float
    curve_warmup: float
    curve_rounds: int
    memory_duration: float
    connections: int
    timeout: float
    max_events: int
    synchronous: str

    def sizes(self) -> list[int]:
        """Database sizes to populate: the curve's, or only the largest for import and memory."""
        sizes = [n for n in CURVE_SIZES if n <= self.max_events] or [self.max_events]
        if self.curve:
            return sizes
        return sizes[-1:] if self.import_timing or self.memory else []


class Clock:
    """Prints progress lines prefixed with the time since the run started."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        """One progress line."""
        elapsed = int(time.monotonic() - self.started)
        self.console.print(f"[dim][{elapsed // 60:02d}:{elapsed % 60:02d}][/dim] {message}", highlight=False)


def summary(result: LoadResult) -> str:
    """`1,234 req/s, p50 3.1 ms, p99 9.9 ms, 0 errors`."""
    return (
        f"{result.rps:,.0f} req/s, p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms, "
        f"{result.errors} error{'s' if result.errors != 1 else ''}"
    )


class Bench:
    """Runs the phases into a BenchRun, with every server a child process stopped by PID."""

    def __init__(
        self, options: Options, generator: LoadGenerator, folder: Path, clock: Clock, run: BenchRun
    ) -> None:
        self.options = options
        self.generator = generator
        self.folder = folder
        self.clock = clock
        self.run = run
        self.env = clean_environment() | {"KANA_SQLITE_SYNCHRONOUS": options.synchronous}

    def kana(self, database: Path, seed: Path | None = None, name: str = "kana-server") -> ChildServer:
        """kana-server on a SQLite file (not started)."""
        return kana_server(database, seed=seed, env=self.env, name=name)

    def floor(self, database: Path, seed: Path) -> ChildServer:
        """The floor on a SQLite file (not started)."""
        return floor_server(database, seed, self.options.synchronous, self.env)

    def load(self, server: ChildServer, workload: Workload, seconds: float) -> LoadResult:
        """One run of the generator against a server, with the run's connections and timeout."""
        options = self.options
        return self.generator.run(
            server.url, workload, connections=options.connections, seconds=seconds, timeout=options.timeout
        )

    def drive(self, server: ChildServer, workload: Workload, seconds: float, warmup: float) -> LoadResult:
        """A warm-up run (not counted), then the timed run."""
        if warmup > 0:
            self.load(server, workload, warmup)
        return self.load(server, workload, seconds)

    def measure(
        self, scenario: Scenario, server: ChildServer, api: Api, pairs: Sequence[Pair], users: Sequence[str]
    ) -> tuple[LoadResult, Landed | None]:
        """One scenario on one target; for writes, the usage read back before and after."""
        options = self.options
        self.clock.say(
            f"load: {scenario.title} on {api.name} ({options.warmup:g} s warm-up + {options.duration:g} s)"
        )
        workload = scenario.workload(api, pairs, users)
        if options.warmup > 0:
            self.load(server, workload, options.warmup)
        before = settled_total(server.url, api, pairs) if scenario.counts_usage else 0
        result = self.load(server, workload, options.duration)
        landed = None
        if scenario.counts_usage:
            after = settled_total(server.url, api, pairs)
            landed = Landed(api.name, before, after, result.ok, allowance(result))
        self.clock.say(f"      {api.name}: {summary(result)}")
        if result.errors:
            self.clock.say(f"      [red]{api.name} answered with errors; its last log lines:[/red]")
            self.clock.console.print(server.log(15), markup=False, highlight=False)
        return result, landed

    def load_phase(self) -> None:
        """Every selected scenario on the floor, then on kana-server, both serving the same project."""
        project = BenchProject.started_yesterday(LOAD_USERS)
        seed = project.write_seed(self.folder / "seed.json")
        pairs, users = shuffled(project.pairs()), project.user_ids()
        with ExitStack() as stack:
            self.clock.say("load: starting the floor and kana-server")
            floor = stack.enter_context(self.floor(self.folder / "floor.db", seed))
            kana = stack.enter_context(self.kana(self.folder / "kana.db", seed))
            for key in self.options.scenarios:
                scenario = BY_KEY[key]
                floor_result, floor_landed = self.measure(scenario, floor, FloorApi(), pairs, users)
                kana_result, kana_landed = self.measure(scenario, kana, KanaApi(), pairs, users)
                self.run.scenarios.append(
                    ScenarioResult(
                        scenario.key,
                        scenario.title,
                        scenario.min_ratio,
                        kana_result,
                        floor_result,
                        [x for x in (kana_landed, floor_landed) if x is not None],
                    )
                )
