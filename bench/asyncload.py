"""The fallback load generator when wrk is missing: raw HTTP/1.1 keep-alive connections on asyncio.

Bounded like wrk: a fixed number of connections, each sending its next request when the previous
answer arrived; answers that arrive after the run's time are not counted; a request slower than the
timeout counts as a socket error and its connection is replaced. It shares the harness's process and
core, so it is slower than wrk: compare ratios, not its absolute numbers with wrk's.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from urllib.parse import urlsplit

from bench.load import HttpRequest, LoadResult, Workload, percentiles


def encode(request: HttpRequest, host: str) -> bytes:
    """The request's bytes on an HTTP/1.1 keep-alive connection."""
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    lines.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server closes the connection) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    chunked = close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = value == b"close"
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        return status, b"".join(p[:-2] for p in parts), close
    return status, await reader.readexactly(length or 0), close


@dataclass
class Tally:
    """Counts of one run; nothing is counted once `closed`."""

    closed: bool = False
    kinds: dict[str, int] = field(
        default_factory=lambda: {"ok": 0, "http_error": 0, "graphql_error": 0, "unexpected": 0}
    )
    socket_errors: int = 0
    timeouts: int = 0
    latencies: list[float] = field(default_factory=list)

    def answer(self, kind: str, seconds: float) -> None:
        """An answer arrived."""
        if not self.closed:
            self.kinds[kind] += 1
            self.latencies.append(seconds)

    def failure(self, *, timeout: bool) -> None:
        """A connection failed (or a request timed out)."""
        if not self.closed:
            self.socket_errors += 1
            self.timeouts += timeout


async def connection(
    host: str,
    port: int,
    raw: list[bytes],
    first: int,
    workload: Workload,
    tally: Tally,
    request_timeout: float,
) -> None:
    """One keep-alive connection sending the rotation from `first` until cancelled."""
    position = first
    stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while not tally.closed:  # also checked here: a cancellation can be lost in a finished read
            if stream is None:
                try:
                    async with asyncio.timeout(request_timeout):
                        stream = await asyncio.open_connection(host, port)
                except (OSError, TimeoutError):
                    tally.failure(timeout=False)
                    await asyncio.sleep(0.05)
                    continue
            reader, writer = stream
            request = raw[position % len(raw)]
            position += 1
            started = perf_counter()
            try:
                writer.write(request)
                async with asyncio.timeout(request_timeout):
                    status, body, close = await read_response(reader)
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ) as e:
                tally.failure(timeout=isinstance(e, TimeoutError))
                writer.close()
                stream = None
                continue
            tally.answer(workload.classify(status, body), perf_counter() - started)
            if close:
                writer.close()
                stream = None
    finally:
        if stream is not None:
            stream[1].close()


async def drive(
    base_url: str, workload: Workload, connections: int, seconds: float, request_timeout: float
) -> LoadResult:
    """Run the connections for `seconds`, then stop counting and close them."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    raw = [encode(request, f"{host}:{port}") for request in workload.requests]
    tally = Tally()
    started = perf_counter()
    tasks = [
        asyncio.create_task(connection(host, port, raw, i * 7919, workload, tally, request_timeout))
        for i in range(connections)
    ]
    await asyncio.sleep(seconds)
    elapsed = perf_counter() - started
    tally.closed = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    kinds = tally.kinds
    return LoadResult(
        generator="asyncio",
        connections=connections,
        seconds=elapsed,
        answered=sum(kinds.values()),
        ok=kinds["ok"],
        http_errors=kinds["http_error"],
        graphql_errors=kinds["graphql_error"],
        unexpected=kinds["unexpected"],
        socket_errors=tally.socket_errors,
        timeouts=tally.timeouts,
        latency_ms=percentiles(tally.latencies),
    )


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it comes with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


class AsyncioClient:
    """The asyncio load generator, with the same interface as `Wrk`."""

    name = "asyncio"

    def __init__(self) -> None:
        self.version = f"python {platform.python_version()}" + (" + uvloop" if loop_factory() else "")

    def run(
        self, base_url: str, workload: Workload, *, connections: int, seconds: float, timeout: float
    ) -> LoadResult:
        """One run on a fresh event loop."""
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(drive(base_url, workload, connections, seconds, timeout))
