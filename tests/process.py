"""A real `kana-server serve` process for end-to-end tests: free port, bounded start, stopped by PID."""

from __future__ import annotations

import os
import re
import sys

from kana_server.testing.processes import ChildProcess

RUNNING = re.compile(r"Uvicorn running on (http://[^\s]+:\d+)")
WORKER = re.compile(r"Started server process \[(\d+)\]")
STARTED = "Application startup complete."


class ServerProcess(ChildProcess):
    """`kana-server serve ARGS --port 0`; `url` once started; every log line kept in `lines`."""

    name = "kana-server"

    def __init__(
        self, *args: str, workers: int = 1, startup_timeout: float = 60.0, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, stop_timeout=30.0)
        self.args = [*args, "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)]
        self.env = env or {}
        self.workers = workers
        self.url = ""
        self.worker_pids: set[int] = set()

    def start(self) -> ServerProcess:
        """Start and wait until every worker has started (fails with the log otherwise)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KANA_")} | self.env
        self.launch([sys.executable, "-m", "kana_server", "serve", *self.args], env)
        return self

    def ready(self) -> bool:
        """Whether it listens and every worker has started (reads the URL and the workers' PIDs)."""
        lines = list(self.lines)
        for line in lines:
            if found := RUNNING.search(line):
                self.url = found.group(1)
            if found := WORKER.search(line):
                self.worker_pids.add(int(found.group(1)))
        return bool(self.url) and sum(STARTED in line for line in lines) >= self.workers

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
