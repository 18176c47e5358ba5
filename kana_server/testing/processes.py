"""Child processes the way kana-server's tests and benchmarks run servers: the log drained by a thread,
a bounded wait until the process is ready, stopped by its PID (never by name)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from types import TracebackType
from typing import Self


def stop_by_pid(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float) -> int:
    """SIGTERM by PID, then SIGKILL if it has not exited in `timeout` s; its exit code."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    return process.returncode


class ChildProcess:
    """A child process whose standard error is kept in `lines` (the last `max_lines`, or all).

    Subclasses say how to start it (`start`, which calls `launch`) and when it is ready (`ready`)."""

    name = "child process"

    def __init__(self, *, startup_timeout: float, stop_timeout: float, max_lines: int | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.lines: deque[str] = deque(maxlen=max_lines)
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> Self:
        """Start the process and wait until it is ready."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the started process is ready (it still runs)."""
        raise NotImplementedError

    def launch(self, command: list[str], env: dict[str, str] | None, *, new_session: bool = False) -> None:
        """Run `command`, drain its log, and wait until `ready()`; fail with the log if it exits or
        does not get ready in `startup_timeout` s."""
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=new_session,
        )
        self._reader = threading.Thread(target=self._read, name=f"{self.name} log", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.ready():
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self.name} did not start in {self.startup_timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line.rstrip("\n"))

    def log(self, last: int | None = None) -> str:
        """The lines the process logged (the last `max_lines`; with `last`, only that many)."""
        lines = list(self.lines)
        return "\n".join(lines if last is None else lines[-last:])

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM by PID, SIGKILL if it has not exited in time; its exit code (None if never started)."""
        process = self._process
        if process is None:
            return None
        stop_by_pid(process, self.stop_timeout if timeout is None else timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        if process.stderr is not None:
            process.stderr.close()
        return process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
