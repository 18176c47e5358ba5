"""The phases on populated databases: import timing, scaling curve and memory.

Each size gets an export written by `bench.project.write_export` and loaded by `kana-server import` (the
largest import is the one timed against the goal). For the curve every size's server runs at once
and the sizes take turns, round after round: a machine that slows down for a while (another process,
a thermal step) then touches every size alike, and each point is the median of its rounds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult, Workload
from bench.phases import Bench, summary
from bench.processes import ChildServer, kana_executable, sqlite_url
from bench.project import EventLayout, write_export
from bench.results import LAYOUTS, Curve, CurvePoint, ImportTiming, Memory
from bench.scenarios import BY_KEY, KanaApi, mixed_workload

CURVE_QUERIES = ("canuse", "showusage")
SPREAD_PAIRS = 200
IMPORT_TIMEOUT_S = 900


@dataclass(frozen=True)
class Populated:
    """A SQLite file filled by import: its layout and how long the import took."""

    database: Path
    layout: EventLayout
    timing: ImportTiming

    def remove(self) -> None:
        """Delete the file (and its WAL)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)


def wait_with_usage(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, int | None]:
    """Wait for a child (killed after `timeout` s); its exit code and peak RSS in KiB (Linux wait4)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            code = os.waitstatus_to_exitcode(status)
            process.returncode = code
            return code, int(usage.ru_maxrss) or None
        if time.monotonic() > deadline:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            raise TimeoutError(f"{process.args!r} did not finish in {timeout:g} s")
        time.sleep(0.05)


def median_run(results: list[LoadResult]) -> LoadResult:
    """The round with the median req/s, its latencies and errors with it; of two middle rounds the
    faster, since interference from other processes only ever slows a round down."""
    ordered = sorted(results, key=lambda r: r.rps)
    return ordered[len(ordered) // 2]


class DataPhases:
    """Populate the sizes, then measure the curve and the memory on them."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.options = bench.options
        self.say = bench.clock.say

    def timed_import(self, export: Path, database: Path, layout: EventLayout) -> ImportTiming:
        """`kana-server import` into a new SQLite file, timed, with its peak memory (wait4)."""
        command = [*kana_executable(), "import", str(export), "--database", sqlite_url(database)]
        show = layout.events >= 100_000  # its progress bar is worth seeing for the long ones
        log = self.bench.folder / f"import-{layout.events}.log"
        with log.open("wb") as out:
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=None if show else out,
                stderr=None if show else out,
                env=self.bench.env,
            )
            try:
                status, usage = wait_with_usage(process, IMPORT_TIMEOUT_S)
            except BaseException:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait()
                raise
            seconds = time.monotonic() - started
        if status != 0:
            output = "" if show else log.read_text(errors="replace")
            raise RuntimeError(f"kana-server import failed ({status}):\n{output}")
        return ImportTiming(layout.events, layout.users, seconds, usage)

    def populate(self, events: int) -> Populated:
        """A SQLite file holding `events` usage events, filled by `kana-server import` of an export."""
        export = self.bench.folder / f"export-{events}.json"
        database = self.bench.folder / f"kana-{events}.db"
        self.say(f"populate: writing an export with {events:,} usage events")
        layout = write_export(export, events)
        self.say(f"populate: kana-server import of {events:,} events, {layout.users:,} users")
        timing = self.timed_import(export, database, layout)
        export.unlink()
        self.say(f"      imported in {timing.seconds:.1f} s ({timing.events_per_second:,.0f} events/s)")
        return Populated(database, layout, timing)

    def run(self) -> None:
        """Populate every size; the largest import is the timed one; then the curve and the memory."""
        populated = [self.populate(events) for events in self.options.sizes()]
        largest = populated[-1]
        self.bench.run.import_timing = largest.timing
        try:
            with ExitStack() as stack:
                serving = populated if self.options.curve else [largest] if self.options.memory else []
                servers = []
                for item in serving:
                    self.say(f"curve: starting kana-server on {item.layout.events:,} events")
                    name = f"kana-server ({item.layout.events:,} events)"
                    servers.append(stack.enter_context(self.bench.kana(item.database, name=name)))
                if self.options.curve:
                    self.bench.run.curve = self.curve(list(zip(populated, servers, strict=True)))
                if self.options.memory:
                    self.bench.run.memory = self.memory(servers[-1], largest.layout)
        finally:
            for item in populated:
                item.remove()

    def curve(self, sizes: list[tuple[Populated, ChildServer]]) -> Curve:
        """canUseFeature and showUsage on the hot pair and on spread pairs, every size in turn per round."""
        options = self.options
        api = KanaApi()
        workloads: dict[tuple[int, str, str], Workload] = {}
        for item, _ in sizes:
            targets = {"one": [item.layout.hot_pair], "spread": item.layout.spread_pairs(SPREAD_PAIRS)}
            for key in CURVE_QUERIES:
                for layout in LAYOUTS:
                    workloads[(item.layout.events, key, layout)] = BY_KEY[key].workload(
                        api, targets[layout], []
                    )
        for item, server in sizes:
            events = item.layout.events
            self.say(f"curve: warming up the server on {events:,} events ({options.curve_warmup:g} s)")
            mixed = [w for (n, _, _), w in workloads.items() if n == events]
            warmup = Workload(
                [r for w in mixed for r in w.requests], tuple(m for w in mixed for m in w.expect)
            )
            self.bench.load(server, warmup, options.curve_warmup)
        rounds: dict[tuple[int, str, str], list[LoadResult]] = {key: [] for key in workloads}
        for number in range(options.curve_rounds):
            self.say(
                f"curve: round {number + 1} of {options.curve_rounds} "
                f"({len(workloads)} runs of {options.curve_duration:g} s)"
            )
            turn = sizes[number % len(sizes) :] + sizes[: number % len(sizes)]
            for key in CURVE_QUERIES:
                for layout in LAYOUTS:
                    line = []
                    for item, server in turn:
                        events = item.layout.events
                        result = self.bench.load(
                            server, workloads[(events, key, layout)], options.curve_duration
                        )
                        rounds[(events, key, layout)].append(result)
                        line.append(
                            f"{events:,}: {result.rps:,.0f}/s"
                            + (f" {result.errors} err" if result.errors else "")
                        )
                    self.say(f"      {BY_KEY[key].title} ({layout}) " + ", ".join(line))
        curve = Curve()
        for item, _ in sizes:
            point = CurvePoint(item.layout, item.timing.seconds)
            for key in CURVE_QUERIES:
                title = BY_KEY[key].title
                point.runs[title] = {}
                point.rounds[title] = {}
                for layout in LAYOUTS:
                    results = rounds[(item.layout.events, key, layout)]
                    point.runs[title][layout] = median_run(results)
                    point.rounds[title][layout] = [round(r.rps, 1) for r in results]
            curve.points.append(point)
        return curve

    def memory(self, server: ChildServer, layout: EventLayout) -> Memory:
        """The server's RSS after a short mixed load on the populated database."""
        seconds = self.options.memory_duration
        self.say(f"memory: mixed load for {seconds:g} s on {layout.events:,} events, then RSS")
        pairs = layout.spread_pairs(SPREAD_PAIRS, seed=99)
        workload = mixed_workload(KanaApi(), pairs, [user for user, _ in pairs])
        result = self.bench.load(server, workload, seconds)
        found = server.memory_kib()
        memory = Memory(layout.events, layout.users, found.get("VmRSS", 0), found.get("VmHWM", 0), result)
        rss, peak = memory.rss_kib / 1024, memory.peak_kib / 1024
        self.say(f"      RSS {rss:,.0f} MiB (peak {peak:,.0f} MiB), {summary(result)}")
        return memory
