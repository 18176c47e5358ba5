"""Reset periods: [start, end) windows anchored on the moment the user subscribed (UTC)."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from functools import lru_cache

from kana_server.domain.model import ResetPeriod, Window

NEVER_RESETS_SPAN_YEARS = 100
"""A feature that never resets still reports a non-null periodEnd: the anchor plus 100 years (D14)."""


@lru_cache(maxsize=8192)
def add_months(anchor: datetime, months: int) -> datetime:
    """The anchor moved by whole calendar months, its day clamped to the target month's last day.

    Always computed from the original anchor, so 31 Jan → 29 Feb → 31 Mar never drifts (D13).
    Remembered: every entitlement check asks it for the same subscriptions' anchors again.
    """
    total = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(total, 12)
    month = month0 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_start(anchor: datetime, period: ResetPeriod | None, index: int) -> datetime:
    """Start of the index-th period after the anchor (index 0 starts at the anchor)."""
    if period is None:
        return anchor if index == 0 else add_months(anchor, 12 * NEVER_RESETS_SPAN_YEARS * index)
    if period is ResetPeriod.DAY:
        return anchor + timedelta(days=index)
    if period is ResetPeriod.MONTH:
        return add_months(anchor, index)
    return add_months(anchor, 12 * index)


def period_index(anchor: datetime, period: ResetPeriod | None, at: datetime) -> int:
    """Index of the period that contains `at` (0 for any instant before the anchor)."""
    if at <= anchor or period is None:
        return 0
    if period is ResetPeriod.DAY:
        return (at - anchor) // timedelta(days=1)
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    index = months if period is ResetPeriod.MONTH else months // 12
    while index > 0 and period_start(anchor, period, index) > at:
        index -= 1
    while period_start(anchor, period, index + 1) <= at:
        index += 1
    return index


def window(anchor: datetime, period: ResetPeriod | None, index: int) -> Window:
    """The index-th period as a [start, end) window."""
    return Window(
        index=index,
        start=period_start(anchor, period, index),
        end=period_start(anchor, period, index + 1),
    )


def window_at(anchor: datetime, period: ResetPeriod | None, at: datetime) -> Window:
    """The period that contains `at`."""
    return window(anchor, period, period_index(anchor, period, at))
