"""A lean keep-alive HTTP/1.1 client for load tests: one connection, requests one after another, parsed
by h11 (httpx's own parser). httpx's client machinery costs more CPU per call than the server's work,
which made the load generator the bottleneck of the concurrency tests."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11
import orjson


@dataclass(frozen=True, slots=True)
class Answer:
    """A response: its status and body."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


class WireError(ConnectionError):
    """The connection broke before the whole answer arrived."""


class WireClient:
    """One HTTP/1.1 connection to `url`, opened on first use and again after it breaks."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._h11 = h11.Connection(h11.CLIENT)

    async def post_json(self, path: str, body: Any, headers: dict[str, str]) -> Answer:
        """POST a JSON body and read the whole answer (WireError if the connection breaks)."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(path, orjson.dumps(body), headers)
        except (OSError, h11.ProtocolError, TimeoutError) as exc:
            await self.close()
            raise WireError(repr(exc)) from exc

    async def _exchange(self, path: str, data: bytes, headers: dict[str, str]) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self._h11 = h11.Connection(h11.CLIENT)
        assert self._reader is not None
        conn = self._h11
        request = h11.Request(
            method="POST",
            target=path,
            headers=[
                ("Host", f"{self.host}:{self.port}"),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *headers.items(),
            ],
        )
        self._writer.write(
            conn.send(request) + conn.send(h11.Data(data=data)) + conn.send(h11.EndOfMessage())
        )
        status = 0
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                received = await self._reader.read(65536)
                if not received:
                    raise WireError("the server closed the connection")
                conn.receive_data(received)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise WireError("the server closed the connection")
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            await self.close()
        return Answer(status, b"".join(chunks))

    async def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
