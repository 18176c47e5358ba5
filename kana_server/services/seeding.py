"""Seed files: a kana.yaml (published packages become PUBLISHED) plus users, subscriptions and usage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kana_server.domain import subscriptions as rules
from kana_server.domain.clock import truncate_ms
from kana_server.domain.config import KanaConfig
from kana_server.domain.errors import InvalidInput
from kana_server.domain.ids import check_id
from kana_server.domain.model import User
from kana_server.domain.publish import plan_publish
from kana_server.services.base import ProjectService, require_feature, require_user
from kana_server.services.catalog import apply_plan
from kana_server.services.usage import holdings_of, record_event


class SeedError(InvalidInput):
    """A seed file that cannot be applied; the message lists every problem."""


def seed_digest(text: str) -> str:
    """Identifies a seed's content (a restart with the same seed changes nothing)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SeedReport:
    """What applying a seed did."""

    applied: bool
    messages: list[str]


class SeedService(ProjectService):
    """Apply seed files to a project."""

    async def apply_seed(self, config: KanaConfig, digest: str) -> SeedReport:
        """Apply a seed once: catalog as `/cli/publish` would, then users, subscriptions and usage (D19)."""
        if self.project.seed_digest == digest:
            return SeedReport(applied=False, messages=["seed already applied"])
        now = self.clock.now()
        async with self.writing() as store:
            await store.lock_project()  # workers starting together apply the seed once
            plan = plan_publish(config, (await store.snapshot()).catalog, now)
            if plan.errors:
                raise SeedError("The seed file cannot be applied:\n" + "\n".join(plan.errors))
            await apply_plan(store, plan, now)
            for entry in config.users or []:
                check_id("User", entry.id)
                user = User(entry.id, entry.billing_id, entry.name, entry.email, entry.metadata)
                existing = await store.get_user(entry.id)
                if existing is None:
                    await store.insert_user(user, now)
                elif existing.user != user:
                    await store.update_user(existing.pk, user)
            snapshot = await store.snapshot()
            for sub in config.subscriptions or []:
                stored_user = await require_user(store, sub.user)
                held = [s.subscription for s in await store.subscriptions_of(stored_user.pk)]
                if any(s.package_id == sub.package and s.status is sub.status for s in held):
                    continue
                if sub.status.is_live:
                    rules.plan_subscribe([sub.package], held, snapshot.catalog)
                elif sub.package not in snapshot.package_pks:
                    raise SeedError(f"Subscription of {sub.user} refers to unknown package {sub.package}")
                started = truncate_ms(sub.started_at) if sub.started_at else now
                if started > now:
                    raise SeedError(f"Subscription of {sub.user} to {sub.package} starts in the future")
                if sub.id is not None:
                    await store.reserve_subscription_id(sub.id)
                subscription_id = sub.id or await store.next_subscription_id()
                await store.insert_subscription(
                    subscription_id,
                    stored_user.pk,
                    snapshot.package_pks[sub.package],
                    sub.status,
                    started,
                    sub.metadata,
                )
            if config.usage and not await store.holds_usage():
                for event in config.usage:
                    holdings = await holdings_of(store, event.user)
                    feature = require_feature(holdings.snapshot, event.feature)
                    at = truncate_ms(event.at) if event.at else now
                    result, _ = await record_event(store, holdings, feature, event.action, event.delta, at)
                    if not result.recorded:
                        raise SeedError(
                            f"Usage of {event.feature} by {event.user} cannot be recorded: {result.reason}"
                        )
            await store.set_seed_digest(digest)
        return SeedReport(applied=True, messages=plan.messages)
