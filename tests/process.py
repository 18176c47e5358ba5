"""A real `kana-server serve` process for end-to-end tests: free port, bounded start, stopped by PID."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from types import TracebackType

from kana_server.testing.processes import stop_by_pid

RUNNING = re.compile(r"Uvicorn running on (http://[^\s]+:\d+)")
WORKER = re.compile(r"Started server process \[(\d+)\]")
STARTED = "Application startup complete."


class ServerProcess:
    """`kana-server serve ARGS --port 0`; `url` once started; every log line kept in `lines`."""

    def __init__(
        self, *args: str, workers: int = 1, startup_timeout: float = 60.0, env: dict[str, str] | None = None
    ) -> None:
        self.args = [*args, "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)]
        self.env = env or {}
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.lines: list[str] = []
        self.url = ""
        self.worker_pids: set[int] = set()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        """The serving process (with workers: their supervisor)."""
        assert self._process is not None
        return self._process.pid

    def start(self) -> ServerProcess:
        """Start and wait until every worker has started (fails with the log otherwise)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KANA_")} | self.env
        self._process = subprocess.Popen(
            [sys.executable, "-m", "kana_server", "serve", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._started():
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"kana-server exited with {self._process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"kana-server did not start in {self.startup_timeout} s:\n{self.log()}")
            time.sleep(0.05)
        return self

    def _started(self) -> bool:
        """Whether it listens and every worker has started (reads the URL and the workers' PIDs)."""
        lines = list(self.lines)
        for line in lines:
            if found := RUNNING.search(line):
                self.url = found.group(1)
            if found := WORKER.search(line):
                self.worker_pids.add(int(found.group(1)))
        return bool(self.url) and sum(STARTED in line for line in lines) >= self.workers

    def log(self) -> str:
        """Everything the server logged so far."""
        return "\n".join(self.lines)

    @property
    def command(self) -> list[str]:
        """The command line (after `python -m kana_server serve`)."""
        return list(self.args)

    def signal(self, number: int) -> None:
        """Send a signal to the process (by its PID) if it still runs, e.g. SIGINT as Ctrl-C does."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, number)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to end by itself; its exit code."""
        assert self._process is not None
        return self._process.wait(timeout=timeout)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM by PID, then SIGKILL if it does not exit in time; returns the exit code."""
        process = self._process
        if process is None:
            return 0
        stop_by_pid(process, timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
        return process.returncode

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
