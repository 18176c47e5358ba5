"""A project's own controls ([X]): its virtual clock and reset."""

from __future__ import annotations

from kana_server.domain.clock import ClockState, change_clock, parse_instant, project_clock_state
from kana_server.services.base import ProjectService


class ProjectControlService(ProjectService):
    """Clock and reset of one project."""

    def clock_state(self) -> ClockState:
        """The clock as of this request."""
        return project_clock_state(self.project)

    async def change_clock(
        self,
        *,
        set_to: str | None = None,
        advance: float | str | None = None,
        freeze: bool | None = None,
    ) -> ClockState:
        """Set, then advance, then freeze or unfreeze the project's clock; only forward once it holds data."""
        real_now = self.env.real_clock.now()
        async with self.writing() as store:
            state = change_clock(
                await store.clock(),
                real_now,
                set_to=None if set_to is None else parse_instant(set_to),
                advance=advance,
                freeze=freeze,
                allow_backwards=not await store.holds_data(),
            )
            await store.set_clock(state)
        return state

    async def reset(self) -> None:
        """Delete all of the project's data and put its clock back on real time."""
        async with self.writing() as store:
            await store.lock_project()
            await store.reset()
