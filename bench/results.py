"""A run's numbers, the goals of issue 12 checked against them, and `results.json`.

The goals are ratios and bounds read from one run; nothing here is a test threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench.load import LoadResult
from bench.project import EventLayout

P99_LIMIT_MS = 50.0
CURVE_TOLERANCE = 0.20
IMPORT_LIMIT_S = 60.0
MEMORY_LIMIT_MIB = 200.0
LAYOUTS = ("one", "spread")
"""Curve columns: requests on the one pair holding half the events, or on pairs of the spread half."""


@dataclass(frozen=True)
class Goal:
    """One goal: what it asks, what was measured, whether it was met."""

    kind: str
    """ratio, p99, errors, lands, flat, import or memory."""
    name: str
    target: str
    value: str
    met: bool

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "kind": self.kind,
            "name": self.name,
            "target": self.target,
            "value": self.value,
            "met": self.met,
        }


@dataclass(frozen=True)
class Landed:
    """Whether acknowledged recordUsage calls are in the counters, read back through the API.

    Requests still in flight when the run's time is up may land without being counted as answered:
    at most one per connection, plus one per timed-out or failed request (its connection is replaced).
    So the check is `acknowledged <= landed <= acknowledged + allowance`.
    """

    target: str
    before: int
    after: int
    acknowledged: int
    allowance: int

    @property
    def landed(self) -> int:
        """Usage added during the timed run."""
        return self.after - self.before

    @property
    def met(self) -> bool:
        """Every acknowledged write landed, and nothing beyond what may have been in flight."""
        return self.acknowledged <= self.landed <= self.acknowledged + self.allowance

    def describe(self) -> str:
        """`landed 1234 = acknowledged 1200 + 34 (≤ 50 in flight)`."""
        extra = self.landed - self.acknowledged
        return (
            f"{self.target}: landed {self.landed} = acknowledged {self.acknowledged} "
            f"{'+' if extra >= 0 else '−'} {abs(extra)} (allowed 0..{self.allowance})"
        )

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "landed": self.landed,
            "acknowledged": self.acknowledged,
            "allowance": self.allowance,
            "met": self.met,
        }


def allowance(result: LoadResult) -> int:
    """How many writes may have landed without a good answer (see Landed)."""
    return result.connections + result.socket_errors + result.http_errors + result.graphql_errors


@dataclass
class ScenarioResult:
    """One scenario measured on kana-server and on the floor, back to back."""

    key: str
    title: str
    min_ratio: float | None
    kana: LoadResult
    floor: LoadResult
    landed: list[Landed] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """kana-server's good answers per second over the floor's."""
        return self.kana.rps / self.floor.rps if self.floor.rps > 0 else math.nan

    def goals(self) -> list[Goal]:
        """Ratio (recordUsage, canUseFeature), p99, errors and, for writes, landed usage."""
        goals = []
        if self.min_ratio is not None:
            goals.append(
                Goal(
                    "ratio",
                    f"{self.title} ≥ {self.min_ratio:.2f} × floor",
                    f"≥ {self.min_ratio:.2f}",
                    f"{self.ratio:.2f}",
                    self.ratio >= self.min_ratio,
                )
            )
        goals.append(
            Goal(
                "p99",
                f"{self.title} p99 < {P99_LIMIT_MS:.0f} ms",
                f"< {P99_LIMIT_MS:.0f} ms",
                f"{self.kana.p99:.1f} ms",
                self.kana.p99 < P99_LIMIT_MS,
            )
        )
        goals.append(
            Goal(
                "errors",
                f"{self.title} without errors",
                "0",
                f"kana {self.kana.errors}, floor {self.floor.errors}",
                self.kana.errors == 0 and self.floor.errors == 0 and self.kana.answered > 0,
            )
        )
        if self.landed:
            goals.append(
                Goal(
                    "lands",
                    f"{self.title} lands (acknowledged = in the counters)",
                    "ack ≤ landed ≤ ack + in flight",
                    "; ".join(f"{x.target} +{x.landed - x.acknowledged}" for x in self.landed),
                    all(x.met for x in self.landed),
                )
            )
        return goals

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "key": self.key,
            "title": self.title,
            "kana": self.kana.as_dict(),
            "floor": self.floor.as_dict(),
            "ratio": round(self.ratio, 3),
            "min_ratio": self.min_ratio,
            "landed": [x.as_dict() for x in self.landed],
            "goals": [g.as_dict() for g in self.goals()],
        }


@dataclass
class CurvePoint:
    """One database size: its layout, how long its import took, and each query's runs by layout."""

    layout: EventLayout
    import_seconds: float
    runs: dict[str, dict[str, LoadResult]] = field(default_factory=dict)
    """query → layout → the round with the median req/s."""
    rounds: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """query → layout → req/s of every round."""


