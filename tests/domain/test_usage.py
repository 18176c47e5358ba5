"""Usage rules: ADD/SET, reverts (D8), replay, and the showUsage report (D15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kana_server.domain.entitlements import (
    REASON_BINARY_NOT_RECORDED,
    REASON_NO_SUBSCRIPTION,
    choose_winner,
    grants_for,
)
from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import ResetPeriod, SubscriptionStatus, UsageAction
from kana_server.domain.usage import MAX_PAST_PERIODS, UsageKey, apply, refusal, replay, usage_report
from tests.domain.builders import FEATURES, FLAG, T0, calls, catalog, package, sub

ADD, SET = UsageAction.ADD, UsageAction.SET


def test_add_adds_and_a_negative_add_reverts() -> None:
    assert apply(ADD, 5, 10) == 15
    assert apply(ADD, -4, 10) == 6


def test_set_replaces_the_count() -> None:
    assert apply(SET, 3, 10) == 3


def test_a_revert_below_zero_is_refused_with_the_numbers() -> None:
    with pytest.raises(InvalidInput, match="only 2 recorded"):
        apply(ADD, -3, 2)


def test_a_negative_set_is_refused() -> None:
    with pytest.raises(InvalidInput, match="SET"):
        apply(SET, -1, 10)


def test_refusals_name_why_nothing_was_recorded() -> None:
    basic = package("basic", calls(10), FLAG)
    cat = catalog(basic)
    winner_calls = choose_winner(grants_for("calls", [sub("1", "basic")], cat))
    winner_flag = choose_winner(grants_for("flag", [sub("1", "basic")], cat))
    assert refusal(FEATURES["calls"], None) == REASON_NO_SUBSCRIPTION
    assert refusal(FEATURES["flag"], winner_flag) == REASON_BINARY_NOT_RECORDED
    assert refusal(FEATURES["calls"], winner_calls) is None


events = st.lists(
    st.tuples(st.sampled_from([ADD, SET]), st.integers(min_value=-50, max_value=100)), max_size=40
)


@given(events)
def test_applying_events_one_by_one_equals_replaying_the_accepted_ones(
    stream: list[tuple[UsageAction, int]],
) -> None:
    used = 0
    accepted: list[tuple[UsageAction, int]] = []
    for action, delta in stream:
        try:
            used = apply(action, delta, used)
        except InvalidInput:
            continue
        accepted.append((action, delta))
        assert used >= 0
    assert replay(accepted) == used


MONTHLY = package("monthly", calls(100))
BIGGER = package("bigger", calls(500), addon=True)
DAILY = package("daily", calls(5, ResetPeriod.DAY))
CATALOG = catalog(MONTHLY, BIGGER, DAILY, package("flags", FLAG))


def report_at(now, subs, counters):
    winner = choose_winner(grants_for("calls", subs, CATALOG))
    return usage_report(FEATURES["calls"], winner, subs, CATALOG, counters, now)


def test_no_winner_means_no_current_period_and_no_past() -> None:
    report = report_at(T0, [], {})
    assert report.current is None
    assert report.past == []


def test_binary_features_have_no_usage_report() -> None:
    subs = [sub("1", "flags")]
    winner = choose_winner(grants_for("flag", subs, CATALOG))
    assert usage_report(FEATURES["flag"], winner, subs, CATALOG, {}, T0).current is None


def test_current_and_every_completed_period_of_the_winner_newest_first() -> None:
    subs = [sub("1", "monthly")]
    counters = {UsageKey("1", 0): 7, UsageKey("1", 2): 9}
    report = report_at(T0 + timedelta(days=95), subs, counters)
    assert report.current is not None
    assert report.current.window.index == 3
    assert report.current.consumption.used == 0
    assert [(p.window.index, p.consumption.used, p.consumption.budget) for p in report.past] == [
        (2, 9, 100),
        (1, 0, 100),
        (0, 7, 100),
    ]


def test_past_is_capped_at_a_hundred_periods() -> None:
    report = report_at(T0 + timedelta(days=400), [sub("1", "daily")], {})
    assert len(report.past) == MAX_PAST_PERIODS
    assert report.past[0].window.index == 399


def test_periods_of_a_former_winner_follow_with_their_own_budget() -> None:
    later = T0 + timedelta(days=10)
    subs = [sub("1", "monthly"), sub("2", "bigger", started=later)]
    counters = {UsageKey("1", 0): 40, UsageKey("2", 0): 3}
    report = report_at(later + timedelta(days=40), subs, counters)
    assert report.current is not None
    assert report.current.consumption.budget == 500
    assert [(p.consumption.used, p.consumption.budget) for p in report.past] == [(3, 500), (40, 100)]


def test_a_still_running_period_of_a_live_non_winner_is_not_past() -> None:
    later = T0 + timedelta(days=10)
    subs = [sub("1", "monthly"), sub("2", "bigger", started=later)]
    counters = {UsageKey("1", 0): 40}
    report = report_at(later + timedelta(days=1), subs, counters)
    assert report.past == []


def test_a_cancelled_subscriptions_recorded_period_is_past() -> None:
    subs = [
        sub("1", "monthly", SubscriptionStatus.CANCELLED),
        sub("2", "monthly", started=T0 + timedelta(days=3)),
    ]
    counters = {UsageKey("1", 0): 11, UsageKey("unknown", 0): 99}
    report = report_at(T0 + timedelta(days=5), subs, counters)
    assert [p.consumption.used for p in report.past] == [11]
