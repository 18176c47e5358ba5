"""A real clock the test can move: injected into a server in place of the machine's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from kana_server.clock import SystemClock


class ShiftedClock(SystemClock):
    """The machine's time plus `shift` (settable), e.g. to issue a user token that has expired."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        """The machine's time plus the shift."""
        return super().now() + self.shift
