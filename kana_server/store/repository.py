"""The repository: projects, and a project-scoped store per transaction. The only door to SQL."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, delete, select, update

from kana_server.domain.clock import ClockState, offset_ms
from kana_server.domain.model import Project
from kana_server.store import statements
from kana_server.store.catalog import CatalogSnapshot, CatalogStore
from kana_server.store.checkout import CheckoutStore
from kana_server.store.database import Database
from kana_server.store.idempotency import IdempotencyStore
from kana_server.store.inspection import InspectionStore
from kana_server.store.models import PROJECT_TABLES
from kana_server.store.people import PeopleStore
from kana_server.store.prepared import Prepared
from kana_server.store.scoped import (
    CHECKOUT_SESSIONS,
    PROJECTS,
    Connection,
    dialect_insert,
    run_prepared,
    table,
)
from kana_server.store.state import StateStore
from kana_server.store.usage import UsageStore

T = TypeVar("T")
KEY_CACHE_SIZE = 1024
"""Keys whose project is remembered (D105); the cache starts over when it is full."""
StoreWork = Callable[["ProjectStore"], Coroutine[Any, Any, T]]
"""A transaction function: what one transaction does with a project's store."""


def _project(row: Row[Any]) -> Project:
    return Project(
        id=row.id,
        private_key=row.private_key,
        public_key=row.public_key,
        name=row.name,
        token_secret=row.token_secret,
        catalog_version=row.catalog_version,
        clock_offset_ms=row.clock_offset_ms,
        clock_frozen_at=row.clock_frozen_at,
        seed_digest=row.seed_digest,
    )


class CatalogCache:
    """Catalog snapshots per project, keyed by the project's catalog version (bounded, LRU). Shared by
    the database threads, so every change holds a lock."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[int, CatalogSnapshot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, project_id: int, version: int) -> CatalogSnapshot | None:
        """The cached snapshot if it is at that version."""
        with self._lock:
            entry = self._entries.get(project_id)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(project_id)
            return entry

    def put(self, project_id: int, snapshot: CatalogSnapshot) -> None:
        """Remember a committed snapshot."""
        with self._lock:
            self._entries[project_id] = snapshot
            self._entries.move_to_end(project_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every snapshot."""
        with self._lock:
            self._entries.clear()

    def forget(self, project_id: int) -> None:
        """Drop a project's snapshot."""
        with self._lock:
            self._entries.pop(project_id, None)


class ProjectStore(
    CatalogStore, PeopleStore, UsageStore, CheckoutStore, StateStore, InspectionStore, IdempotencyStore
):
    """Everything one transaction may read or write for one project."""

    def __init__(
        self, conn: Connection, project: Project, dialect: str, cache: CatalogCache, *, writing: bool
    ) -> None:
        super().__init__(conn, project.id, dialect)
        self.project = project
        self._cache = cache
        self._writing = writing
        self._catalog_written = False
        self._snapshot: CatalogSnapshot | None = None

    async def bump_catalog_version(self) -> None:
        """Mark the catalog changed; this transaction's later reads see its own changes."""
        await super().bump_catalog_version()
        self._catalog_written = True
        self._snapshot = None

    async def snapshot(self, version: int | None = None) -> CatalogSnapshot:
        """The catalog as this transaction sees it (from the cache when the version matches); `version`:
        the catalog version this transaction has just read, if it has."""
        if self._snapshot is not None:
            return self._snapshot
        if version is None:
            version = await self.catalog_version()
        cached = None if self._catalog_written else self._cache.get(self.project_id, version)
        if cached is None:
            cached = await self.load_catalog(version)
            if not self._catalog_written:
                self._cache.put(self.project_id, cached)
        self._snapshot = cached
        return cached

    async def lock_project(self) -> None:
        """Hold the project's row until the transaction ends (D64): writes that check that an id is
        free, rewrite the catalog, subscribe or reset call it first, before locking any other row, so
        they run one at a time per project on every database and always lock in one order (project,
        user, counter). SQLite runs every write alone anyway; PostgreSQL's READ COMMITTED would let two
        such checks pass together. `FOR NO KEY UPDATE` leaves inserts that reference the project free."""
        await self.conn.execute(
            select(PROJECTS.c.id).where(PROJECTS.c.id == self.project_id).with_for_update(key_share=True)
        )

    async def clock(self) -> ClockState:
        """The project's virtual clock as stored now; a write transaction locks it, so moves serialise."""
        query = select(PROJECTS.c.clock_offset_ms, PROJECTS.c.clock_frozen_at).where(
            PROJECTS.c.id == self.project_id
        )
        if self._writing:
            query = query.with_for_update(key_share=True)
        row = (await self.conn.execute(query)).one()
        return ClockState(offset=timedelta(milliseconds=row.clock_offset_ms), frozen_at=row.clock_frozen_at)

    async def set_clock(self, state: ClockState) -> None:
        """Store the project's virtual clock."""
        await self.conn.execute(
            update(PROJECTS)
            .where(PROJECTS.c.id == self.project_id)
            .values(clock_offset_ms=offset_ms(state), clock_frozen_at=state.frozen_at)
        )

    async def set_seed_digest(self, digest: str | None) -> None:
        """Remember which seed file was applied (so a restart with the same seed changes nothing)."""
        await self.conn.execute(
            update(PROJECTS).where(PROJECTS.c.id == self.project_id).values(seed_digest=digest)
        )

    async def reset(self) -> None:
        """Delete all of the project's data (every table of the registry) and reset its counters."""
        for model in PROJECT_TABLES:
            target = table(model)
            await self.conn.execute(delete(target).where(target.c.project_id == self.project_id))
        await self.conn.execute(
            update(PROJECTS)
            .where(PROJECTS.c.id == self.project_id)
            .values(subscription_seq=0, seed_digest=None, clock_offset_ms=0, clock_frozen_at=None)
        )
        await self.bump_catalog_version()


