"""A project's own controls ([X]): its virtual clock and reset."""

from __future__ import annotations

from kana_server.domain.clock import ClockState, change_clock, parse_instant, project_clock_state
from kana_server.domain.errors import InvalidInput
from kana_server.services.base import ProjectService
from kana_server.services.seeding import SeedFile, apply_seed_in
from kana_server.store.repository import ProjectStore


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

        async def work(store: ProjectStore) -> ClockState:
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

        return await self.write(work)

    async def reset(self, *, reseed: bool = False, seed: SeedFile | None = None) -> list[str]:
        """Delete all of the project's data (snapshots are kept, D55) and put its clock back on real
        time; with `reseed`, apply the server's startup seed again, in the same transaction (D56)."""
        if reseed and seed is None:
            raise InvalidInput(
                "This server was started without a seed (--seed), so there is nothing to reseed"
            )

        async def work(store: ProjectStore) -> list[str]:
            await store.lock_project()
            await store.reset()
            if reseed and seed is not None:
                notes = await apply_seed_in(store, seed, self.env.real_clock.now())
                return [note.text for note in notes]
            return []

        return await self.write(work, long=True)
