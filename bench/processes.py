"""Servers under test as child processes: a free loopback port, a bounded start, stopped by PID.

The port is found by binding port 0 and handed to the server (`--port N`); the server is ready when
the port accepts connections (uvicorn runs the app's startup before it binds, so nothing depends on its
log format). Each child runs in its own session, so a Ctrl-C reaches only the harness, which then stops
it (SIGTERM, then SIGKILL) in its `finally`. Its log is drained by a thread (a full pipe would block it)
and the last lines are kept for error messages.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from kana_server.testing.processes import ChildProcess

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def accepts(port: int) -> bool:
    """Whether something listens on the loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


class ChildServer(ChildProcess):
    """A uvicorn-based server; its command gets `--port N` on a free port; `url` once it listens."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        startup_timeout: float = 120,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, stop_timeout=15, max_lines=200)
        self.name = name
        self.command = command
        self.env = env
        self.port = 0
        self.url = ""

    def start(self) -> ChildServer:
        """Start it on a free port and wait until it accepts connections (or fail with its log)."""
        self.port = free_port()
        self.launch([*self.command, "--port", str(self.port)], self.env, new_session=True)
        self.url = f"http://{HOST}:{self.port}"
        return self

    def ready(self) -> bool:
        """Whether it accepts connections."""
        return accepts(self.port)

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) of the process, in KiB, from /proc."""
        return read_memory(self.pid)


def read_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process in KiB (Linux /proc; empty elsewhere)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return {}
    found: dict[str, int] = {}
    for line in status.read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def clean_environment() -> dict[str, str]:
    """The environment without KANA_* variables: servers under test run with their defaults."""
    return {name: value for name, value in os.environ.items() if not name.startswith("KANA_")}


def kana_executable() -> list[str]:
    """The `kana-server` console script next to this Python (or `python -m kana_server`)."""
    script = Path(sys.executable).parent / "kana-server"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kana_server"]


def sqlite_url(path: Path) -> str:
    """kana-server's URL for a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def kana_server(
    database: Path, *, seed: Path | None = None, env: dict[str, str] | None = None, name: str = "kana-server"
) -> ChildServer:
    """`kana-server serve` on a free loopback port: 1 worker, access log off, defaults otherwise."""
    command = [
        *kana_executable(),
        "serve",
        "--host",
        HOST,
        "--database",
        sqlite_url(database),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "info",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    return ChildServer(name, command, env=env if env is not None else clean_environment())


def floor_server(
    database: Path, seed: Path | None, synchronous: str, env: dict[str, str] | None = None
) -> ChildServer:
    """The floor app (bench/floor.py) on a free loopback port."""
    command = [sys.executable, "-m", "bench.floor", "--host", HOST, "--database", str(database)]
    command += ["--synchronous", synchronous]
    if seed is not None:
        command += ["--seed", str(seed)]
    base = env if env is not None else clean_environment()
    root = str(Path(__file__).resolve().parent.parent)  # so that `-m bench.floor` works from anywhere
    path = os.pathsep.join(x for x in (root, base.get("PYTHONPATH")) if x)
    return ChildServer("floor", command, env=base | {"PYTHONPATH": path})
