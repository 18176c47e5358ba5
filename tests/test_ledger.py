"""The ledger's ring: bounded per project, numbered, filtered newest first; projects dropped LRU."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kana_server.domain.model import Project
from kana_server.ledger import MAX_RESULT_BYTES, MAX_TRACES, Ledger, LedgerEntry, Ledgers, summarize_result

PROJECT = Project(1, "prv_test_x", "pub_test_x", "p", "secret", 0)


@dataclass
class Summary:
    """A stand-in for a GraphQL document summary."""

    root_fields: tuple[str, ...]
    users: set[str] = field(default_factory=set)
    operation_type: str | None = "query"
    operation_name: str | None = None

    def user_ids(self, variables: Any) -> set[str]:
        return set(self.users)


def entry(
    *fields: str, users: tuple[str, ...] = (), traces: int = 0, principal_user: str | None = None
) -> LedgerEntry:
    return LedgerEntry(
        at=datetime(2026, 1, 1, tzinfo=UTC),
        project=PROJECT,
        endpoint="/graphql",
        key_kind="private",
        principal_user=principal_user,
        summary=Summary(fields, set(users)),
        query="{ x }",
        variables=None,
        duration_ms=1.0,
        result=None,
        result_bytes=0,
        result_shape=None,
        errors=[],
        traces=[("entitlement", {"n": n}) for n in range(traces)],
    )


def test_the_ring_keeps_the_newest_and_numbers_every_request() -> None:
    ledger = Ledger(3)
    for n in range(5):
        ledger.append(entry(f"f{n}"))
    assert len(ledger) == 3
    assert ledger.recorded == 5
    assert [e.seq for e in ledger.select()] == [5, 4, 3]


def test_select_filters_limits_and_pages_after_an_id() -> None:
    ledger = Ledger(10)
    ledger.append(entry("recordUsage", users=("u1",)))
    ledger.append(entry("canUseFeature", users=("u1",)))
    ledger.append(entry("recordUsage", users=("u2",)))
    ledger.append(entry("recordUsage", "canUseFeature", users=("u1", "u2")))
    assert [e.seq for e in ledger.select(operation="recordUsage")] == [4, 3, 1]
    assert [e.seq for e in ledger.select(operation="recordUsage", user="u1")] == [4, 1]
    assert [e.seq for e in ledger.select(limit=2)] == [4, 3]
    assert [e.seq for e in ledger.select(after=2)] == [4, 3]
    assert ledger.count(operation="canUseFeature", user="u2") == 1
    assert ledger.count() == 4


def test_a_client_request_concerns_the_user_it_speaks_for() -> None:
    ledger = Ledger(10)
    ledger.append(entry("currentUser", principal_user="u9"))
    assert ledger.count(user="u9") == 1


def test_traces_are_bounded_per_request() -> None:
    ledger = Ledger(1)
    ledger.append(entry("features", traces=MAX_TRACES + 5))
    kept = ledger.select()[0]
    assert len(kept.traces) == MAX_TRACES
    assert kept.to_json()["tracesDropped"] == 5


def test_big_results_are_kept_as_their_shape() -> None:
    small = {"features": [{"id": "a"}]}
    assert summarize_result(small) == (b'{"features":[{"id":"a"}]}', 25, None)
    big = {"users": [{"id": "x" * 100}] * (MAX_RESULT_BYTES // 100), "user": {"id": "u"}, "n": 1}
    data, size, shape = summarize_result(big)
    assert data is None
    assert size > MAX_RESULT_BYTES
    assert shape == {
        "users": {"items": MAX_RESULT_BYTES // 100},
        "user": {"fields": ["id"]},
        "n": {"type": "int"},
    }
    assert summarize_result(None) == (None, 0, None)
    assert summarize_result({"x": {1, 2}}) == (None, 0, {"unencodable": {"type": "dict"}})


def test_ledgers_are_per_project_and_the_least_recently_used_is_dropped() -> None:
    ledgers = Ledgers(capacity=5, projects=2)
    ledgers.for_recording(1).append(entry("a"))
    ledgers.for_recording(2).append(entry("b"))
    ledgers.for_recording(1).append(entry("c"))  # project 1 is now the most recently used
    ledgers.for_recording(3).append(entry("d"))
    assert [e.summary.root_fields for e in ledgers.for_reading(1).select()] == [("c",), ("a",)]
    assert len(ledgers.for_reading(2)) == 0
    assert len(ledgers.for_reading(3)) == 1
    ledgers.forget(1)
    assert len(ledgers.for_reading(1)) == 0


def test_capacity_zero_means_off() -> None:
    assert not Ledgers(0, 1).enabled
    assert Ledgers(1, 1).enabled