class Repository:
    """Projects, and transactions scoped to one project."""

    def __init__(self, db: Database, catalog_cache_size: int = 256) -> None:
        self.db = db
        self.catalogs = CatalogCache(catalog_cache_size)
        db.on_failed_group_commit(self.catalogs.clear)
        self._keys: dict[tuple[str, str], tuple[int, Project | None]] = {}

    async def _project_where(self, condition: Any) -> Project | None:
        async def work(conn: Any) -> Project | None:
            row = (await conn.execute(select(PROJECTS).where(condition))).first()
            return None if row is None else _project(row)

        return await self.db.run_read(work)

    async def _project_by(self, query: Prepared, key: str) -> Project | None:
        """The project of a key: on SQLite remembered until any connection commits anything (D105)."""
        version = self.db.data_version()
        cache_key = (query.sql, key)
        if version is not None:
            cached = self._keys.get(cache_key)
            if cached is not None and cached[0] == version:
                return cached[1]

        async def work(conn: Any) -> Project | None:
            row = (await run_prepared(conn, query, {"key": key})).first()
            return None if row is None else _project(row)

        project = await self.db.run_read(work)
        if version is not None:
            if len(self._keys) >= KEY_CACHE_SIZE:
                self._keys.clear()
            self._keys[cache_key] = (version, project)
        return project

    async def project_by_private_key(self, key: str) -> Project | None:
        """The project a private key belongs to."""
        return await self._project_by(statements.PROJECT_BY_PRIVATE_KEY, key)

    async def project_by_public_key(self, key: str) -> Project | None:
        """The project a public key belongs to."""
        return await self._project_by(statements.PROJECT_BY_PUBLIC_KEY, key)

    async def project_by_id(self, project_id: int) -> Project | None:
        """A project by its internal id (user tokens carry it)."""
        return await self._project_where(PROJECTS.c.id == project_id)

    async def project_of_checkout_session(self, session_id: str) -> Project | None:
        """The project a checkout session belongs to (its page is opened without a key, D70)."""
        owner = select(CHECKOUT_SESSIONS.c.project_id).where(CHECKOUT_SESSIONS.c.id == session_id)
        return await self._project_where(PROJECTS.c.id == owner.scalar_subquery())

    async def ensure_project(
        self, private_key: str, public_key: str, name: str, token_secret: str, now: datetime
    ) -> Project:
        """The project of a private key, created on first use (concurrent first uses create it once)."""

        async def work(conn: Any) -> Project:
            statement = dialect_insert(self.db.dialect, PROJECTS)
            await conn.execute(
                statement.values(
                    private_key=private_key,
                    public_key=public_key,
                    name=name,
                    token_secret=token_secret,
                    created_at=now,
                ).on_conflict_do_nothing()
            )
            row = (await conn.execute(select(PROJECTS).where(PROJECTS.c.private_key == private_key))).one()
            return _project(row)

        return await self.db.run_write(work)

    async def read(self, project: Project, work: StoreWork[T], *, long: bool = False) -> T:
        """Run `work(store)` in one read-only transaction for one project (`long`: it reads much)."""

        async def transaction(conn: Any) -> T:
            return await work(ProjectStore(conn, project, self.db.dialect, self.catalogs, writing=False))

        return await self.db.run_read(transaction, long=long)

    async def write(self, project: Project, work: StoreWork[T], *, long: bool = False) -> T:
        """Run `work(store)` in one write transaction for one project: all of it commits, or none of it
        (`long`: it writes much)."""

        async def transaction(conn: Any) -> T:
            return await work(ProjectStore(conn, project, self.db.dialect, self.catalogs, writing=True))

        return await self.db.run_write(transaction, long=long)
