"""Model-based test of the entitlement engine: random sequences of subscribe / status change /
recordUsage (ADD, SET, negative) / canUseFeature / showUsage / clock advance drive the real services on
a real SQLite file, and after every step the answers are compared with a tiny reference model that
replays a list of events from scratch. The model's calendar uses dateutil (an independent
implementation of month arithmetic)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kana_server.domain.config import KanaConfig
from kana_server.domain.errors import InvalidInput, SubscriptionError
from kana_server.domain.model import Project, SubscriptionStatus, UsageAction, User
from kana_server.domain.usage import replay
from kana_server.runtime import Runtime, load_config_text
from kana_server.services import Services
from kana_server.settings import Settings
from kana_server.store.repository import ProjectStore

CATALOG_YAML = """
features:
  - { id: calls, name: Calls, type: CONSUMABLE }
  - { id: flag, name: Flag, type: BINARY }
packages:
  draft:
    - { id: draft, features: [{ id: calls, limit: 3, reset_period: MONTH }] }
  published:
    - { id: monthly, features: [{ id: calls, limit: 10, reset_period: MONTH }, { id: flag }] }
    - { id: daily, features: [{ id: calls, limit: 20, reset_period: DAY, overage_enabled: true }] }
    - { id: endless, features: [{ id: calls, limit: 10 }] }
addons:
  published:
    - { id: big, features: [{ id: calls, limit: 30, reset_period: YEAR }] }
    - { id: open, base_packages: [daily], features: [{ id: calls, limit: null, reset_period: MONTH }] }
