"""`kana-server serve --export-on-exit FILE` in a real process: SIGINT/SIGTERM write the default
project's export atomically, so a second Ctrl-C or a kill during the export never corrupts the file."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from kana_server import project_files
from kana_server.config_files import load_config_file_text
from kana_server.domain.config import parse_config
from tests.process import ServerProcess
from tests.state_factory import generated_state

pytestmark = pytest.mark.e2e


async def fill(database: str, events: int) -> None:
    """The default project of a database, with a generated state."""
    async with project_files.opened(database) as runtime:
        services = runtime.services(await runtime.project(None))
        await services.project_state.import_state(
            parse_config(generated_state(users=50, events=events), "test")
        )


async def export_text(database: str) -> bytes:
    return await project_files.export(database=database, key=None, fmt="yaml", output=None)


async def test_sigterm_writes_the_export(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    await fill(database, 500)
    target = tmp_path / "state.yaml"
    with ServerProcess("--database", database, "--export-on-exit", str(target)) as server:
        server.signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then ends by the signal it received, as the signal asks.
        assert server.wait() in (0, -signal.SIGTERM), server.log()
    assert "exported the default project" in server.log()
    assert target.read_bytes() == await export_text(database)
    assert [p.name for p in tmp_path.glob("*.tmp")] == []  # noqa: ASYNC240 - a test's own folder


async def test_ctrl_c_during_the_export_leaves_the_old_file_or_a_complete_new_one(tmp_path: Path) -> None:
    events = 60_000
    database = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    await fill(database, events)
    expected = await export_text(database)
    target = tmp_path / "state.yaml"
    old = b"# the previous export\nversion: 1.0.0\nfeatures: []\n"
    # A second signal at several moments of the shutdown: a second Ctrl-C, or a hard kill.
    plan: list[tuple[float | None, signal.Signals | None]] = [
        (0.0, signal.SIGKILL),
        (0.0, signal.SIGINT),
        (0.3, signal.SIGKILL),
        (0.8, signal.SIGKILL),
        (0.5, signal.SIGINT),
        (None, None),
    ]
    outcomes = []
    for delay, second in plan:
        target.write_bytes(old)
        with ServerProcess("--database", database, "--export-on-exit", str(target)) as server:
            server.signal(signal.SIGINT)
            if delay is not None and second is not None:
                await asyncio.sleep(delay)
                server.signal(second)
            server.wait()
        leftovers = list(tmp_path.glob(".state.yaml.*.tmp"))  # noqa: ASYNC240 - the test's own folder
        if second is not signal.SIGKILL:
            assert leftovers == []  # only a killed process can leave its temporary file behind
        for leftover in leftovers:
            leftover.unlink()
        written = target.read_bytes()
        if written == old:
            outcomes.append("old")
        else:
            # Not the old file: then it must be the whole new export, byte for byte, and readable.
            assert written == expected, (delay, second, len(written), len(expected))
            assert len(load_config_file_text(written.decode(), "state.yaml").usage or []) == events
            outcomes.append("new")
    # Without a second signal the export always completes.
    assert outcomes[-1] == "new"
