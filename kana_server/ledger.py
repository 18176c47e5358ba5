"""The request ledger ([X]): what each GraphQL request of a project asked, what it got, and why.

Every GraphQL request that resolved a project is kept in a bounded in-memory ring of that project
(D80), never in the database. Recording is on the hot path, so it keeps references and does as little
as it can; redaction (D81), the users a request concerns (D82) and the JSON form are computed when the
ledger is read.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

from kana_server.api.scalars import format_instant
from kana_server.domain.clock import project_clock_state
from kana_server.domain.model import Project
from kana_server.redaction import mask, redact, redact_text
from kana_server.services.base import TraceData

MAX_TRACES = 200
"""Decision traces kept per request (a `features { entitlement }` over a big catalog makes many)."""
MAX_RESULT_BYTES = 8192
"""A result whose JSON is bigger is kept as its shape only (sizes of its root fields)."""

Trace = tuple[str, TraceData]


class OperationSummary(Protocol):
    """What the ledger needs to know about a request's GraphQL document (api/recording.py makes it)."""

    @property
    def operation_type(self) -> str | None:
        """query, mutation or subscription; None when the document is unusable."""
        ...

    @property
    def operation_name(self) -> str | None:
        """The operation's name, if it has one."""
        ...

    @property
    def root_fields(self) -> tuple[str, ...]:
        """The names of the operation's root fields (`recordUsage`, ...), in order, once each."""
        ...

    def user_ids(self, variables: Any) -> set[str]:
        """The user ids the operation's arguments name (D82)."""
        ...


@dataclass(slots=True)
class LedgerEntry:
    """One GraphQL request as the ledger keeps it."""

    at: datetime  # real time the request arrived
    project: Project  # as authenticated: its name and its virtual clock at that moment
    endpoint: str
    key_kind: str
    principal_user: str | None  # the user a client-API request speaks for
    summary: OperationSummary
    query: str | None
    variables: Any
    duration_ms: float
    result: bytes | None  # `data` as JSON, when small enough
    result_bytes: int
    result_shape: dict[str, Any] | None  # `data`'s shape when too big to keep
    errors: list[dict[str, Any]]
    traces: list[Trace]
    traces_dropped: int = 0
    seq: int = 0
    _users: frozenset[str] | None = field(default=None, repr=False)

    @property
    def users(self) -> frozenset[str]:
        """The users this request concerns (computed once, on first read)."""
        if self._users is None:
            found = self.summary.user_ids(self.variables)
            if self.principal_user is not None:
                found.add(self.principal_user)
            self._users = frozenset(found)
        return self._users

    def matches(self, operation: str | None, user: str | None) -> bool:
        """Whether the entry passes the filters: a root field name, a user id."""
        if operation is not None and operation not in self.summary.root_fields:
            return False
        return user is None or user in self.users

    def built_traces(self) -> list[tuple[str, dict[str, Any]]]:
        """The decision traces, built on first read (services hand them over unbuilt: the hot path)."""
        built = [(kind, data() if callable(data) else data) for kind, data in self.traces]
        self.traces = list(built)
        return built

    def to_json(self) -> dict[str, Any]:
        """The entry as `/_kana/requests` shows it, secrets redacted (D81)."""
        result: Any = None
        if self.result is not None:
            result = redact(orjson.loads(self.result))
        return {
            "id": self.seq,
            "at": format_instant(self.at),
            "projectTime": format_instant(project_clock_state(self.project).now(self.at)),
            "project": mask(self.project.name),
            "endpoint": self.endpoint,
            "keyKind": self.key_kind,
            "operationType": self.summary.operation_type,
            "operationName": self.summary.operation_name,
            "rootFields": list(self.summary.root_fields),
            "users": sorted(self.users),
            "durationMs": round(self.duration_ms, 3),
            "query": None if self.query is None else redact_text(self.query),
            "variables": redact(self.variables),
            "result": result,
            "resultBytes": self.result_bytes,
            "resultTruncated": self.result_shape,
            "errors": [{**error, "message": redact_text(str(error["message"]))} for error in self.errors],
            "traces": [
                {"kind": kind, **redact(data() if callable(data) else data)} for kind, data in self.traces
            ],
            "tracesDropped": self.traces_dropped,
        }


def summarize_result(data: Any) -> tuple[bytes | None, int, dict[str, Any] | None]:
    """`data` kept as JSON when small, else only its shape: (json, size, shape)."""
    if data is None:
        return None, 0, None
    try:
        encoded = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # the ledger must never be what fails a request
        return None, 0, {"unencodable": {"type": type(data).__name__}}
    if len(encoded) <= MAX_RESULT_BYTES:
        return encoded, len(encoded), None
    shape: dict[str, Any] = {}
    if isinstance(data, dict):
        for name, value in data.items():
            if isinstance(value, list):
                shape[name] = {"items": len(value)}
            elif isinstance(value, dict):
                shape[name] = {"fields": sorted(value)}
            else:
                shape[name] = {"type": type(value).__name__}
    return None, len(encoded), shape


class Ledger:
    """One project's ring of requests: the newest `capacity` are kept."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: deque[LedgerEntry] = deque(maxlen=capacity)
        self.recorded = 0

    def append(self, entry: LedgerEntry) -> None:
        """Keep a request (the oldest falls out when the ring is full); numbers it."""
        self.recorded += 1
        entry.seq = self.recorded
        if len(entry.traces) > MAX_TRACES:
            entry.traces_dropped = len(entry.traces) - MAX_TRACES
            entry.traces = entry.traces[:MAX_TRACES]
        self._entries.append(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def newest_first(self, operation: str | None = None, user: str | None = None) -> Iterator[LedgerEntry]:
        """The kept requests that pass the filters, newest first."""
        return (e for e in reversed(self._entries) if e.matches(operation, user))

    def select(
        self, *, operation: str | None = None, user: str | None = None, after: int = 0, limit: int = 100
    ) -> list[LedgerEntry]:
        """At most `limit` requests newer than `after` (an entry id) that pass the filters, newest first."""
        found: list[LedgerEntry] = []
        for entry in reversed(self._entries):
            if entry.seq <= after or len(found) >= limit:
                break
            if entry.matches(operation, user):
                found.append(entry)
        return found

    def count(self, *, operation: str | None = None, user: str | None = None) -> int:
        """How many kept requests pass the filters."""
        return sum(1 for _ in self.newest_first(operation, user))


class Ledgers:
    """The ledgers of every project this process served (the least recently used are dropped)."""

    def __init__(self, capacity: int, projects: int) -> None:
        self.capacity = capacity
        self.projects = projects
        self._ledgers: OrderedDict[int, Ledger] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """Whether requests are recorded at all (a capacity of 0 turns the ledger off)."""
        return self.capacity > 0

    def for_recording(self, project_id: int) -> Ledger:
        """The project's ledger, made on first use."""
        ledger = self._ledgers.get(project_id)
        if ledger is None:
            ledger = self._ledgers[project_id] = Ledger(self.capacity)
            while len(self._ledgers) > self.projects:
                self._ledgers.popitem(last=False)
        else:
            self._ledgers.move_to_end(project_id)
        return ledger

    def for_reading(self, project_id: int) -> Ledger:
        """The project's ledger (an empty one if it recorded nothing)."""
        ledger = self._ledgers.get(project_id)
        return Ledger(self.capacity) if ledger is None else ledger

    def forget(self, project_id: int) -> None:
        """Drop a project's ledger (e.g. when the project is reset)."""
        self._ledgers.pop(project_id, None)
