"""SQL for users and their subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, insert, select, update

from kana_server.domain.model import JSONValue, Subscription, SubscriptionStatus, User
from kana_server.store import statements
from kana_server.store.scoped import PACKAGES, PROJECTS, SUBSCRIPTIONS, USAGE_COUNTERS, USERS, Scoped


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user with its surrogate key."""

    pk: int
    user: User


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """A subscription with its surrogate key."""

    pk: int
    subscription: Subscription


def _user(r: Row[Any]) -> StoredUser:
    return stored_user(r.pk, r.id, r.billing_id, r.name, r.email, r.metadata)


def stored_user(
    pk: int, user_id: str, billing_id: str | None, name: str | None, email: str | None, metadata: JSONValue
) -> StoredUser:
    """A user with its key, from its columns (its own row, or a joined row with other labels)."""
    return StoredUser(pk, User(id=user_id, billing_id=billing_id, name=name, email=email, metadata=metadata))


def subscriptions_query(project_id: int) -> Select[Any]:
    """A project's subscriptions with their user and package ids, oldest first."""
    return (
        select(*statements.SUBSCRIPTION_COLUMNS)
        .join(USERS, USERS.c.pk == SUBSCRIPTIONS.c.user_pk)
        .join(PACKAGES, PACKAGES.c.pk == SUBSCRIPTIONS.c.package_pk)
        .where(SUBSCRIPTIONS.c.project_id == project_id)
        .order_by(SUBSCRIPTIONS.c.pk)
    )


def stored_subscription(r: Row[Any]) -> StoredSubscription:
    return StoredSubscription(
        pk=r.pk,
        subscription=Subscription(
            id=r.id,
            user_id=r.user_id,
            package_id=r.package_id,
            status=SubscriptionStatus(r.status),
            started_at=r.started_at,
            metadata=r.metadata,
        ),
    )


@dataclass(frozen=True, slots=True)
class UserHoldings:
    """A user, its subscriptions (every status, oldest first) and the catalog version, read together."""

    user: StoredUser
    subscriptions: list[StoredSubscription]
    catalog_version: int


class PeopleStore(Scoped):
    """User and subscription reads and writes inside one transaction."""

    async def get_user(self, user_id: str, *, lock: bool = False) -> StoredUser | None:
        """A user by id; `lock` holds the row until the transaction ends (serialises subscribe)."""
        query = statements.USER_FOR_UPDATE if lock else statements.USER
        row = (await self.run(query, {"project_id": self.project_id, "user_id": user_id})).first()
        return None if row is None else _user(row)

    async def user_holdings(self, user_id: str) -> UserHoldings | None:
        """A user with its subscriptions and the project's catalog version (one statement), or None."""
        rows = (
            await self.run(statements.USER_HOLDINGS, {"project_id": self.project_id, "user_id": user_id})
        ).all()
        if not rows:
            return None
        first = rows[0]
        user = stored_user(
            first.user_pk,
            first.user_id,
            first.user_billing_id,
            first.user_name,
            first.user_email,
            first.user_metadata,
        )
        held = [stored_subscription(r) for r in rows if r.pk is not None]
        return UserHoldings(user, held, first.catalog_version)

    async def list_users(self, user_id: str | None = None) -> list[User]:
        """Every user in creation order, or only the one with that id."""
        query = select(USERS).where(USERS.c.project_id == self.project_id).order_by(USERS.c.pk)
        if user_id is not None:
            query = query.where(USERS.c.id == user_id)
        return [_user(row).user for row in (await self.conn.execute(query)).all()]

    async def insert_user(self, user: User, now: datetime) -> StoredUser:
        """Create a user."""
        result = await self.conn.execute(
            insert(USERS)
            .values(
                project_id=self.project_id,
                id=user.id,
                billing_id=user.billing_id,
                name=user.name,
                email=user.email,
                metadata=user.metadata,
                created_at=now,
            )
            .returning(USERS.c.pk)
        )
        return StoredUser(pk=int(result.scalar_one()), user=user)

    async def update_user(self, pk: int, user: User) -> None:
        """Change a user's id (a rename), name and metadata."""
        await self.conn.execute(
            update(USERS).where(USERS.c.pk == pk).values(id=user.id, name=user.name, metadata=user.metadata)
        )

    def _subscriptions_query(self) -> Select[Any]:
        return subscriptions_query(self.project_id)

    async def subscriptions_of(self, user_pk: int) -> list[StoredSubscription]:
        """A user's subscriptions (every status), oldest first."""
        rows = (
            await self.run(
                statements.SUBSCRIPTIONS_OF_USER, {"project_id": self.project_id, "user_pk": user_pk}
            )
        ).all()
        return [stored_subscription(r) for r in rows]

    async def list_subscriptions(self) -> list[StoredSubscription]:
        """Every subscription of the project, oldest first."""
        return [stored_subscription(r) for r in (await self.conn.execute(self._subscriptions_query())).all()]

    async def get_subscription(self, subscription_id: str) -> StoredSubscription | None:
        """A subscription by id."""
        row = (
            await self.conn.execute(self._subscriptions_query().where(SUBSCRIPTIONS.c.id == subscription_id))
        ).first()
        return None if row is None else stored_subscription(row)

    async def next_subscription_id(self) -> str:
        """A new subscription id: the project's next integer, as Kana's ids look ("2")."""
        result = await self.conn.execute(
            update(PROJECTS)
            .where(PROJECTS.c.id == self.project_id)
            .values(subscription_seq=PROJECTS.c.subscription_seq + 1)
            .returning(PROJECTS.c.subscription_seq)
        )
        return str(result.scalar_one())

    async def reserve_subscription_id(self, subscription_id: str) -> None:
        """Keep generated ids clear of an explicit numeric id (seeds and imports may carry ids)."""
        if subscription_id.isdigit():
            await self.conn.execute(
                update(PROJECTS)
                .where(PROJECTS.c.id == self.project_id, PROJECTS.c.subscription_seq < int(subscription_id))
                .values(subscription_seq=int(subscription_id))
            )

    async def insert_subscription(
        self,
        subscription_id: str,
        user_pk: int,
        package_pk: int,
        status: SubscriptionStatus,
        started_at: datetime,
        metadata: JSONValue,
    ) -> int:
        """Create a subscription; returns its surrogate key."""
        result = await self.conn.execute(
            insert(SUBSCRIPTIONS)
            .values(
                project_id=self.project_id,
                id=subscription_id,
                user_pk=user_pk,
                package_pk=package_pk,
                status=status.value,
                metadata=metadata,
                started_at=started_at,
                status_changed_at=started_at,
            )
            .returning(SUBSCRIPTIONS.c.pk)
        )
        return int(result.scalar_one())

    async def set_subscription_status(self, pk: int, status: SubscriptionStatus, now: datetime) -> None:
        """Change a subscription's status (what Kana's Stripe sync does)."""
        await self.conn.execute(
            update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.pk == pk)
            .values(status=status.value, status_changed_at=now)
        )

    async def holds_usage(self) -> bool:
        """Whether any usage was recorded in the project."""
        found = await self.conn.execute(
            select(USAGE_COUNTERS.c.project_id).where(USAGE_COUNTERS.c.project_id == self.project_id).limit(1)
        )
        return found.first() is not None

    async def holds_data(self) -> bool:
        """Whether the project has any subscription or usage (the clock may then only go forward)."""
        found = await self.conn.execute(
            select(SUBSCRIPTIONS.c.project_id).where(SUBSCRIPTIONS.c.project_id == self.project_id).limit(1)
        )
        return found.first() is not None or await self.holds_usage()
