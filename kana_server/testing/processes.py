"""Stopping a child process the way kana-server's tests and benchmarks do: by its PID, never by name."""

from __future__ import annotations

import os
import signal
import subprocess


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
