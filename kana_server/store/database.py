"""Engines and connections: SQLite (WAL, busy timeout, foreign keys, one writer thread) or PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from kana_server.store import schema
from kana_server.store.prepared import refuse_nul
from kana_server.store.schema import SchemaState
from kana_server.store.sqlite_thread import ConnectionThreads, InlineConnection, drive
from kana_server.store.sqlite_writer import LoopWriter

T = TypeVar("T")

log = logging.getLogger("kana_server.store")


@dataclass(frozen=True)
class DatabaseOptions:
    """How to open the database (from Settings)."""

    url: str
    sqlite_synchronous: str = "FULL"
    busy_timeout_ms: int = 30_000
    pool_size: int = 4
    echo: bool = False


def _sqlite_pragmas(engine: Engine, options: DatabaseOptions, *, memory: bool, begin: str) -> None:
    """Set the pragmas on every new connection and let SQLAlchemy emit our own BEGIN (D2)."""

    @event.listens_for(engine, "connect")
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # On the driver's connection: SQLAlchemy's own execution would cost more than the BEGIN itself.
        # A short read has begun on the driver already (`Database._read_inline`): it joins that one.
        driver = conn.connection.driver_connection
        if not driver.in_transaction:
            driver.execute(begin)


def _refuse_nul(engine: Engine) -> None:
    """D65: PostgreSQL cannot store U+0000 in text; every dialect refuses it (BAD_USER_INPUT), checked on
    the parameters of each statement, so no column of any table can be forgotten. JSON is bound as its
    text, where U+0000 is the escape `\\u0000`: metadata may hold it."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _statement: str, parameters: Any, *_: Any) -> None:
        refuse_nul(parameters)


Work = Callable[[Any], Coroutine[Any, Any, T]]
"""A transaction function: a coroutine function of one connection (an `AsyncConnection` on PostgreSQL,
an `InlineConnection` on SQLite; both offer `execute` and `run_sync`)."""


