"""The printed report: the load table, the scaling curve, import and memory, and the goals."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.results import LAYOUTS, P99_LIMIT_MS, BenchRun, Curve, Goal, ScenarioResult


def verdict(met: bool) -> Text:
    """✔ met / ✘ not met, coloured."""
    return Text("✔ met", style="green") if met else Text("✘ not met", style="bold red")


def number(value: float, digits: int = 0) -> str:
    """A number with thousands separators; `–` for NaN."""
    return "–" if math.isnan(value) else f"{value:,.{digits}f}"


def load_table(run: BenchRun) -> Table:
    """One row per scenario: kana-server and the floor side by side, and the scenario's goals."""
    settings = run.settings
    table = Table(
        title=f"Load: {settings['connections']} connections, {settings['duration_s']} s after "
        f"{settings['warmup_s']} s warm-up, {run.environment['generator']['name']}, loopback",
        title_justify="left",
    )
    for column in ("scenario", "kana req/s", "p50 ms", "p99 ms", "floor req/s", "floor p99", "ratio"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    table.add_column("errors k/f", justify="right")
    table.add_column("goal")
    table.add_column("met")
    for s in run.scenarios:
        goals = s.goals()
        table.add_row(
            s.title,
            number(s.kana.rps),
            number(s.kana.p50, 1),
            number(s.kana.p99, 1),
            number(s.floor.rps),
            number(s.floor.p99, 1),
            number(s.ratio, 2),
            f"{s.kana.errors}/{s.floor.errors}",
            goal_text(s),
            failing(goals),
        )
    return table


def goal_text(s: ScenarioResult) -> str:
    """The scenario's goals in a few words."""
    parts = [f"ratio ≥ {s.min_ratio:.2f}"] if s.min_ratio is not None else []
    parts.append(f"p99 < {P99_LIMIT_MS:.0f} ms")
    parts.append("0 errors")
    if s.landed:
        parts.append("lands")
    return ", ".join(parts)


def failing(goals: list[Goal]) -> Text:
    """✔ met, or ✘ and which goals were not met."""
    missed = [g.kind for g in goals if not g.met]
    return Text("✘ " + ", ".join(missed), style="bold red") if missed else verdict(True)


def curve_table(curve: Curve) -> Table:
    """req/s and p50 by event count, each relative to the smallest size."""
    table = Table(
        title="Scaling curve: req/s (p50 ms) by stored usage events; change against the smallest size",
        title_justify="left",
    )
    table.add_column("events", justify="right")
    table.add_column("users", justify="right")
    table.add_column("import s", justify="right")
    relative = {(q, layout): curve.relative(q, layout) for q in curve.queries() for layout in LAYOUTS}
    for query in curve.queries():
        for layout in LAYOUTS:
            table.add_column(f"{query}\n{layout}", justify="right")
    for index, point in enumerate(curve.points):
        cells = [f"{point.layout.events:,}", f"{point.layout.users:,}", f"{point.import_seconds:.1f}"]
        for query in curve.queries():
            for layout in LAYOUTS:
                result = point.runs[query][layout]
                change = relative[(query, layout)][index]
                cells.append(
                    f"{number(result.rps)} ({number(result.p50, 1)})"
                    + ("" if index == 0 else f" {change:+.0%}")
                    + (f" {result.errors} err" if result.errors else "")
                )
        table.add_row(*cells)
    return table


def goals_table(goals: list[Goal]) -> Table:
    """Every measured goal with its value."""
    table = Table(title="Goals (issue 12)", title_justify="left")
    table.add_column("goal")
    table.add_column("target")
    table.add_column("measured")
    table.add_column("met")
    for goal in goals:
        table.add_row(goal.name, goal.target, goal.value, verdict(goal.met))
    return table


def render(console: Console, run: BenchRun) -> None:
    """Print the whole report."""
    if run.scenarios:
        console.print(load_table(run))
        for s in run.scenarios:
            for landed in s.landed:
                console.print(f"  {s.title} {landed.describe()}", highlight=False)
    if run.curve is not None and run.curve.points:
        console.print()
        console.print(curve_table(run.curve))
        hot = run.curve.points[-1].layout
        rounds = run.settings.get("curve_rounds", 1)
        console.print(
            f"  one: every request on {hot.hot_pair[0]}/{hot.hot_pair[1]}, which holds half the events; "
            f"spread: 200 pairs of the other half. Each cell: the median of {rounds} rounds.",
            highlight=False,
        )
    if run.import_timing is not None:
        timing = run.import_timing
        peak = f", peak RSS {timing.peak_rss_kib / 1024:,.0f} MiB" if timing.peak_rss_kib else ""
        console.print(
            f"\nImport: {timing.events:,} events, {timing.users:,} users in {timing.seconds:.1f} s "
            f"({number(timing.events_per_second)} events/s{peak})",
            highlight=False,
        )
    if run.memory is not None:
        memory = run.memory
        rss_mib, peak_mib = memory.rss_kib / 1024, memory.peak_kib / 1024
        console.print(
            f"Memory: kana-server RSS {rss_mib:,.0f} MiB (peak {peak_mib:,.0f} MiB) "
            f"with {memory.users:,} users and {memory.events:,} events, after {memory.load.answered:,} mixed "
            f"requests ({memory.load.errors} errors)",
            highlight=False,
        )
    goals = run.goals()
    if goals:
        console.print()
        console.print(goals_table(goals))
        met = sum(g.met for g in goals)
        console.print(f"{met} of {len(goals)} goals met.", highlight=False)
