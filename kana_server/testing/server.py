"""A real kana-server in a background thread (like moto's ThreadedMotoServer): uvicorn on a free port."""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType

import uvicorn

from kana_server.app import create_app
from kana_server.clock import Clock
from kana_server.settings import Settings


class ThreadedServer:
    """Start with `start()` (or `with`), read `url`, stop with `stop()`; `clock` replaces the real clock."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, startup_timeout: float = 30.0
    ) -> None:
        self.settings = settings.model_copy(update={"port": settings.port or 0})
        self.startup_timeout = startup_timeout
        config = uvicorn.Config(
            create_app(self.settings, clock=clock),
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)  # outside the main thread it leaves signals alone
        self._thread = threading.Thread(target=self._run, name="kana-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:
            self._error = exc

    def start(self) -> ThreadedServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"kana-server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("kana-server did not start in time")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        """The port actually bound."""
        servers = self._server.servers
        return int(servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:53211."""
        return f"http://{self.settings.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
