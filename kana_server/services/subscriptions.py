"""Subscriptions: Kana's subscribe rules, reads, and status changes (what Kana's Stripe sync does)."""

from __future__ import annotations

from datetime import datetime

from kana_server.domain import subscriptions as rules
from kana_server.domain.errors import SubscriptionError, SubscriptionNotFound
from kana_server.domain.ids import check_id
from kana_server.domain.model import Subscription, SubscriptionStatus
from kana_server.services.base import ProjectService, require_user
from kana_server.store.people import StoredSubscription, StoredUser
from kana_server.store.repository import ProjectStore


async def subscribe_user(
    store: ProjectStore, stored_user: StoredUser, package_ids: list[str], now: datetime
) -> tuple[list[Subscription], list[str]]:
    """Kana's subscribe inside a write transaction (also what a paid checkout does): the subscriptions
    answered, one per requested id, and the ids of the packages newly subscribed to."""
    snapshot = await store.snapshot()
    held = [s.subscription for s in await store.subscriptions_of(stored_user.pk)]
    steps = rules.plan_subscribe(package_ids, held, snapshot.catalog)
    created: dict[str, Subscription] = {}
    result: list[Subscription] = []
    for step in steps:
        if step.existing is not None:
            result.append(step.existing)
            continue
        if step.package.id not in created:
            subscription_id = await store.next_subscription_id()
            await store.insert_subscription(
                subscription_id,
                stored_user.pk,
                snapshot.package_pks[step.package.id],
                SubscriptionStatus.ACTIVE,
                now,
                None,
            )
            created[step.package.id] = Subscription(
                id=subscription_id,
                user_id=stored_user.user.id,
                package_id=step.package.id,
                status=SubscriptionStatus.ACTIVE,
                started_at=now,
            )
        result.append(created[step.package.id])
    return result, sorted(created)


class SubscriptionService(ProjectService):
    """The project's subscriptions."""

    async def subscribe(self, user_id: str, package_ids: list[str]) -> list[Subscription]:
        """Subscribe a user to packages, all or nothing; already held packages are returned as they are."""
        for package_id in package_ids:
            check_id("Package", package_id)
        now = self.clock.now()

        async def work(store: ProjectStore) -> tuple[list[Subscription], list[str]]:
            await store.lock_project()
            stored_user = await require_user(store, user_id, lock=True)
            return await subscribe_user(store, stored_user, package_ids, now)

        result, created = await self.write(work)
        self.trace("subscribe", {"userId": user_id, "packageIds": package_ids, "created": created})
        return result

    async def subscription(self, subscription_id: str) -> Subscription:
        """One subscription, or SubscriptionNotFoundError."""
        check_id("Subscription", subscription_id)
        found = await self.read(lambda store: store.get_subscription(subscription_id))
        if found is None:
            raise SubscriptionNotFound(subscription_id)
        return found.subscription

    async def subscriptions(self, user_id: str | None = None) -> list[Subscription]:
        """Every subscription, or one user's (oldest first)."""

        async def work(store: ProjectStore) -> list[StoredSubscription]:
            if user_id is None:
                return await store.list_subscriptions()
            return await store.subscriptions_of((await require_user(store, user_id)).pk)

        stored = await self.read(work)
        return [s.subscription for s in stored]

    async def set_status(self, subscription_id: str, status: SubscriptionStatus) -> Subscription:
        """Change a subscription's status ([X] control plane); a second live base is refused."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> Subscription:
            found = await store.get_subscription(subscription_id)
            if found is None:
                raise SubscriptionNotFound(subscription_id)
            current = found.subscription
            if status.is_live and not current.is_live:
                catalog = (await store.snapshot()).catalog
                package = catalog.packages[current.package_id]
                if not package.is_addon:
                    user = await require_user(store, current.user_id, lock=True)
                    others = [s.subscription for s in await store.subscriptions_of(user.pk)]
                    if any(
                        s.is_live and s.id != current.id and not catalog.packages[s.package_id].is_addon
                        for s in others
                    ):
                        raise SubscriptionError(rules.MULTIPLE_TIERS)
            await store.set_subscription_status(found.pk, status, now)
            return current

        current = await self.write(work)
        return Subscription(
            id=current.id,
            user_id=current.user_id,
            package_id=current.package_id,
            status=status,
            started_at=current.started_at,
            metadata=current.metadata,
        )
