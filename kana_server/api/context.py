"""The per-request GraphQL context: who is calling, the services acting for them, request caches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from time import perf_counter

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from kana_server.auth import Principal
from kana_server.domain.entitlements import Decision
from kana_server.domain.errors import Unauthenticated
from kana_server.domain.model import Catalog
from kana_server.services import Services
from kana_server.services.base import TraceData
from kana_server.settings import Settings


class TraceLog(list[tuple[str, TraceData]]):
    """A request's decision traces. Services get its `add` as their trace sink, which refers to this list
    and not to the context: a sink bound to the context would make every request's objects a reference
    cycle, left for the garbage collector instead of freed at once."""

    def add(self, kind: str, data: TraceData) -> None:
        """Keep a decision trace (the request ledger reads them)."""
        self.append((kind, data))


@dataclass
class KanaContext:
    """What every resolver gets as `info.context`."""

    request: Request
    response: Response
    settings: Settings
    principal: Principal | None = None
    auth_error: Unauthenticated | None = None
    _services: Services | None = None
    traces: TraceLog = field(default_factory=TraceLog)
    _catalog: tuple[int, Catalog] | None = None
    started: float = field(default_factory=perf_counter)  # for the request ledger's duration

    @property
    def services(self) -> Services:
        """The services of the authenticated project (the auth extension stops unauthenticated calls)."""
        if self._services is None:
            raise self.auth_error or Unauthenticated("no credentials")
        return self._services

    def trace(self, kind: str, data: TraceData) -> None:
        """Keep a decision trace of this request (the request ledger reads them)."""
        self.traces.add(kind, data)

    async def catalog(self) -> Catalog:
        """The project's catalog, read once per request and again after a write."""
        writes = self.services.state.writes
        if self._catalog is None or self._catalog[0] != writes:
            self._catalog = (writes, await self.services.catalog.catalog())
        return self._catalog[1]

    @cached_property
    def entitlements(self) -> DataLoader[tuple[str, str], Decision]:
        """Batches Feature.entitlement(userId) lookups: one read per user, not one per feature."""

        async def load(keys: list[tuple[str, str]]) -> list[Decision]:
            by_user: dict[str, list[str]] = defaultdict(list)
            for user_id, feature_id in keys:
                by_user[user_id].append(feature_id)
            decisions: dict[tuple[str, str], Decision] = {}
            for user_id, feature_ids in by_user.items():
                for feature_id, decision in (
                    await self.services.usage.entitlements(user_id, feature_ids)
                ).items():
                    decisions[(user_id, feature_id)] = decision
            return [decisions[key] for key in keys]

        return DataLoader(load_fn=load, cache=False)


Info = strawberry.Info[KanaContext, None]
