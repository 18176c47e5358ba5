"""Planning an import: subscriptions restored as given, usage placed in its subscription's period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kana_server.domain.config import ConfigError, parse_config
from kana_server.domain.model import Catalog, Subscription, SubscriptionStatus, UsageAction
from kana_server.domain.publish import plan_publish
from kana_server.domain.restore import MAX_PROBLEMS, plan_subscriptions, plan_usage
from tests.kana import fixture

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
BETWEEN = "status_changed_at must be between started_at and now"
NO_SUBSCRIPTION = "The user does not have a subscription to a package with this feature."


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    plan = plan_publish(parse_config(fixture("state/catalog.yaml"), "test"), Catalog(), NOW)
    assert plan.errors == []
    return Catalog({f.id: f for f in plan.features}, {p.id: p for p in plan.packages})


def subscriptions(
    entries: list[dict[str, Any]], catalog: Catalog, users: set[str] | None = None
) -> list[Any]:
    config = parse_config({"subscriptions": entries}, "test")
    return plan_subscriptions(
        config.subscriptions or [], users or {"ann", "bob"}, catalog, NOW, source="test"
    )


def problems(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_missing_subscription_ids_continue_after_the_highest(catalog: Catalog) -> None:
    records = subscriptions(
        [
            {"user": "ann", "package": "free"},
            {"id": "7", "user": "bob", "package": "pro"},
            {"user": "bob", "package": "extra-calls", "status": "CANCELLED"},
        ],
        catalog,
    )
    assert [r.subscription.id for r in records] == ["8", "7", "9"]
    assert records[0].subscription.started_at == NOW
    assert records[0].status_changed_at == NOW


def test_subscriptions_that_cannot_be_restored(catalog: Catalog) -> None:
    with pytest.raises(ConfigError) as error:
        subscriptions(
            [
                {"id": "1", "user": "ann", "package": "free"},
                {"id": "1", "user": "ann", "package": "pro"},
                {"user": "zed", "package": "ghost"},
                {"user": "bob", "package": "free", "started_at": "2027-01-01T00:00:00Z"},
                {
                    "user": "bob",
                    "package": "legacy",
                    "status": "CANCELLED",
                    "started_at": "2026-01-01T00:00:00Z",
                    "status_changed_at": "2025-01-01T00:00:00Z",
                },
            ],
            catalog,
        )
    assert problems(error) == [
        "subscriptions.1.id: Duplicate subscription id 1",
        "subscriptions.1: User ann would hold two live base packages (free and pro)",
        "subscriptions.2.user: Subscription 2 refers to unknown user zed",
        "subscriptions.2.package: Subscription 2 refers to unknown package ghost",
        "subscriptions.3.started_at: Subscription 3 starts in the future",
        "subscriptions.3.status_changed_at: Subscription 3: " + BETWEEN,
        "subscriptions.4.status_changed_at: Subscription 4: " + BETWEEN,
    ]


ANN_PRO = Subscription("1", "ann", "pro", SubscriptionStatus.ACTIVE, datetime(2026, 1, 31, tzinfo=UTC))
ANN_EXTRA = Subscription(
    "2", "ann", "extra-calls", SubscriptionStatus.ACTIVE, datetime(2026, 3, 1, tzinfo=UTC)
)
ANN_OLD = Subscription("3", "ann", "free", SubscriptionStatus.CANCELLED, datetime(2025, 1, 1, tzinfo=UTC))
HELD = {"ann": [ANN_OLD, ANN_PRO, ANN_EXTRA], "bob": []}


def usage(entries: list[dict[str, Any]], catalog: Catalog) -> Any:
    config = parse_config({"usage": entries}, "test")
    return plan_usage(config.usage or [], HELD, catalog, NOW, source="test")


def test_events_count_in_their_subscription_period_and_add_up(catalog: Catalog) -> None:
    plan = usage(
        [
            # No subscription named: the winner now (the add-on's 20000 beats pro's 5000).
            {"user": "ann", "feature": "api-calls", "delta": 5, "at": "2026-03-02T00:00:00Z"},
            {"user": "ann", "feature": "api-calls", "delta": 7, "at": "2026-03-03T00:00:00Z"},
            # Named: counts there even though that subscription is cancelled.
            {
                "user": "ann",
                "feature": "api-calls",
                "subscription": "3",
                "period": 0,
                "delta": 2,
                "at": "2025-01-01T05:00:00Z",
            },
            # Pro's MONTH periods start on the 31st, clamped: 28 Feb 2026 is period 1.
            {
                "user": "ann",
                "feature": "messages",
                "subscription": "1",
                "period": 1,
                "delta": 9,
                "at": "2026-02-28T00:00:00Z",
            },
            {
                "user": "ann",
                "feature": "messages",
                "subscription": "1",
                "action": "SET",
                "delta": 4,
                "at": "2026-03-01T00:00:00Z",
            },
        ],
        catalog,
    )
    assert [(e.record.subscription_id, e.record.period_index, e.used_after) for e in plan.events] == [
        ("2", 0, 5),
        ("2", 0, 12),
        ("3", 0, 2),
        ("1", 1, 9),
        ("1", 1, 4),
    ]
    assert plan.events[4].record.action is UsageAction.SET
    assert plan.counters == {
        ("ann", "api-calls", "2", 0): 12,
        ("ann", "api-calls", "3", 0): 2,
        ("ann", "messages", "1", 1): 4,
    }


def test_events_that_cannot_be_placed(catalog: Catalog) -> None:
    with pytest.raises(ConfigError) as error:
        usage(
            [
                {"user": "bob", "feature": "api-calls"},
                {"user": "ann", "feature": "seats", "subscription": "2"},
                {"user": "ann", "feature": "api-calls", "subscription": "9"},
                {"user": "ann", "feature": "api-calls", "subscription": "1", "at": "2026-01-01T00:00:00Z"},
                {
                    "user": "ann",
                    "feature": "api-calls",
                    "subscription": "1",
                    "period": 0,
                    "at": "2026-04-01T00:00:00Z",
                },
                {"user": "ann", "feature": "api-calls", "subscription": "1", "delta": -1},
            ],
            catalog,
        )
    assert problems(error) == [
        f"usage.0: Usage of api-calls by bob: {NO_SUBSCRIPTION}",
        "usage.1.subscription: Package extra-calls of subscription 2 does not hold seats",
        "usage.2.subscription: Subscription 9 of user ann does not exist",
        "usage.3.at: Usage before subscription 1 started",
        "usage.4.period: Period 0 does not hold 2026-04-01T00:00:00+00:00 (it is in period 2)",
        "usage.5: Cannot revert 1: only 0 recorded in the current period, usage would become -1",
    ]


def test_only_the_first_problems_are_reported(catalog: Catalog) -> None:
    with pytest.raises(ConfigError) as error:
        usage([{"user": "ghost", "feature": "api-calls"}] * (MAX_PROBLEMS + 5), catalog)
    assert len(error.value.problems) == MAX_PROBLEMS + 1
    assert str(error.value.problems[-1]) == "more problems were not reported"
