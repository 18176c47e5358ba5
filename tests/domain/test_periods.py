"""Reset periods: anniversaries of the subscription, month-end clamping from the original anchor (D13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kana_server.domain.model import ResetPeriod
from kana_server.domain.periods import add_months, period_index, period_start, window, window_at


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_month_end_is_clamped_from_the_original_anchor_and_never_drifts() -> None:
    anchor = utc(2028, 1, 31, 9, 30)
    starts = [period_start(anchor, ResetPeriod.MONTH, i) for i in range(5)]
    assert starts == [
        utc(2028, 1, 31, 9, 30),
        utc(2028, 2, 29, 9, 30),  # leap year
        utc(2028, 3, 31, 9, 30),  # back to the 31st, not the 29th
        utc(2028, 4, 30, 9, 30),
        utc(2028, 5, 31, 9, 30),
    ]


def test_february_in_a_common_year_clamps_to_the_28th() -> None:
    assert add_months(utc(2027, 1, 30), 1) == utc(2027, 2, 28)


def test_yearly_period_from_a_leap_day_falls_on_the_28th_in_common_years() -> None:
    anchor = utc(2028, 2, 29)
    assert period_start(anchor, ResetPeriod.YEAR, 1) == utc(2029, 2, 28)
    assert period_start(anchor, ResetPeriod.YEAR, 4) == utc(2032, 2, 29)


def test_daily_periods_are_24_hours_from_the_subscription_instant() -> None:
    anchor = utc(2026, 3, 1, 23, 59, 59)
    assert window(anchor, ResetPeriod.DAY, 2).start == utc(2026, 3, 3, 23, 59, 59)
    assert window(anchor, ResetPeriod.DAY, 2).end == utc(2026, 3, 4, 23, 59, 59)


def test_the_window_containing_an_instant_includes_its_start_and_excludes_its_end() -> None:
    anchor = utc(2026, 1, 15, 12)
    boundary = utc(2026, 2, 15, 12)
    assert window_at(anchor, ResetPeriod.MONTH, boundary - timedelta(milliseconds=1)).index == 0
    assert window_at(anchor, ResetPeriod.MONTH, boundary).index == 1


def test_a_feature_that_never_resets_has_one_period_of_a_hundred_years() -> None:
    anchor = utc(2026, 1, 15)
    current = window_at(anchor, None, utc(2090, 1, 1))
    assert current.index == 0
    assert current.start == anchor
    assert current.end == utc(2126, 1, 15)


def test_an_instant_before_the_anchor_is_in_the_first_period() -> None:
    assert period_index(utc(2026, 5, 1), ResetPeriod.MONTH, utc(2026, 4, 1)) == 0


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@given(
    anchor=instants,
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
    period=st.sampled_from(list(ResetPeriod)),
)
def test_every_instant_after_the_anchor_lies_in_exactly_the_window_found(
    anchor: datetime, offset: timedelta, period: ResetPeriod
) -> None:
    at = anchor + offset
    found = window_at(anchor, period, at)
    assert found.start <= at < found.end
    assert found.start == period_start(anchor, period, found.index)


@given(anchor=instants, months=st.integers(min_value=0, max_value=600))
def test_monthly_starts_keep_the_anchor_day_when_the_month_has_it(anchor: datetime, months: int) -> None:
    start = add_months(anchor, months)
    assert start.day == anchor.day or (start.day < anchor.day and (start + timedelta(days=1)).day == 1)
    assert (start.hour, start.minute, start.second, start.microsecond) == (
        anchor.hour,
        anchor.minute,
        anchor.second,
        anchor.microsecond,
    )


@given(
    anchor=instants, index=st.integers(min_value=0, max_value=400), period=st.sampled_from(list(ResetPeriod))
)
def test_periods_are_contiguous(anchor: datetime, index: int, period: ResetPeriod) -> None:
    assert window(anchor, period, index).end == window(anchor, period, index + 1).start
