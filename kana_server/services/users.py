"""Users: create, rename and update, read."""

from __future__ import annotations

from datetime import timedelta

from kana_server.auth import issue_user_token
from kana_server.domain.errors import Conflict, InvalidInput
from kana_server.domain.ids import check_id
from kana_server.domain.model import JSONValue, User
from kana_server.services.base import ProjectService, require_user
from kana_server.store.people import StoredUser
from kana_server.store.repository import ProjectStore


class UserService(ProjectService):
    """The project's users."""

    async def user(self, user_id: str) -> User:
        """One user, or UserNotFoundError."""

        async def work(store: ProjectStore) -> User:
            return (await require_user(store, user_id)).user

        return await self.read(work)

    async def users(self, user_id: str | None = None) -> list[User]:
        """Every user, or only the one with that id (Kana's example passes `id`, D3)."""

        async def work(store: ProjectStore) -> list[User]:
            return await store.list_users(user_id)

        return await self.read(work)

    async def create_user(self, user: User) -> User:
        """Create a user; its id must be new."""
        check_id("User", user.id)

        async def work(store: ProjectStore) -> None:
            await store.lock_project()
            if await store.get_user(user.id) is not None:
                raise Conflict(f'User "{user.id}" already exists')
            await store.insert_user(user, self.clock.now())

        await self.write(work)
        return user

    async def update_user(
        self, user_id: str, new_id: str, name: str | None, metadata: JSONValue, given: frozenset[str]
    ) -> User:
        """Update a user; a different `input.id` renames it, and its subscriptions and usage follow (D18)."""
        check_id("User", new_id)

        async def work(store: ProjectStore) -> User:
            if new_id != user_id:
                await store.lock_project()
            stored = await require_user(store, user_id, lock=True)
            if new_id != user_id and await store.get_user(new_id) is not None:
                raise InvalidInput(f'Cannot rename user "{user_id}" to "{new_id}": that id is taken')
            current = stored.user
            updated = User(
                id=new_id,
                billing_id=current.billing_id,
                name=name if "name" in given else current.name,
                email=current.email,
                metadata=metadata if "metadata" in given else current.metadata,
            )
            if updated != current:
                await store.update_user(stored.pk, updated)
            return updated

        return await self.write(work)

    async def generate_user_token(self, user_id: str, ttl: timedelta) -> str:
        """A signed token for the Client API's secure mode, bound to this project and user."""

        async def work(store: ProjectStore) -> StoredUser:
            return await require_user(store, user_id)

        stored = await self.read(work)
        return issue_user_token(self.project, stored.user.id, stored.pk, self.env.real_clock.now(), ttl)
