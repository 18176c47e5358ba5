"""What every service method gets: the repository, the project it acts for, its clock and a trace sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kana_server.clock import Clock
from kana_server.domain.errors import FeatureNotFound, IdempotencyKeyInUse, UserNotFound
from kana_server.domain.idempotency import Claim
from kana_server.domain.ids import check_id
from kana_server.domain.model import Feature, Project
from kana_server.store.catalog import CatalogSnapshot
from kana_server.store.people import StoredUser
from kana_server.store.repository import ProjectStore, Repository, StoreWork

T = TypeVar("T")

TraceData = dict[str, Any] | Callable[[], dict[str, Any]]
"""A decision trace, or a function that builds it: traces are built only if someone reads them."""
TraceSink = Callable[[str, TraceData], None]
"""Receives decision traces (what was considered and why), e.g. for the request ledger."""


def _no_trace(kind: str, data: TraceData) -> None:
    """Default sink: traces are dropped."""


@dataclass
class RequestState:
    """Shared by the services of one request: how many write transactions have committed, and the
    Idempotency-Key the request claims in its first write transaction (D92)."""

    writes: int = 0
    idempotency: Claim | None = None


@dataclass(frozen=True)
class ServiceEnv:
    """What every service of one request shares."""

    repository: Repository
    project: Project
    clock: Clock  # the project's (virtual) clock: every rule reads it
    real_clock: Clock  # wall-clock time, for things checked against it (token expiry)
    trace: TraceSink = _no_trace
    state: RequestState = field(default_factory=RequestState)


class ProjectService:
    """Base of the services: one project, one clock, one repository."""

    def __init__(self, env: ServiceEnv) -> None:
        self.env = env
        self.repository = env.repository
        self.project = env.project
        self.clock = env.clock
        self.trace = env.trace
        self.state = env.state

    async def read(self, work: StoreWork[T], *, long: bool = False) -> T:
        """Run `work(store)` in a read transaction for this project (`long`: it reads much)."""
        return await self.repository.read(self.project, work, long=long)

    async def write(self, work: StoreWork[T], *, long: bool = False) -> T:
        """Run `work(store)` in a write transaction for this project (counted, so request-level caches
        know to refresh); `long`: it writes much (an import, a reset).

        A request sent with an Idempotency-Key claims it here, in the same transaction as its writes
        (D92): either both commit or neither does, and a concurrent duplicate cannot claim it too."""
        claim = self.state.idempotency
        claiming = claim is not None and not claim.committed

        async def transaction(store: ProjectStore) -> T:
            if (
                claim is not None
                and claiming
                and not await store.take_idempotency_key(
                    claim.key, claim.fingerprint, claim.now, claim.expires_at
                )
            ):
                claim.lost = True
                raise IdempotencyKeyInUse()
            return await work(store)

        result = await self.repository.write(self.project, transaction, long=long)
        self.state.writes += 1
        if claim is not None and claiming:
            claim.committed = True
        return result


async def require_user(store: ProjectStore, user_id: str, *, lock: bool = False) -> StoredUser:
    """The user, or UserNotFoundError."""
    check_id("User", user_id)
    found = await store.get_user(user_id, lock=lock)
    if found is None:
        raise UserNotFound(user_id)
    return found


def require_feature(snapshot: CatalogSnapshot, feature_id: str) -> Feature:
    """The feature, or FeatureNotFoundError."""
    check_id("Feature", feature_id)
    feature = snapshot.catalog.features.get(feature_id)
    if feature is None:
        raise FeatureNotFound(feature_id)
    return feature
