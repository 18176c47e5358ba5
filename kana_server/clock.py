"""Time: the real clock and each project's virtual clock ([X] `/_kana/clock`).

Every rule reads "now" from a `Clock` handed to it; nothing else calls `datetime.now()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from kana_server.domain.clock import ClockState, truncate_ms


class Clock(Protocol):
    """Something that tells the time (UTC, millisecond precision)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant, UTC."""
        return truncate_ms(datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class ProjectClock:
    """A `Clock` that reads a project's virtual clock state."""

    state: ClockState
    real: Clock

    def now(self) -> datetime:
        """The project's current instant."""
        return self.state.now(self.real.now())
