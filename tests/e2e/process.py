"""A real `kana-server serve` process on a free port, for end-to-end tests: started, waited for,
signalled and stopped by its PID, every wait bounded."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class ServerProcess:
    """`python -m kana_server serve --port 0 ...`; its log goes to a file next to the database."""

    def __init__(self, folder: Path, *args: str, startup_timeout: float = 60.0) -> None:
        self.folder = folder
        self.args = args
        self.startup_timeout = startup_timeout
        self.log = folder / f"server-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start the process and wait until it listens (or fail with its log)."""
        command = [
            sys.executable,
            "-m",
            "kana_server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *self.args,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, env=env
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.port = int(found.group(1))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"kana-server did not start:\n{self.log.read_text(errors='replace')}")

    def signal(self, number: int) -> None:
        """Send a signal to the process (if it still runs)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, number)

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for the process to end; its exit code."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """End the process now and reap it."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def output(self) -> str:
        """What the process logged."""
        return self.log.read_text(errors="replace")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
