"""SQLite transactions in one hop (D100): transaction functions, and reader connections on threads.

A request's transaction is a coroutine function of a connection (`work(conn)`). Against PostgreSQL it
runs on the event loop with an async connection. Against SQLite it is driven to its end at once on a
synchronous connection (`drive`): its statements run there, none of its `await`s suspends. Short reads
run so on the event loop (D102), writes on the writer's connection (store/sqlite_writer.py, D101), long
reads on the reader threads here, each owning its connection. A hop to a thread per statement (an async
driver makes several) costs a thread switch and a fight for the GIL each time; here there is at most one
per transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Connection, Engine

from kana_server.store.prepared import Prepared, PreparedResult

T = TypeVar("T")

Mode = Literal["read", "write", "long", "raw"]
"""How a job runs: in a read transaction, in a group-committed write transaction (in a savepoint when
it shares the transaction), alone in a write transaction off the event loop (`long`), or on the bare
connection (migrations manage their own transaction)."""

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
        prepared.refuse_nul(parameters)
        cursor = self.sync.connection.driver_connection.execute(prepared.sql, parameters)  # type: ignore[union-attr]
        return PreparedResult(prepared.rows(cursor.fetchall()))

    def run_many(self, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a prepared statement once per row, in one call to the driver (D103)."""
        self.run_bound(prepared, [prepared.parameters(row) for row in rows])

    def run_bound(self, prepared: Prepared, parameters: Sequence[tuple[Any, ...]]) -> None:
        """Run a prepared statement once per tuple of driver parameters, in one call to the driver."""
        for row in parameters:
            prepared.refuse_nul(row)
        self.sync.connection.driver_connection.executemany(prepared.sql, parameters)  # type: ignore[union-attr]

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


def deliver(jobs: list[Job[Any]]) -> None:
    """On the event loop: hand each job its answer (unless its caller gave up waiting)."""
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


def run_alone(conn: Connection, job: Job[Any]) -> None:
    """Run one job on a connection: in its own transaction, or bare (`raw`); its error is kept."""
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


class ConnectionThreads:
    """SQLite reader connections, each owned by one thread, taking jobs from one queue in order."""

    def __init__(self, engine: Engine, name: str, *, threads: int = 1) -> None:
        self.engine = engine
        self.name = name
        self.count = threads
        self._queue: queue.SimpleQueue[Job[Any] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

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
            while True:
                job = self._queue.get()
                if job is None:
                    return
                run_alone(conn, job)
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this answer
                    job.loop.call_soon_threadsafe(deliver, [job])
        finally:
            conn.close()