class Database:
    """The connections of one database, and the one way to use them: `run_read(work)` and
    `run_write(work)` run a transaction function in a read or a write transaction.

    SQLite: one writer connection (writes are serialised and group-committed, never contended inside a
    process, D100, D101), a reader connection used on the event loop for short reads (D102) and reader
    threads for long ones. An in-memory database is one connection: everything goes through the writer.
    PostgreSQL: one async pool for both, transactions run on the event loop."""

    def __init__(self, options: DatabaseOptions) -> None:
        self.options = options
        url = make_url(options.url)
        self.dialect = url.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        self.is_memory = self.is_sqlite and url.database in (None, "", ":memory:")
        self._writer: LoopWriter | None = None
        self._reader_threads: ConnectionThreads | None = None
        self._engines: list[Engine] = []
        self._async_engine: AsyncEngine | None = None
        self._inline_engine: Engine | None = None
        self._inline_reader: Connection | None = None
        if self.is_sqlite:
            sync_url = url.set(drivername="sqlite+pysqlite")
            # The writer's connection is used on the event loop and on its own thread, one at a time.
            writer = create_engine(
                sync_url,
                echo=options.echo,
                poolclass=NullPool,
                connect_args={"check_same_thread": False},
            )
            _sqlite_pragmas(writer, options, memory=self.is_memory, begin="BEGIN IMMEDIATE")
            _refuse_nul(writer)
            self._engines.append(writer)
            self._writer = LoopWriter(
                writer, "kana-sqlite-writer", memory=self.is_memory, busy_timeout_ms=options.busy_timeout_ms
            )
            if not self.is_memory:  # an in-memory database lives in its one connection: the writer's
                reader = create_engine(sync_url, echo=options.echo, poolclass=NullPool)
                _sqlite_pragmas(reader, options, memory=False, begin="BEGIN")
                _refuse_nul(reader)
                self._engines.append(reader)
                self._reader_threads = ConnectionThreads(
                    reader, "kana-sqlite-reader", threads=options.pool_size
                )
                self._inline_engine = reader
        else:
            engine = create_async_engine(
                url,
                echo=options.echo,
                pool_size=options.pool_size,
                max_overflow=options.pool_size,
                pool_pre_ping=True,
            )
            _refuse_nul(engine.sync_engine)
            self._async_engine = engine
            # D63: a read sees one snapshot (as SQLite's WAL readers do) and cannot write; writes stay
            # READ COMMITTED and lock the rows their checks depend on (D29, D64).
            self._async_reader = engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )

    async def run_write(self, work: Work[T], *, long: bool = False) -> T:
        """Run `work(conn)` in one write transaction: committed when it returns, rolled back if it raises
        (`long`: it writes much, so on SQLite it runs off the event loop, D101)."""
        if self._writer is not None:
            return await self._writer.transaction(work, "long" if long else "write")
        assert self._async_engine is not None
        async with self._async_engine.begin() as conn:
            return await work(conn)

    async def run_read(self, work: Work[T], *, long: bool = False) -> T:
        """Run `work(conn)` in one read transaction (a consistent snapshot).

        On a SQLite file a short read runs at once on the event loop's own connection (D102): a WAL
        reader never waits for the writer, and reading a few rows costs less than the hop to a
        thread. A `long` read (a whole project's export) goes to a reader thread instead."""
        if self._inline_engine is not None and not long:
            return self._read_inline(work)
        if self._reader_threads is not None:
            return await self._reader_threads.transaction(work, "read")
        if self._writer is not None:  # in memory: reads are writer jobs like the writes
            return await self._writer.transaction(work, "long" if long else "write")
        async with self._async_reader.begin() as conn:
            return await work(conn)

    def data_version(self) -> int | None:
        """SQLite's `PRAGMA data_version` on the event loop's reader connection: it changes whenever any
        other connection (this process's writer, another process) commits. None elsewhere (D105)."""
        if self._inline_engine is None:
            return None
        driver = self._inline_connection().connection.driver_connection
        assert driver is not None
        return int(driver.execute("PRAGMA data_version").fetchone()[0])

    def _inline_connection(self) -> Connection:
        """The event loop's reader connection, opened on first use."""
        if self._inline_reader is None:
            assert self._inline_engine is not None
            self._inline_reader = self._inline_engine.connect()
        return self._inline_reader

    def _read_inline(self, work: Work[T]) -> T:
        """A short read: BEGIN and its end on the driver (SQLAlchemy's transaction bookkeeping cost more
        than the reads of canUseFeature); a statement run through SQLAlchemy joins the transaction, which
        then ends through SQLAlchemy. It wrote nothing, so it ends with a rollback."""
        conn = self._inline_connection()
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("BEGIN")
        try:
            return drive(work(InlineConnection(conn)))
        finally:
            if conn.in_transaction():
                conn.rollback()
            elif driver.in_transaction:
                driver.rollback()

    def on_failed_group_commit(self, forget: Callable[[], None]) -> None:
        """Have `forget()` called when a group of writes fails to commit (their reads of each other's
        uncommitted changes may have been cached)."""
        if self._writer is not None:
            self._writer.on_failed_group.append(forget)

    @property
    def group_commits(self) -> tuple[int, int]:
        """(commits, writes) of the SQLite writer so far: how many writes shared each commit."""
        writer = self._writer
        return (0, 0) if writer is None else (writer.commits, writer.writes)

    async def migrate(self) -> tuple[SchemaState, SchemaState]:
        """Bring the schema to the newest migration (D66); returns the state before and after.

        One transaction, so a failed migration changes nothing. Processes starting together migrate
        once: PostgreSQL holds an advisory lock, SQLite's BEGIN IMMEDIATE takes the write lock. SQLite's
        foreign keys are off meanwhile (ALTER by copying drops tables; with foreign keys on, that
        would delete the rows referring to them) and are checked before the commit.
        """
        if self._writer is not None:
            return await self._writer.submit(_migrate_sqlite, "raw")
        assert self._async_engine is not None
        async with self._async_engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": schema.ADVISORY_LOCK_KEY})
            return await conn.run_sync(schema.upgrade)

    async def create_schema(self) -> None:
        """Bring the schema to the newest migration (the name callers used before migrations)."""
        await self.migrate()

    async def schema_state(self) -> SchemaState:
        """Where the schema is, without changing it (SchemaError if this kana-server cannot use it)."""

        async def work(conn: Any) -> SchemaState:
            return await conn.run_sync(schema.check_usable)  # type: ignore[no-any-return]

        return await self.run_read(work)

    async def ping(self) -> bool:
        """Whether the database answers."""

        async def work(conn: Any) -> None:
            await conn.execute(text("SELECT 1"))

        await self.run_read(work)
        return True

    async def close(self) -> None:
        """Finish the transactions under way and close every connection."""
        if self._writer is not None:
            await self._writer.close()
        if self._reader_threads is not None:
            await asyncio.to_thread(self._reader_threads.stop)
        if self._inline_reader is not None:
            self._inline_reader.close()
            self._inline_reader = None
        for engine in self._engines:
            engine.dispose()
        if self._async_engine is not None:
            await self._async_engine.dispose()


def _migrate_sqlite(conn: Connection) -> tuple[SchemaState, SchemaState]:
    """SQLite's migration, on the writer's bare connection (see `Database.migrate`)."""
    _sqlite_foreign_keys(conn, False)
    try:
        with conn.begin():
            result = schema.upgrade(conn)
            _sqlite_check_foreign_keys(conn)
    finally:
        _sqlite_foreign_keys(conn, True)
    return result


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
