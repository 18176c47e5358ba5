"""Seed files: a kana.yaml (published packages become PUBLISHED) plus users, subscriptions and usage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from kana_server.domain import restore
from kana_server.domain import subscriptions as rules
from kana_server.domain.config import ConfigError, ConfigPath, ConfigProblem, KanaConfig
from kana_server.domain.errors import InvalidInput, KanaError
from kana_server.domain.ids import check_id
from kana_server.domain.model import Subscription, User
from kana_server.domain.publish import PlanMessage, plan_publish
from kana_server.services.base import ProjectService, require_user
from kana_server.services.catalog import apply_plan
from kana_server.services.state import write_usage
from kana_server.store.repository import ProjectStore


class SeedError(ConfigError):
    """A seed file that cannot be applied; `problems` lists every problem with its place in the file."""


def seed_digest(text: str) -> str:
    """Identifies a seed's content (a restart with the same seed changes nothing)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SeedFile:
    """A parsed seed file: its config, its digest and where it came from."""

    config: KanaConfig
    digest: str
    source: str


@dataclass(frozen=True)
class SeedReport:
    """What applying a seed did: its catalog messages, with their places in the file."""

    applied: bool
    notes: list[PlanMessage]

    @property
    def messages(self) -> list[str]:
        """The catalog messages as text."""
        return [note.text for note in self.notes]


async def apply_seed_in(store: ProjectStore, seed: SeedFile, now: datetime) -> list[PlanMessage]:
    """Apply a seed inside the caller's transaction (D19): catalog as `/cli/publish` would, users
    created or updated, subscriptions by Kana's rules, usage only if the project has none yet."""
    config = seed.config
    plan = plan_publish(config, (await store.snapshot()).catalog, now)
    if plan.errors:
        raise SeedError(seed.source, [ConfigProblem(n.path, n.text) for n in plan.notes if n.is_error])
    await apply_plan(store, plan, now)
    for index, entry in enumerate(config.users or []):
        try:
            check_id("User", entry.id)
        except InvalidInput as exc:
            raise SeedError(seed.source, [ConfigProblem(("users", index, "id"), exc.message)]) from exc
        user = User(entry.id, entry.billing_id, entry.name, entry.email, entry.metadata)
        existing = await store.get_user(entry.id)
        if existing is None:
            await store.insert_user(user, now)
        elif existing.user != user:
            await store.update_user(existing.pk, user)
    snapshot = await store.snapshot()
    for index, sub in enumerate(config.subscriptions or []):
        path: ConfigPath = ("subscriptions", index)
        try:
            stored_user = await require_user(store, sub.user)
            held = [s.subscription for s in await store.subscriptions_of(stored_user.pk)]
            if any(s.package_id == sub.package and s.status is sub.status for s in held):
                continue
            if sub.status.is_live:
                rules.plan_subscribe([sub.package], held, snapshot.catalog)
            elif sub.package not in snapshot.package_pks:
                raise InvalidInput(f"Subscription of {sub.user} refers to unknown package {sub.package}")
            if sub.id is not None:
                restore.check_subscription_id(sub.id)
                if await store.get_subscription(sub.id) is not None:
                    raise InvalidInput(f"Subscription id {sub.id} is already taken")
        except KanaError as exc:
            raise SeedError(seed.source, [ConfigProblem(path, exc.message)]) from exc
        started = sub.started_at or now
        if started > now:
            raise SeedError(
                seed.source,
                [ConfigProblem(path, f"Subscription of {sub.user} to {sub.package} starts in the future")],
            )
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
        held_by_user: dict[str, list[Subscription]] = {u.id: [] for u in await store.list_users()}
        for stored in await store.list_subscriptions():
            held_by_user[stored.subscription.user_id].append(stored.subscription)
        usage = restore.plan_usage(config.usage, held_by_user, snapshot.catalog, now, source=seed.source)
        await write_usage(store, usage)
    await store.set_seed_digest(seed.digest)
    return plan.notes


class SeedService(ProjectService):
    """Apply seed files to a project."""

    async def apply_seed(self, seed: SeedFile) -> SeedReport:
        """Apply a seed once per content (D19): a second time with the same file changes nothing."""
        if self.project.seed_digest == seed.digest:
            return SeedReport(applied=False, notes=[PlanMessage("seed already applied")])
        now = self.clock.now()

        async def work(store: ProjectStore) -> list[PlanMessage]:
            await store.lock_project()  # workers starting together apply the seed once
            return await apply_seed_in(store, seed, now)

        notes = await self.write(work, long=True)
        return SeedReport(applied=True, notes=notes)
