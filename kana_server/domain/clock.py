"""The virtual clock's state and its moves: pure time arithmetic ([X] `/_kana/clock`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import isodate

from kana_server.domain.errors import ClockError
from kana_server.domain.model import Project
from kana_server.domain.periods import add_months

_BELOW_MS = tuple(timedelta(microseconds=n) for n in range(1000))
"""The parts of a millisecond, made once (subtracting one costs a seventh of `datetime.replace`)."""


def truncate_ms(instant: datetime) -> datetime:
    """Kana reports instants with millisecond precision; keep every stored instant on that grid."""
    return instant - _BELOW_MS[instant.microsecond % 1000]


def format_instant(instant: datetime) -> str:
    """How Kana prints an instant: `2022-01-21T16:08:09.640Z` (JavaScript's toISOString, D24)."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ClockState:
    """A project's virtual clock: an offset from real time, or a frozen instant."""

    offset: timedelta = timedelta(0)
    frozen_at: datetime | None = None

    def now(self, real_now: datetime) -> datetime:
        """The project's current instant given the real one."""
        if self.frozen_at is not None:
            return self.frozen_at
        return truncate_ms(real_now + self.offset)

    @property
    def is_virtual(self) -> bool:
        """Whether the project's time differs from real time."""
        return self.frozen_at is not None or self.offset != timedelta(0)


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant; a value without a zone is taken as UTC."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ClockError(f"Not an ISO-8601 instant: {value!r}") from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return truncate_ms(instant.astimezone(UTC))


def advance_by(instant: datetime, amount: float | str) -> datetime:
    """Move forward by seconds, or by an ISO-8601 duration: years and months on the calendar first (D17)."""
    if isinstance(amount, bool):
        raise ClockError("advance must be a number of seconds or an ISO-8601 duration")
    if isinstance(amount, int | float):
        return truncate_ms(instant + timedelta(seconds=amount))
    try:
        duration = isodate.parse_duration(amount)
    except (isodate.ISO8601Error, ValueError, TypeError) as exc:
        raise ClockError(f"Not an ISO-8601 duration: {amount!r}") from exc
    if isinstance(duration, timedelta):
        return truncate_ms(instant + duration)
    months = int(duration.years) * 12 + int(duration.months)
    if duration.years != int(duration.years) or duration.months != int(duration.months):
        raise ClockError(f"Fractional years or months are not supported: {amount!r}")
    return truncate_ms(add_months(instant, months) + duration.tdelta)


def change_clock(
    state: ClockState,
    real_now: datetime,
    *,
    set_to: datetime | None = None,
    advance: float | str | None = None,
    freeze: bool | None = None,
    allow_backwards: bool,
) -> ClockState:
    """Apply `set`, then `advance`, then `freeze` (D17); refuse going back once the project holds data."""
    current = state.now(real_now)
    target = current if set_to is None else set_to
    if advance is not None:
        target = advance_by(target, advance)
    if target < current and not allow_backwards:
        raise ClockError(
            f"The clock cannot go back from {current.isoformat()} to {target.isoformat()}: "
            "the project already has subscriptions or usage (reset the project first)"
        )
    frozen = state.frozen_at is not None if freeze is None else freeze
    offset = target - real_now
    return ClockState(offset=offset, frozen_at=target if frozen else None)


def project_clock_state(project: Project) -> ClockState:
    """A project's stored clock columns as a ClockState."""
    return ClockState(
        offset=timedelta(milliseconds=project.clock_offset_ms), frozen_at=project.clock_frozen_at
    )


def offset_ms(state: ClockState) -> int:
    """The state's offset in whole milliseconds (as stored)."""
    return int(state.offset / timedelta(milliseconds=1))
