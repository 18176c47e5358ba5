"""What a load generator is given (a rotation of requests, what a good answer holds) and what it returns.

Every answer is classified the same way by both generators (wrk's Lua `response()` and the asyncio
client): a status outside 2xx is an HTTP error; a 2xx body containing `"errors"` is a GraphQL error (they
ride on HTTP 200); a 2xx body without any of the expected markers is unexpected; the rest are ok.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

GRAPHQL_ERRORS = '"errors"'
"""A 2xx body containing this is a GraphQL error (kana-server and the floor never use the word otherwise)."""


@dataclass(frozen=True)
class HttpRequest:
    """One request of a rotation."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Workload:
    """Requests sent in rotation (each connection starts at its own place) and a good answer's markers."""

    requests: Sequence[HttpRequest]
    expect: tuple[str, ...]
    """A 2xx answer without `"errors"` is ok when it contains any of these (kept spacing-proof)."""

    def classify(self, status: int, body: bytes) -> str:
        """`ok`, `http_error`, `graphql_error` or `unexpected` (the same rule as the Lua script)."""
        if not 200 <= status <= 299:
            return "http_error"
        text = body.decode("utf-8", "replace")
        if GRAPHQL_ERRORS in text:
            return "graphql_error"
        if any(marker in text for marker in self.expect):
            return "ok"
        return "unexpected"


@dataclass
class LoadResult:
    """One timed run: answers by kind, socket errors, and latency percentiles in milliseconds."""

    generator: str
    connections: int
    seconds: float
    answered: int
    ok: int
    http_errors: int
    graphql_errors: int
    unexpected: int
    socket_errors: int
    timeouts: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    """p50, p90, p99, max and mean."""

    @property
    def errors(self) -> int:
        """Every request that did not end in a good answer (timeouts are among the socket errors)."""
        return self.http_errors + self.graphql_errors + self.unexpected + self.socket_errors

    @property
    def rps(self) -> float:
        """Good answers per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50(self) -> float:
        """Median latency, ms."""
        return self.latency_ms.get("p50", math.nan)

    @property
    def p99(self) -> float:
        """99th percentile latency, ms."""
        return self.latency_ms.get("p99", math.nan)

    def as_dict(self) -> dict[str, Any]:
        """For results.json (with the derived numbers)."""
        return {**asdict(self), "rps": round(self.rps, 1), "errors": self.errors}


def percentiles(latencies_s: list[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of latencies given in seconds, in milliseconds."""
    if not latencies_s:
        return {}
    ordered = sorted(latencies_s)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)] * 1000

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": ordered[-1] * 1000,
        "mean": sum(ordered) / len(ordered) * 1000,
    }


class LoadGenerator(Protocol):
    """Drives one server with a workload for a bounded time."""

    name: str
    version: str

    def run(
        self, base_url: str, workload: Workload, *, connections: int, seconds: float, timeout: float
    ) -> LoadResult:
        """Keep `connections` connections busy for `seconds`; requests slower than `timeout` fail."""
        ...
