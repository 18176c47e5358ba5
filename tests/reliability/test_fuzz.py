"""Fuzzing: schemathesis generates GraphQL queries and mutations from the live Admin API schema and
sends them to a real `kana-server serve`; none may get a 5xx or an INTERNAL_SERVER_ERROR
(tests/reliability/fuzz_checks.py), and the server logs no unexpected error. Bounded: a fixed seed, at
most 10 examples per operation and 90 s."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kana import random_key
from tests.process import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.timeout(400)
def test_fuzzing_the_admin_api_finds_no_server_error(tmp_path: Path) -> None:
    with ServerProcess("--database", f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}") as server:
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.reliability.fuzz_checks",
            "PYTHONPATH": str(ROOT),
        }
        command = [
            str(SCHEMATHESIS), "run", f"{server.url}/graphql",
            "--header", f"Authorization: {random_key()}",
            "--checks", "no_internal_error",
            "--max-examples", "10",
            "--max-time", "90",
            "--seed", "8",
            "--workers", "2",
            "--no-color",
        ]  # fmt: skip
        run = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        log = server.log()
    print(run.stdout[-700:])  # the summary: how many cases ran
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " passed" in run.stdout, run.stdout[-2000:]
    assert "Unexpected error" not in log, log[-6000:]
    assert "Traceback" not in log, log[-6000:]
