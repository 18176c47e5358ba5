"""The SQLite writer: write transactions run on the event loop, in groups that share one commit (D101).

A group starts with `BEGIN IMMEDIATE` and ends with `COMMIT`. The commit runs on a thread of the writer's
own, because it waits for the disk (its fsync). The BEGIN is first tried on the event loop without
waiting (the busy timeout set to 0 for it): only when another process holds the write lock does it go to
the thread, to wait there (D120); a hop to the thread costs a turn of the loop per group. Between
them, the group's writes run one after another on the event loop, each in its own SAVEPOINT, on the
writer's synchronous connection (a transaction function never suspends there, see `drive`): no thread
switch and no fight for the GIL per write. Writes that arrive while a group commits form the next group.
A write that raises rolls back to its savepoint and fails alone; a failed commit fails the whole group.
Nothing is answered before the commit that holds it.

A long write (an import, a reset) runs whole on the writer's thread, alone, so that it does not stop
the event loop; so do migrations, which manage their own transaction. An in-memory database has no disk
and no other process: its commits run on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

from kana_server.store.sqlite_thread import MAX_GROUP, InlineConnection, Job, Mode, deliver, drive, run_alone

log = logging.getLogger("kana_server.store")

T = TypeVar("T")


class LoopWriter:
    """The one writer connection of a SQLite database, used from the event loop (see the module)."""

    def __init__(self, engine: Engine, name: str, *, memory: bool, busy_timeout_ms: int) -> None:
        self.engine = engine
        self.memory = memory
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: Connection | None = None
        self._pending: deque[Job[Any]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.commits = 0
        self.writes = 0
        self.on_failed_group: list[Callable[[], None]] = []
        """Called when a group's commit fails: what its writes cached must be forgotten."""

    async def submit(self, run: Callable[[Connection], T], mode: Mode) -> T:
        """Run `run(connection)` as `mode` says, after the jobs sent before it, and wait for its end."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(Job(run, mode, future, loop))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush(), name="kana-sqlite-writer")
        return await future

    async def transaction(self, work: Callable[[InlineConnection], Coroutine[Any, Any, T]], mode: Mode) -> T:
        """Run a transaction function (driven to its end at once, see `drive`)."""

        def run(conn: Connection) -> T:
            return drive(work(InlineConnection(conn)))

        return await self.submit(run, mode)

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        if self.memory:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _flush(self) -> None:
        if self._conn is None:
            self._conn = await self._off_loop(self.engine.connect)
        conn = self._conn
        while self._pending:
            first = self._pending.popleft()
            if first.mode != "write":
                await self._off_loop(run_alone, conn, first)
                deliver([first])
                continue
            group = [first]
            while self._pending and len(group) < MAX_GROUP and self._pending[0].mode == "write":
                group.append(self._pending.popleft())
            await self._run_group(conn, group)
            deliver(group)

    def _begin_now(self, conn: Connection) -> RootTransaction | None:
        """BEGIN IMMEDIATE on the event loop if the write lock is free now; None if it is not."""
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA busy_timeout=0")
        try:
            return conn.begin()
        except (OperationalError, sqlite3.OperationalError):  # held by another process: wait off the loop
            if conn.in_transaction():
                conn.rollback()
            return None
        finally:
            driver.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")

    async def _run_group(self, conn: Connection, group: list[Job[Any]]) -> None:
        try:
            transaction = self._begin_now(conn)
            if transaction is None:
                transaction = await self._off_loop(conn.begin)
        except BaseException as exc:  # the write lock was not granted: the group fails, nothing written
            for job in group:
                job.error = exc
            return
        if len(group) == 1:
            try:
                group[0].result = group[0].run(conn)
            except BaseException as exc:  # the group's only write failed: rolled back below
                group[0].error = exc
        else:
            for job in group:
                run_in_savepoint(conn, job)
        if all(job.error is not None for job in group):
            transaction.rollback()
            return
        try:
            await self._off_loop(transaction.commit)
        except BaseException as exc:  # the commit failed: every write of the group fails
            log.warning("a group commit of %d writes failed: %s", len(group), exc)
            for forget in self.on_failed_group:
                forget()
            for job in group:
                if job.error is None:
                    job.result = None
                    job.error = exc
            if conn.in_transaction():
                await self._off_loop(conn.rollback)
            return
        self.commits += 1
        self.writes += sum(1 for job in group if job.error is None)

    async def close(self) -> None:
        """Finish the writes already sent, then close the connection."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
        if self._conn is not None:
            await self._off_loop(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)


def run_in_savepoint(conn: Connection, job: Job[Any]) -> None:
    """Run one write of a group in its own SAVEPOINT; if it raises, it alone is rolled back, and fails.

    The SAVEPOINT, RELEASE and ROLLBACK TO are said on the driver: SQLAlchemy's `begin_nested` compiled
    a new savepoint name per write and took about a fifth of the event loop's time under recordUsage
    load (D120). No write opens a nested transaction of its own."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("SAVEPOINT kana_write")
    try:
        job.result = job.run(conn)
    except BaseException as exc:  # handed to this write's caller
        job.error = exc
        driver.execute("ROLLBACK TO kana_write")
    driver.execute("RELEASE kana_write")
