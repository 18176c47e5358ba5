"""Engines and connections: SQLite (WAL, busy timeout, foreign keys, one writer) or PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from kana_server.domain.errors import InvalidInput
from kana_server.store import schema
from kana_server.store.schema import SchemaState

log = logging.getLogger("kana_server.store")


@dataclass(frozen=True)
class DatabaseOptions:
    """How to open the database (from Settings)."""

    url: str
    sqlite_synchronous: str = "FULL"
    busy_timeout_ms: int = 30_000
    pool_size: int = 4
    echo: bool = False


def _sqlite_pragmas(engine: AsyncEngine, options: DatabaseOptions, *, memory: bool, begin: str) -> None:
    """Set the pragmas on every new connection and let SQLAlchemy emit our own BEGIN (D2)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver so that writers can say BEGIN IMMEDIATE: a deferred
        # transaction that later writes can fail with "database is locked" without waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout first: switching to WAL waits for the lock like any write (a migration in
        # another process may hold it for seconds), instead of failing with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={int(options.busy_timeout_ms)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={options.sqlite_synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


NUL_MESSAGE = "Text must not contain the NUL character (U+0000)"


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    return False


def _refuse_nul(engine: AsyncEngine) -> None:
    """D65: PostgreSQL cannot store U+0000 in text; every dialect refuses it (BAD_USER_INPUT), checked on
    the parameters of each statement, so no column of any table can be forgotten. JSON is bound as its
    text, where U+0000 is the escape `\\u0000`: metadata may hold it."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any) -> None:
        if _contains_nul(parameters):
            raise InvalidInput(NUL_MESSAGE)


class Database:
    """The engines of one database. SQLite gets one writer connection (writes are serialised, never
    contended inside a process) and a pool of readers; PostgreSQL one pool for both."""

    def __init__(self, options: DatabaseOptions) -> None:
        self.options = options
        url = make_url(options.url)
        self.dialect = url.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self.is_memory = self.is_sqlite and url.database in (None, "", ":memory:")
        if self.is_sqlite:
            single = {
                "poolclass": AsyncAdaptedQueuePool,
                "pool_size": 1,
                "max_overflow": 0,
                "pool_timeout": 600,
            }
            self.writer = create_async_engine(url, echo=options.echo, **single)
            _sqlite_pragmas(self.writer, options, memory=self.is_memory, begin="BEGIN IMMEDIATE")
            if self.is_memory:
                # An in-memory database lives in its one connection: readers share the writer's.
                self.reader = self.writer
            else:
                self.reader = create_async_engine(
                    url,
                    echo=options.echo,
                    poolclass=AsyncAdaptedQueuePool,
                    pool_size=options.pool_size,
                    max_overflow=0,
                    pool_timeout=600,
                )
                _sqlite_pragmas(self.reader, options, memory=False, begin="BEGIN")
        else:
            self.writer = create_async_engine(
                url,
                echo=options.echo,
                pool_size=options.pool_size,
                max_overflow=options.pool_size,
                pool_pre_ping=True,
            )
            # D63: a read sees one snapshot (as SQLite's WAL readers do) and cannot write; writes stay
            # READ COMMITTED and lock the rows their checks depend on (D29, D64).
            self.reader = self.writer.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        _refuse_nul(self.writer)
        if self.reader.pool is not self.writer.pool:
            _refuse_nul(self.reader)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """One read transaction (a consistent snapshot)."""
        async with self.reader.begin() as conn:
            yield conn

    async def migrate(self) -> tuple[SchemaState, SchemaState]:
        """Bring the schema to the newest migration (D66); returns the state before and after.

        One transaction, so a failed migration changes nothing. Processes starting together migrate
        once: PostgreSQL holds an advisory lock, SQLite's BEGIN IMMEDIATE takes the write lock. SQLite's
        foreign keys are off meanwhile (ALTER by copying drops tables; with foreign keys on, that
        would delete the rows referring to them) and are checked before the commit.
        """
        async with self.writer.connect() as conn:
            if self.is_sqlite:
                await conn.run_sync(_sqlite_foreign_keys, False)
            try:
                async with conn.begin():
                    if not self.is_sqlite:
                        await conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": schema.ADVISORY_LOCK_KEY}
                        )
                    result = await conn.run_sync(schema.upgrade)
                    if self.is_sqlite:
                        await conn.run_sync(_sqlite_check_foreign_keys)
            finally:
                if self.is_sqlite:
                    await conn.run_sync(_sqlite_foreign_keys, True)
        return result

    async def create_schema(self) -> None:
        """Bring the schema to the newest migration (the name callers used before migrations)."""
        await self.migrate()

    async def schema_state(self) -> SchemaState:
        """Where the schema is, without changing it (SchemaError if this kana-server cannot use it)."""
        async with self.read() as conn:
            return await conn.run_sync(schema.check_usable)

    async def ping(self) -> bool:
        """Whether the database answers."""
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        """Close every connection."""
        await self.writer.dispose()
        if self.reader.pool is not self.writer.pool:
            await self.reader.dispose()


def _sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Switch SQLite's foreign keys (only possible outside a transaction: on the driver connection)."""
    cursor = conn.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


def _sqlite_check_foreign_keys(conn: Connection) -> None:
    """Fail (and roll back) a migration that left rows pointing nowhere."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise schema.SchemaError(f"A migration left rows whose foreign keys point nowhere: {broken[:10]}")