"""
# package → (is_addon, limit or None for unlimited, reset period, overage, has flag, allowed bases)
PACKAGES: dict[str, tuple[bool, int | None, str | None, bool, bool, set[str]]] = {
    "monthly": (False, 10, "MONTH", False, True, set()),
    "daily": (False, 20, "DAY", True, False, set()),
    "endless": (False, 10, None, False, False, set()),
    "big": (True, 30, "YEAR", False, False, set()),
    "open": (True, None, "MONTH", False, False, {"daily"}),
}
START = datetime(2028, 1, 31, 10, 0, tzinfo=UTC)
USERS = ["ann", "ben"]
LIVE = {"ACTIVE", "TRIALING"}


class FakeRealClock:
    """Wall-clock time that never moves (the project clock is frozen anyway)."""

    def now(self) -> datetime:
        return START


# --- the reference model ------------------------------------------------------------------------


@dataclass
class RefSub:
    id: str
    user: str
    package: str
    status: str
    started: datetime


@dataclass
class Model:
    now: datetime = START
    subs: list[RefSub] = field(default_factory=list)
    events: list[tuple[str, int, str, int]] = field(default_factory=list)  # (sub id, period, action, delta)
    next_id: int = 1

    @staticmethod
    def start_of(sub: RefSub, k: int) -> datetime:
        reset = PACKAGES[sub.package][2]
        step: relativedelta
        if reset is None:
            step = relativedelta(years=100 * k)
        elif reset == "DAY":
            step = relativedelta(days=k)
        else:
            step = relativedelta(months=k * (12 if reset == "YEAR" else 1))
        start: datetime = sub.started + step
        return start

    def period(self, sub: RefSub) -> int:
        k = 0
        while self.start_of(sub, k + 1) <= self.now:
            k += 1
        return k

    def winner(self, user: str, feature: str) -> RefSub | None:
        live = [s for s in self.subs if s.user == user and s.status in LIVE]
        base_live = any(not PACKAGES[s.package][0] for s in live)
        holders = [
            s
            for s in live
            if (base_live or not PACKAGES[s.package][0]) and (feature == "calls" or PACKAGES[s.package][4])
        ]
        if not holders:
            return None

        def rank(s: RefSub) -> tuple[int, int, datetime, int]:
            limit = PACKAGES[s.package][1]
            return (0 if limit is None else 1, -(limit or 0), s.started, int(s.id))

        return sorted(holders, key=rank)[0]

    def used_in(self, sub_id: str, k: int) -> int:
        used = 0
        for s, period, action, delta in self.events:
            if (s, period) == (sub_id, k):
                used = delta if action == "SET" else used + delta
        return used


# --- the machine ----------------------------------------------------------------------------------


class EntitlementMachine(RuleBasedStateMachine):
    """Drives the services and checks every answer against the model."""

    runtime: Runtime
    loop: asyncio.AbstractEventLoop

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.services: Services | None = None
        self.project: Project | None = None

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def fresh_services(self) -> Services:
        assert self.project is not None
        project = self.run(self.runtime.repository.project_by_id(self.project.id))
        return self.runtime.services(project)

    @initialize()
    def setup(self) -> None:
        key = "prv_test_" + secrets.token_hex(16)
        self.project = self.run(self.runtime.repository.ensure_project(key, "pub" + key[3:], key, "s", START))
        services = self.runtime.services(self.project)
        self.run(services.project.change_clock(set_to=START.isoformat(), freeze=True))
        config: KanaConfig = load_config_text(CATALOG_YAML, "model")
        plan = self.run(self.fresh_services().catalog.publish_config(config))
        assert not plan.errors, plan.errors
        for user in USERS:
            self.run(self.fresh_services().users.create_user(User(user)))

    @rule(
        user=st.sampled_from(USERS),
        packages=st.lists(st.sampled_from([*PACKAGES, "draft", "nope"]), min_size=1, max_size=3),
    )
    def subscribe(self, user: str, packages: list[str]) -> None:
        expected_error = self.expected_subscribe_error(user, packages)
        try:
            result = self.run(self.fresh_services().subscriptions.subscribe(user, packages))
        except SubscriptionError as error:
            message = error.message
            assert expected_error == message, f"got {message!r}, expected {expected_error!r}"
            return
        assert expected_error is None, f"expected {expected_error}"
        for package, subscription in zip(packages, result, strict=True):
            held = [
                s for s in self.model.subs if s.user == user and s.package == package and s.status in LIVE
            ]
            if held:
                assert subscription.id == held[0].id
            else:
                assert subscription.id == str(self.model.next_id)
                self.model.subs.append(RefSub(subscription.id, user, package, "ACTIVE", self.model.now))
                self.model.next_id += 1

    def expected_subscribe_error(self, user: str, packages: list[str]) -> str | None:
        if any(p not in PACKAGES and p != "draft" for p in packages):
            return "Package Id not found for app"
        if "draft" in packages:
            return "Package draft is not published"
        live = {s.package for s in self.model.subs if s.user == user and s.status in LIVE}
        bases = {p for p in live if not PACKAGES[p][0]} | {p for p in packages if not PACKAGES[p][0]}
        if len(bases) > 1:
            return "Cannot subscribe to multiple tiers"
        for p in packages:
            if PACKAGES[p][0]:
                if not bases:
                    return "Cannot subscribe to addon. Missing live tier subscription."
                allowed = PACKAGES[p][5]
                if allowed and next(iter(bases)) not in allowed:
                    return f"Add-on {p} is not available for package {next(iter(bases))}"
        return None

    @precondition(lambda self: bool(self.model.subs))
    @rule(data=st.data(), status=st.sampled_from([s.value for s in SubscriptionStatus]))
    def change_status(self, data: st.DataObject, status: str) -> None:
        sub = data.draw(st.sampled_from(self.model.subs))
        others_live_base = any(
            s.user == sub.user and s.id != sub.id and s.status in LIVE and not PACKAGES[s.package][0]
            for s in self.model.subs
        )
        refused = (
            status in LIVE and sub.status not in LIVE and not PACKAGES[sub.package][0] and others_live_base
        )
        try:
            self.run(self.fresh_services().subscriptions.set_status(sub.id, SubscriptionStatus(status)))
        except SubscriptionError:
            assert refused
            return
        assert not refused
        sub.status = status

    @rule(
        user=st.sampled_from(USERS),
        feature=st.sampled_from(["calls", "flag"]),
        action=st.sampled_from(["ADD", "SET"]),
        delta=st.integers(min_value=-15, max_value=25),
    )
    def record_usage(self, user: str, feature: str, action: str, delta: int) -> None:
        winner = self.model.winner(user, feature)
        try:
            result = self.run(
                self.fresh_services().usage.record_usage(user, feature, delta, UsageAction(action))
            )
        except InvalidInput:
            assert (action == "SET" and delta < 0) or (
                winner is not None
                and feature == "calls"
                and self.model.used_in(winner.id, self.model.period(winner)) + delta < 0
            )
            return
        if winner is None or feature == "flag":
            assert not result.recorded
            return
        assert result.recorded
        k = self.model.period(winner)
        self.model.events.append((winner.id, k, action, delta))
        assert result.used == self.model.used_in(winner.id, k)

    @rule(user=st.sampled_from(USERS), feature=st.sampled_from(["calls", "flag"]), delta=st.integers(0, 40))
    def can_use_feature(self, user: str, feature: str, delta: int) -> None:
        decision = self.run(self.fresh_services().usage.can_use_feature(user, feature, delta))
        winner = self.model.winner(user, feature)
        if winner is None:
            assert (decision.access, decision.consumption) == (False, None)
            return
        if feature == "flag":
            assert (decision.access, decision.consumption) == (True, None)
            return
        _, limit, _, overage, _, _ = PACKAGES[winner.package]
        used = self.model.used_in(winner.id, self.model.period(winner))
        assert decision.consumption is not None
        assert (decision.consumption.used, decision.consumption.budget) == (used, limit)
        assert decision.access == (limit is None or overage or used + delta <= limit)

    @rule(user=st.sampled_from(USERS))
    def show_usage(self, user: str) -> None:
        report = self.run(self.fresh_services().usage.show_usage(user, "calls"))
        winner = self.model.winner(user, "calls")
        if winner is None:
            assert report.current is None
            assert report.past == []
            return
        k = self.model.period(winner)
        assert report.current is not None
        assert report.current.window.start == self.model.start_of(winner, k)
        assert report.current.window.end == self.model.start_of(winner, k + 1)
        assert report.current.consumption.used == self.model.used_in(winner.id, k)
        own = report.past[: min(k, 100)]
        assert [(p.window.start, p.consumption.used) for p in own] == [
            (self.model.start_of(winner, i), self.model.used_in(winner.id, i))
            for i in range(k - 1, k - 1 - len(own), -1)
        ]
        others = {(p.window.start, p.consumption.used) for p in report.past[len(own) :]}
        expected = set()
        for sub in self.model.subs:
            if sub.user != user or sub.id == winner.id:
                continue
            for index in {e[1] for e in self.model.events if e[0] == sub.id}:
                start, end = self.model.start_of(sub, index), self.model.start_of(sub, index + 1)
                if sub.status in LIVE and start <= self.model.now < end:
                    continue
                expected.add((start, self.model.used_in(sub.id, index)))
        if len(report.past) < 100:
            assert others == expected

    @rule(amount=st.sampled_from([3600, 86_400, 86_400 * 3, "P1M", "P1Y", "P10D", "PT23H59M59S"]))
    def advance_clock(self, amount: int | str) -> None:
        self.run(self.fresh_services().project.change_clock(advance=amount))
        self.model.now = self.model.now + (
            timedelta(seconds=amount)
            if isinstance(amount, int)
            else {
                "P1M": relativedelta(months=1),
                "P1Y": relativedelta(years=1),
                "P10D": relativedelta(days=10),
                "PT23H59M59S": relativedelta(hours=23, minutes=59, seconds=59),
            }[amount]
        )

    @invariant()
    def clock_and_counters_agree_with_the_model(self) -> None:
        if self.project is None:
            return
        assert self.fresh_services().project.clock_state().now(START) == self.model.now
        self.run(self.check_counters())

    async def check_counters(self) -> None:
        """Every counter equals a replay of its stored events, and the model's replay."""
        assert self.project is not None

        async def work(store: ProjectStore) -> None:
            feature_pk = (await store.snapshot()).feature_pks["calls"]
            for sub_id, index in {(e[0], e[1]) for e in self.model.events}:
                stored = await store.get_subscription(sub_id)
                assert stored is not None
                user = await store.get_user(stored.subscription.user_id)
                assert user is not None
                key = (feature_pk, stored.pk, index)
                counter = await store.used(user.pk, key)
                assert counter == replay(await store.period_events(key)) == self.model.used_in(sub_id, index)

        await self.runtime.repository.read(self.project, work)


@pytest.fixture(scope="module")
def machine_runtime(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("model") / "model.db"
    loop = asyncio.new_event_loop()
    runtime = Runtime.create(Settings(database_url=f"sqlite+aiosqlite:///{path}"), clock=FakeRealClock())
    loop.run_until_complete(runtime.start())
    yield runtime, loop
    loop.run_until_complete(runtime.stop())
    loop.close()


def test_entitlement_engine_matches_the_reference_model(machine_runtime: Any) -> None:
    runtime, loop = machine_runtime
    EntitlementMachine.runtime = runtime
    EntitlementMachine.loop = loop
    machine_test = EntitlementMachine.TestCase
    machine_test.settings = settings(
        max_examples=int(__import__("os").environ.get("KANA_MODEL_EXAMPLES", "60")),
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine_test().runTest()
