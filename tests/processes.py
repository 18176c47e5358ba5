"""`kana-server serve` in a child process: a free port (port 0), stopped by its PID, bounded in time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from types import TracebackType
from typing import IO

RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


class KanaProcess:
    """Start with `with`, read `url`, stopped on exit; its output is kept for failure messages."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, startup_timeout: float = 60) -> None:
        self.command = [
            sys.executable,
            "-m",
            "kana_server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--log-level",
            "info",
            *args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.startup_timeout = startup_timeout
        self.output: list[str] = []
        self.url = ""
        self._started = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            self.output.append(line)
            match = RUNNING.search(line)
            if match and not self.url:
                self.url = match.group(1)
                self._started.set()
        self._started.set()  # the process ended: stop waiting

    def __enter__(self) -> KanaProcess:
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env
        )
        assert self._process.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True)
        self._reader.start()
        if not self._started.wait(self.startup_timeout) or not self.url:
            self.stop()
            raise RuntimeError("kana-server did not start:\n" + "".join(self.output))
        return self

    def stop(self) -> None:
        """Terminate the process (by its PID) and wait for it; kill it if it does not stop."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
