"""examples/flask-app's own test suite passes: run as its own project (its own pytest configuration) in a
separate process, with warnings as errors, the plugin starting kana-server itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "flask-app"


def test_the_flask_example_suite_passes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KANA_", "PYTEST_"))}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTEST_ADDOPTS": "-p no:cacheprovider"}
    # pytest-asyncio is this repository's, not the example's: unconfigured, it warns.
    command = [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:asyncio", "-v"]
    run = subprocess.run(
        command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kana-server:" not in run.stdout  # no --kana-url: the plugin started its own server
    passed = re.findall(r"^tests/test_reports\.py::(\w+) PASSED", run.stdout, re.MULTILINE)
    defined = re.findall(
        r"^def (test_\w+)", (EXAMPLE / "tests" / "test_reports.py").read_text(), re.MULTILINE
    )
    assert sorted(passed) == sorted(defined)
    assert len(defined) == 6
