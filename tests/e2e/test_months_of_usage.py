"""Months of simulated usage on the virtual clock, against a real server process: `used`, `access` and
`showUsage` (current and past) checked at every reset boundary, including month ends and a leap day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dateutil.relativedelta import relativedelta

from tests.kana import Api, random_key

pytestmark = pytest.mark.e2e
ANCHOR = datetime(2028, 1, 31, 9, 0, tzinfo=UTC)  # 31 January of a leap year
SHOW = """query($u: String!, $f: String!) { showUsage(userId: $u, featureId: $f) {
  current { periodStart periodEnd consumption { used budget overageEnabled } }
  past { periodStart periodEnd consumption { used budget } } } }"""


def iso(instant: datetime) -> str:
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def month_start(k: int) -> datetime:
    """Independent calendar: dateutil clamps to the month's end from the original anchor."""
    result: datetime = ANCHOR + relativedelta(months=k)
    return result


@pytest.fixture
async def api(server: httpx.AsyncClient) -> Api:
    api = Api(server, random_key())
    await api.set_clock(set=iso(ANCHOR), freeze=True)
    await api.create_feature("calls", "CONSUMABLE")
    await api.create_feature("messages", "CONSUMABLE")
    await api.create_package(
        "monthly",
        [{"id": "calls", "limit": 100, "reset": "MONTH"}, {"id": "messages", "limit": 5, "reset": "DAY"}],
    )
    await api.create_user("u")
    await api.subscribe("u", "monthly")
    return api


async def test_fourteen_monthly_resets_with_month_end_clamping(api: Api) -> None:
    recorded: list[int] = []
    for k in range(14):
        start, end = month_start(k), month_start(k + 1)
        amount = 100 if k % 3 == 0 else 7 * (k + 1)
        assert await api.used("u", "calls") == 0, f"period {k} must start from zero"
        await api.record("u", "calls", amount)
        recorded.append(amount)
        check = await api.can_use("u", "calls")
        assert check["consumption"] == {"used": amount, "budget": 100, "overageEnabled": False}
        assert check["access"] is (amount < 100)

        report = (await api.data(SHOW, {"u": "u", "f": "calls"}))["showUsage"]
        assert report["current"] == {
            "periodStart": iso(start),
            "periodEnd": iso(end),
            "consumption": {"used": amount, "budget": 100, "overageEnabled": False},
        }
        assert report["past"] == [
            {
                "periodStart": iso(month_start(i)),
                "periodEnd": iso(month_start(i + 1)),
                "consumption": {"used": recorded[i], "budget": 100},
            }
            for i in range(k - 1, -1, -1)
        ]

        # One millisecond before the boundary, usage still counts in this period.
        await api.set_clock(set=iso(end - timedelta(milliseconds=1)))
        await api.record("u", "calls", 0)
        assert await api.used("u", "calls") == amount
        await api.set_clock(advance=0.001)  # exactly at the boundary: a new period
        now = (await api.control("GET", "/_kana/clock")).json()["now"]
        assert now == iso(end)

    # Month ends seen: 31 Jan → 29 Feb (leap) → 31 Mar → 30 Apr → ... → 28 Feb 2029 → 31 Mar 2029.
    assert [month_start(k).day for k in range(14)] == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28]


async def test_daily_resets_and_a_revert_never_leaks_into_the_next_period(api: Api) -> None:
    await api.record("u", "messages", 4)
    assert (await api.can_use("u", "messages"))["access"] is True  # 4 + 1 <= 5
    await api.record("u", "messages", 2)
    assert (await api.can_use("u", "messages"))["access"] is False
    await api.set_clock(advance="PT23H59M59.999S")
    assert await api.used("u", "messages") == 6
    await api.set_clock(advance=0.001)
    assert await api.used("u", "messages") == 0
    assert (await api.can_use("u", "messages"))["access"] is True
    # A revert in the new period cannot take back yesterday's usage.
    error = await api.error(
        'mutation { recordUsage(input: {userId: "u", featureId: "messages", delta: -1}) { recorded } }'
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    report = (await api.data(SHOW, {"u": "u", "f": "messages"}))["showUsage"]
    assert report["past"][0]["consumption"] == {"used": 6, "budget": 5}
    assert report["current"]["periodStart"] == iso(ANCHOR + timedelta(days=1))


async def test_a_long_advance_crosses_many_resets_at_once(api: Api) -> None:
    await api.record("u", "calls", 42)
    await api.set_clock(advance="P2Y3M")
    report = (await api.data(SHOW, {"u": "u", "f": "calls"}))["showUsage"]
    assert report["current"]["periodStart"] == iso(month_start(27))
    assert report["current"]["consumption"]["used"] == 0
    assert len(report["past"]) == 27
    assert report["past"][-1]["consumption"]["used"] == 42
    assert all(p["consumption"]["used"] == 0 for p in report["past"][:-1])


async def test_the_clock_cannot_go_back_once_there_is_data(api: Api) -> None:
    response = await api.control("POST", "/_kana/clock", json={"set": "2020-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    assert "cannot go back" in response.json()["error"]["message"]