@dataclass
class Curve:
    """canUseFeature and showUsage cost by stored event count."""

    points: list[CurvePoint] = field(default_factory=list)

    def queries(self) -> list[str]:
        """The measured queries, in order."""
        return list(self.points[0].runs) if self.points else []

    def relative(self, query: str, layout: str) -> list[float]:
        """Each size's req/s relative to the smallest size's (0.0: the same; −0.25: 25% slower)."""
        base = self.points[0].runs[query][layout].rps if self.points else 0.0
        return [p.runs[query][layout].rps / base - 1 if base > 0 else math.nan for p in self.points]

    def goals(self) -> list[Goal]:
        """Flat within ±20% of the smallest size, per query and layout."""
        goals: list[Goal] = []
        if len(self.points) < 2:
            return goals
        smallest, largest = self.points[0].layout.events, self.points[-1].layout.events
        for query in self.queries():
            for layout in LAYOUTS:
                spread = self.relative(query, layout)
                worst = max(spread, key=lambda x: abs(x) if not math.isnan(x) else math.inf)
                goals.append(
                    Goal(
                        "flat",
                        f"{query} ({layout}) flat from {smallest:,} to {largest:,} events",
                        f"±{CURVE_TOLERANCE:.0%}",
                        f"worst {worst:+.0%}",
                        all(abs(x) <= CURVE_TOLERANCE for x in spread),
                    )
                )
        return goals

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "points": [
                {
                    **p.layout.as_dict(),
                    "import_seconds": round(p.import_seconds, 2),
                    "runs": {
                        query: {layout: result.as_dict() for layout, result in by_layout.items()}
                        for query, by_layout in p.runs.items()
                    },
                    "rounds_rps": p.rounds,
                }
                for p in self.points
            ],
            "relative_rps": {
                query: {layout: [round(x, 3) for x in self.relative(query, layout)] for layout in LAYOUTS}
                for query in self.queries()
            },
            "goals": [g.as_dict() for g in self.goals()],
        }


@dataclass(frozen=True)
class ImportTiming:
    """`kana-server import` of an export with `events` usage events into a new SQLite file."""

    events: int
    users: int
    seconds: float
    peak_rss_kib: int | None

    @property
    def events_per_second(self) -> float:
        """Import speed."""
        return self.events / self.seconds if self.seconds > 0 else math.nan

    def goals(self) -> list[Goal]:
        """Under 60 s for 1 000 000 events (only judged at that size or above)."""
        if self.events < 1_000_000:
            return []
        return [
            Goal(
                "import",
                f"import of {self.events:,} events",
                f"< {IMPORT_LIMIT_S:.0f} s",
                f"{self.seconds:.1f} s",
                self.seconds < IMPORT_LIMIT_S,
            )
        ]

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "events": self.events,
            "users": self.users,
            "seconds": round(self.seconds, 2),
            "events_per_second": round(self.events_per_second),
            "peak_rss_kib": self.peak_rss_kib,
            "goals": [g.as_dict() for g in self.goals()],
        }


@dataclass(frozen=True)
class Memory:
    """The server's memory with a populated database, after a short mixed load."""

    events: int
    users: int
    rss_kib: int
    peak_kib: int
    load: LoadResult

    def goals(self) -> list[Goal]:
        """RSS under 200 MiB (judged with 1 000 000 events and 100 000 users or more)."""
        if self.events < 1_000_000 or self.users < 100_000:
            return []
        return [
            Goal(
                "memory",
                f"server RSS with {self.users:,} users, {self.events:,} events",
                f"< {MEMORY_LIMIT_MIB:.0f} MiB",
                f"{self.rss_kib / 1024:.0f} MiB (peak {self.peak_kib / 1024:.0f})",
                self.rss_kib / 1024 < MEMORY_LIMIT_MIB,
            )
        ]

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "events": self.events,
            "users": self.users,
            "rss_kib": self.rss_kib,
            "peak_rss_kib": self.peak_kib,
            "load": self.load.as_dict(),
            "goals": [g.as_dict() for g in self.goals()],
        }


@dataclass
class BenchRun:
    """Everything one `python -m bench` measured, and on what."""

    started: datetime
    settings: dict[str, Any]
    environment: dict[str, Any]
    scenarios: list[ScenarioResult] = field(default_factory=list)
    curve: Curve | None = None
    import_timing: ImportTiming | None = None
    memory: Memory | None = None
    finished: datetime | None = None
    failure: str | None = None
    """Why the run stopped early (interrupted, or a phase failed); its results are partial."""

    def goals(self) -> list[Goal]:
        """Every goal that this run measured."""
        goals = [g for s in self.scenarios for g in s.goals()]
        for part in (self.curve, self.import_timing, self.memory):
            if part is not None:
                goals += part.goals()
        return goals

    def document(self) -> dict[str, Any]:
        """The whole run as results.json."""
        seconds = (self.finished - self.started).total_seconds() if self.finished else None
        return {
            "format": 1,
            "date": self.started.isoformat(timespec="seconds"),
            "duration_seconds": round(seconds, 1) if seconds is not None else None,
            "complete": self.failure is None,
            "failure": self.failure,
            **self.environment,
            "settings": self.settings,
            "scenarios": {s.key: s.as_dict() for s in self.scenarios},
            "curve": self.curve.as_dict() if self.curve else None,
            "import": self.import_timing.as_dict() if self.import_timing else None,
            "memory": self.memory.as_dict() if self.memory else None,
            "goals": [g.as_dict() for g in self.goals()],
            "all_goals_met": all(g.met for g in self.goals()),
        }


def write_results(run: BenchRun, path: Path) -> Path:
    """Write results.json (indented, NaN written as null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(run.document(), option=orjson.OPT_INDENT_2))
    return path
