"""The virtual clock's moves (D17): set, then advance, then freeze; forward only once there is data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kana_server.domain.clock import ClockState, advance_by, change_clock, parse_instant, truncate_ms
from kana_server.domain.errors import ClockError

REAL = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def test_an_untouched_clock_is_real_time() -> None:
    state = ClockState()
    assert state.now(REAL) == REAL
    assert not state.is_virtual


def test_set_keeps_a_running_clock_running() -> None:
    state = change_clock(
        ClockState(), REAL, set_to=parse_instant("2030-01-01T00:00:00Z"), allow_backwards=True
    )
    assert state.frozen_at is None
    assert state.now(REAL + timedelta(seconds=5)) == datetime(2030, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_freeze_stops_time_and_unfreeze_resumes_from_the_virtual_instant() -> None:
    frozen = change_clock(ClockState(), REAL, freeze=True, allow_backwards=False)
    assert frozen.now(REAL + timedelta(hours=3)) == REAL
    later = REAL + timedelta(hours=3)
    running = change_clock(frozen, later, freeze=False, allow_backwards=False)
    assert running.now(later) == REAL
    assert running.now(later + timedelta(seconds=10)) == REAL + timedelta(seconds=10)


def test_set_then_advance_then_freeze_apply_in_that_order() -> None:
    state = change_clock(
        ClockState(),
        REAL,
        set_to=parse_instant("2028-01-31T10:00:00Z"),
        advance="P1M",
        freeze=True,
        allow_backwards=True,
    )
    assert state.frozen_at == datetime(2028, 2, 29, 10, 0, tzinfo=UTC)


def test_durations_add_months_on_the_calendar_then_days_and_time() -> None:
    start = datetime(2027, 1, 31, 8, 0, tzinfo=UTC)
    assert advance_by(start, "P1M") == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
    assert advance_by(start, "P1Y1M1DT2H") == datetime(2028, 3, 1, 10, 0, tzinfo=UTC)
    assert advance_by(start, 90) == start + timedelta(seconds=90)
    assert advance_by(start, "PT0.5S") == start + timedelta(milliseconds=500)


@pytest.mark.parametrize("bad", ["1 month", "P", "PX", True])
def test_a_bad_duration_is_refused(bad: object) -> None:
    with pytest.raises(ClockError):
        advance_by(REAL, bad)  # type: ignore[arg-type]


def test_fractional_months_are_refused() -> None:
    with pytest.raises(ClockError, match="Fractional"):
        advance_by(REAL, "P1.5M")


def test_going_back_is_refused_once_the_project_holds_data() -> None:
    with pytest.raises(ClockError, match="cannot go back"):
        change_clock(ClockState(), REAL, set_to=REAL - timedelta(days=1), allow_backwards=False)
    with pytest.raises(ClockError):
        change_clock(ClockState(), REAL, advance=-1, allow_backwards=False)


def test_going_back_is_allowed_while_the_project_is_empty() -> None:
    state = change_clock(ClockState(), REAL, set_to=REAL - timedelta(days=400), allow_backwards=True)
    assert state.now(REAL) == REAL - timedelta(days=400)


def test_instants_without_a_zone_are_utc_and_kept_to_milliseconds() -> None:
    assert parse_instant("2026-01-02T03:04:05.678901") == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert parse_instant("2026-01-02T05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert truncate_ms(datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)).microsecond == 999000
    with pytest.raises(ClockError):
        parse_instant("yesterday")
