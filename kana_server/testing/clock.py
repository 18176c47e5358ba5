"""`KanaClock`: a project's virtual clock (`/_kana/clock`), for tests of reset periods and expiries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kana_server.testing.results import ClockState

if TYPE_CHECKING:
    from kana_server.testing.project import Kana


def instant(at: datetime | str) -> str:
    """An instant for the control plane: an aware datetime, or an ISO-8601 string as given."""
    if isinstance(at, str):
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(
            f"{at!r} has no time zone: use an aware datetime, e.g. datetime(2026, 1, 31, tzinfo=UTC)"
        )
    return at.isoformat()


def duration(by: timedelta | float | str) -> float | str:
    """A step for the control plane: a timedelta or a number of seconds, or an ISO-8601 duration
    (`"P1M"` moves to the same day next month, clamped to the month's end)."""
    if isinstance(by, timedelta):
        return by.total_seconds()
    return by


class KanaClock:
    """One project's clock: every helper returns the clock's state after the change. Only that project
    sees it; real time keeps running unless the clock is frozen."""

    def __init__(self, project: Kana) -> None:
        self.project = project

    def __repr__(self) -> str:
        return f"KanaClock(project={self.project.keys.private!r})"

    def _move(self, **body: Any) -> ClockState:
        __tracebackhide__ = True
        return ClockState.from_json(self.project.control("POST", "/_kana/clock", json=body))

    def state(self) -> ClockState:
        """The clock: `now`, `frozen`, `offset` from real time, `virtual`."""
        __tracebackhide__ = True
        return ClockState.from_json(self.project.control("GET", "/_kana/clock"))

    def now(self) -> datetime:
        """The project's time now (UTC)."""
        __tracebackhide__ = True
        return self.state().now

    def set(self, at: datetime | str) -> ClockState:
        """Move to an instant (frozen stays frozen there; a running clock runs on from it). Once the
        project has subscriptions or usage, only forward."""
        __tracebackhide__ = True
        return self._move(set=instant(at))

    def advance(self, by: timedelta | float | str) -> ClockState:
        """Move forward by a timedelta, seconds, or an ISO-8601 duration such as `"P1M"` or `"PT36H"`."""
        __tracebackhide__ = True
        return self._move(advance=duration(by))

    def freeze(self, at: datetime | str | None = None) -> ClockState:
        """Stop the clock (at `at` when given, else where it is now)."""
        __tracebackhide__ = True
        if at is None:
            return self._move(freeze=True)
        return self._move(set=instant(at), freeze=True)

    def unfreeze(self) -> ClockState:
        """Let the clock run again from where it stands."""
        __tracebackhide__ = True
        return self._move(freeze=False)
