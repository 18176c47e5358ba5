"""docs/testing.md's snippets (and the README's pytest example) work: its test files pass under the plugin, the code it quotes from the example
is the example's, its GitHub Actions steps start a server and run a suite against it, and its Compose
file's health check and wiring hold."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.documented_commands import check_command, commands_in

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parent.parent.parent
GUIDE = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "flask-app"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
HEADER = re.compile(r"^# (\S+)$")


def blocks(language: str) -> list[tuple[str, str]]:
    """The guide's code blocks in a language, as (file name, code after the header line)."""
    found = []
    for lang, code in BLOCK.findall(GUIDE):
        if lang != language:
            continue
        first, _, rest = code.partition("\n")
        header = HEADER.match(first)
        assert header, f"a {language} block in docs/testing.md must start with '# <file name>': {first!r}"
        found.append((header.group(1), rest))
    return found


def block(name: str) -> str:
    """The one block written as file `name`."""
    (code,) = [code for lang in ("python", "yaml") for file, code in blocks(lang) if file == name]
    return code


def test_every_python_block_is_a_test_file_or_quotes_the_example() -> None:
    for name, _ in blocks("python"):
        assert name.startswith("examples/") or re.fullmatch(r"(test_\w+|conftest)\.py", name), name


@pytest.mark.parametrize(
    ("name", "code"),
    [(name, code) for name, code in blocks("python") if name.startswith("examples/")],
)
def test_quoted_code_is_the_examples_code(name: str, code: str) -> None:
    assert code in (ROOT / name).read_text(encoding="utf-8")


def test_the_guides_test_files_pass_under_the_plugin(user_project: pytest.Pytester) -> None:
    files = {name: code for name, code in blocks("python") if not name.startswith("examples/")}
    for name, code in files.items():
        user_project.makepyfile(**{name.removesuffix(".py"): code})
    tests = sum(code.count("\ndef test_") for code in files.values())
    assert tests >= 7
    user_project.runpytest().assert_outcomes(passed=tests)


def test_the_readmes_pytest_example_passes(user_project: pytest.Pytester) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (code,) = [code for lang, code in BLOCK.findall(readme) if lang == "python" and "def test_" in code]
    user_project.makepyfile(test_readme=code)
    user_project.runpytest().assert_outcomes(passed=1)


def test_the_failure_shown_in_the_guide_is_what_pytest_prints(user_project: pytest.Pytester) -> None:
    (shown,) = [code for lang, code in BLOCK.findall(GUIDE) if lang == "" and "KanaGraphQLError" in code]
    user_project.makepyfile(
        test_shown="""
        from pathlib import Path

        def test_gold(kana):
            kana.seed(Path(__file__).parent / "catalog.yaml")
            kana.create_user("alice")
            kana.subscribe("alice", "gold")
        """
    )
    output = user_project.runpytest().stdout.str()
    for line in shown.splitlines():
        assert line in output, line


def guide_commands() -> set[str]:
    """`kana-server CMD --flag` in the guide's shell and YAML blocks."""
    return commands_in(" ".join(code for lang, code in BLOCK.findall(GUIDE) if lang in ("sh", "yaml")))


@pytest.mark.parametrize("text", sorted(guide_commands()))
def test_the_commands_in_the_guide_exist(text: str) -> None:
    check_command(text)


def step(job: dict[str, Any], name: str) -> str:
    """The `run` script of a workflow step."""
    (script,) = [s["run"] for s in job["steps"] if s.get("name") == name]
    return str(script)


def stop(pid: int, timeout: float = 30) -> None:
    """SIGTERM a process by its PID and wait until it is gone (SIGKILL if it lingers)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def workflow_env(tmp_path: Path, unused_port: int) -> Iterator[dict[str, str]]:
    """The workflow job's environment with a free port, this virtualenv first on PATH, RUNNER_TEMP a
    temporary folder; the server the workflow starts is stopped afterwards by its PID file."""
    job = yaml.safe_load(block(".github/workflows/test.yaml"))["jobs"]["test"]
    port = str(unused_port)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KANA_", "PYTEST_"))}
    env |= {k: str(v).replace("4000", port) for k, v in job["env"].items()}
    env |= {
        "RUNNER_TEMP": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
    }
    assert env["KANA_URL"] == f"http://127.0.0.1:{port}"
    yield env
    pid_file = tmp_path / "kana.pid"
    if pid_file.exists():
        stop(int(pid_file.read_text()))


def test_the_github_actions_steps_start_a_server_and_test_against_it(
    workflow_env: dict[str, str], tmp_path: Path
) -> None:
    job = yaml.safe_load(block(".github/workflows/test.yaml"))["jobs"]["test"]
    started = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step(job, "Start kana-server")],
        env=workflow_env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    log = (tmp_path / "kana.log").read_text() if (tmp_path / "kana.log").exists() else ""
    assert started.returncode == 0, started.stderr + log
    assert started.stdout == '{"status":"ok"}'
    assert httpx.get(workflow_env["KANA_URL"] + "/_kana/health").json() == {"status": "ok"}

    tested = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step(job, "Test")],
        cwd=EXAMPLE,
        env=workflow_env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert f"kana-server: {workflow_env['KANA_URL']} (--kana-url / KANA_URL)" in tested.stdout
    assert re.search(r"\b6 passed\b", tested.stdout), tested.stdout
    assert "created: 2/2 workers" in tested.stdout


def test_the_compose_files_health_check_passes_on_a_server_and_the_tests_reach_it(tmp_path: Path) -> None:
    services = yaml.safe_load(block("compose.test.yaml"))["services"]
    kana, tests = services["kana"], services["tests"]
    Settings.model_validate({k.removeprefix("KANA_").lower(): v for k, v in kana["environment"].items()})
    assert tests["depends_on"] == {"kana": {"condition": "service_healthy"}}
    assert tests["environment"]["KANA_URL"] == "http://kana:4000"  # the image's KANA_PORT
    assert "ENV KANA_HOST=0.0.0.0" in (ROOT / "Dockerfile").read_text().replace("\\\n", " ").replace(
        "  ", " "
    )
    kind, *check = kana["healthcheck"]["test"]
    assert kind == "CMD"

    def health(port: int) -> int:
        command = [sys.executable if p == "python" else p.replace(":4000/", f":{port}/") for p in check]
        return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}", port=0)
    with ThreadedServer(settings) as server:
        assert health(server.port) == 0
        port = server.port
    assert health(port) != 0
