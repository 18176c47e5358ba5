"""SQLite connections that each live on one thread and run whole transactions in one hop (D100, D101).

A request's transaction is a coroutine function of a connection (`work(conn)`). Against PostgreSQL it
runs on the event loop with an async connection. Against SQLite it is sent to the thread that owns the
connection and driven there to its end: its statements run on a synchronous connection, so none of its
`await`s suspends, and the event loop hears back once, when the transaction is over. A per-statement
hop costs a thread switch and a fight for the GIL each time (several per statement with an async
driver); per transaction it is one.

The writer thread commits in groups (D101): it takes every write waiting in its queue, runs each in its
own SAVEPOINT inside one `BEGIN IMMEDIATE` transaction, commits once, and only then answers them all. A
write that fails rolls back to its savepoint and fails alone; a failed commit fails them all. Nothing is
answered before the commit that holds it, so durability is that of one commit per write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Connection, Engine

from kana_server.store.prepared import Prepared, PreparedResult, refuse_nul

log = logging.getLogger("kana_server.store")

T = TypeVar("T")

Mode = Literal["read", "write", "raw"]
"""How a job runs: in a read transaction, in a group-committed write transaction (in a savepoint when
it shares the transaction), or on the bare connection (migrations manage their own transaction)."""

MAX_GROUP = 256
"""At most this many writes share one commit (bounded, so one commit never waits on too many)."""


class InlineConnection:
    """What a transaction function sees on SQLite: an async `execute` that runs at once on the
    thread's synchronous connection (so awaiting it never suspends)."""

    __slots__ = ("sync",)

    def __init__(self, sync: Connection) -> None:
        self.sync = sync

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one statement now (an async connection's `execute`, without the hop)."""
        return self.sync.execute(statement, parameters)

    def run(self, prepared: Prepared, values: Mapping[str, Any]) -> PreparedResult:
        """Run a prepared statement on the driver at once (D103)."""
        parameters = prepared.parameters(values)
        refuse_nul(parameters)
        cursor = self.sync.connection.driver_connection.execute(prepared.sql, parameters)  # type: ignore[union-attr]
        return PreparedResult(prepared.rows(cursor.fetchall()))

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `fn(connection, ...)` now (an async connection's `run_sync`)."""
        return fn(self.sync, *args, **kwargs)


class SuspendedTransaction(RuntimeError):
    """A transaction function awaited something other than its connection (a bug: it would block the
    database thread)."""


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, on this thread, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coroutine.close()
    raise SuspendedTransaction(
        "a database transaction awaited something other than its connection; keep other I/O outside it"
    )


@dataclass(slots=True)
class Job(Generic[T]):
    """One transaction sent to a connection thread, and where its answer goes."""

    run: Callable[[Connection], T]
    mode: Mode
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    result: Any = None
    error: BaseException | None = field(default=None)


def _deliver(jobs: list[Job[Any]]) -> None:
    """On the event loop: hand each job its answer (unless its caller gave up waiting)."""
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class ConnectionThreads:
    """SQLite connections, each owned by one thread, taking jobs from one queue in order: one thread
    for the writer (its jobs are serialised and group-committed), several for readers."""

    def __init__(self, engine: Engine, name: str, *, threads: int = 1, group_commit: bool = False) -> None:
        self.engine = engine
        self.name = name
        self.count = threads
        self.group_commit = group_commit
        self._queue: queue.SimpleQueue[Job[Any] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.commits = 0
        self.writes = 0
        self.on_failed_group: list[Callable[[], None]] = []
        """Called (on the thread) when a group's commit fails: what its writes cached must be forgotten."""

    def _ensure_started(self) -> None:
        if not self._threads:
            with self._lock:
                if not self._threads:
                    self._threads = [
                        threading.Thread(target=self._serve, name=f"{self.name}-{i}", daemon=True)
                        for i in range(self.count)
                    ]
                    for thread in self._threads:
                        thread.start()

    async def submit(self, run: Callable[[Connection], T], mode: Mode) -> T:
        """Run `run(connection)` on a thread (in a transaction as `mode` says) and wait for its end."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(Job(run, mode, future, loop))
        return await future

    async def transaction(self, work: Callable[[InlineConnection], Coroutine[Any, Any, T]], mode: Mode) -> T:
        """Run a transaction function on a thread (driven to its end there, see `drive`)."""

        def run(conn: Connection) -> T:
            return drive(work(InlineConnection(conn)))

        return await self.submit(run, mode)

    def stop(self) -> None:
        """Finish the jobs already sent, close the connections and end the threads."""
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()

    def _serve(self) -> None:
        conn = self.engine.connect()
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                if first is None:
                    return
                jobs = [first]
                if self.group_commit and first.mode == "write":
                    stop = self._more_writes(jobs)
                self._run(conn, jobs)
                by_loop: dict[asyncio.AbstractEventLoop, list[Job[Any]]] = {}
                for job in jobs:
                    by_loop.setdefault(job.loop, []).append(job)
                for loop, answered in by_loop.items():
                    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for these
                        loop.call_soon_threadsafe(_deliver, answered)
        finally:
            conn.close()

    def _more_writes(self, jobs: list[Job[Any]]) -> bool:
        """Add the writes already waiting to `jobs`, to share the first one's commit (another kind of
        job ends the group and runs after its commit). Returns whether a stop was found."""
        while len(jobs) < MAX_GROUP:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            jobs.append(job)
            if job.mode != "write":
                return False
        return False

    def _run(self, conn: Connection, jobs: list[Job[Any]]) -> None:
        writes = [j for j in jobs if j.mode == "write"]
        if writes:
            self._run_writes(conn, writes)
        for job in jobs:
            if job.mode != "write":
                self._run_one(conn, job)

    def _run_one(self, conn: Connection, job: Job[Any]) -> None:
        try:
            if job.mode == "raw":
                job.result = job.run(conn)
            else:
                with conn.begin():
                    job.result = job.run(conn)
        except BaseException as exc:  # handed to the caller, whatever it is
            job.error = exc
        finally:
            if conn.in_transaction():  # a raw job left its transaction open: it must not leak
                conn.rollback()

    def _run_writes(self, conn: Connection, writes: list[Job[Any]]) -> None:
        if len(writes) == 1:
            self._run_one(conn, writes[0])
            self.commits += 1
            self.writes += 1
            return
        try:
            with conn.begin():
                for job in writes:
                    try:
                        with conn.begin_nested():
                            job.result = job.run(conn)
                    except Exception as exc:  # this write alone is rolled back, and fails
                        job.error = exc
        except BaseException as exc:  # the commit (or the transaction) failed: every write fails
            log.warning("a group commit of %d writes failed: %s", len(writes), exc)
            for forget in self.on_failed_group:
                forget()
            for job in writes:
                if job.error is None:
                    job.result = None
                    job.error = exc
        self.commits += 1
        self.writes += len(writes)
