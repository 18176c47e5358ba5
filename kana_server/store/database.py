"""Engines and connections: SQLite (WAL, busy timeout, foreign keys, one writer) or PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlmodel import SQLModel

from kana_server.store import models  # noqa: F401 - registers the tables on SQLModel.metadata

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
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={options.sqlite_synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(options.busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


class Database:
    """The engines of one database. SQLite gets one writer connection (writes are serialised, never
    contended inside a process) and a pool of readers; PostgreSQL one pooled engine for both."""

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
            self.reader = self.writer

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

    async def create_schema(self) -> None:
        """Create the tables that do not exist yet."""
        async with self.write() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def ping(self) -> bool:
        """Whether the database answers."""
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        """Close every connection."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
