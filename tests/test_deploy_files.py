"""The deployment files (Dockerfile, compose.yaml, docs/deploy.md) agree with the code: Docker cannot
run here, so everything that can be checked without it is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.documented_commands import check_command, commands_in

ROOT = Path(__file__).parent.parent
DEPLOY_GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
SETTING_VARIABLES = {f"KANA_{name.upper()}" for name in Settings.model_fields}
INTERPOLATION = re.compile(r"\$\{(\w+):-([^}]*)\}")


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def with_defaults(value: str) -> str:
    """A compose value with `${VAR:-default}` replaced by its default."""
    return INTERPOLATION.sub(lambda m: m.group(2), value)


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), as (INSTRUCTION, arguments)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def instruction(name: str) -> list[str]:
    return [args for kind, args in dockerfile() if kind == name]


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD/HEALTHCHECK."""
    found = re.search(r"(\[.*\])\s*$", args)
    assert found, args
    command = json.loads(found.group(1))
    assert isinstance(command, list)
    return [str(part) for part in command]


def test_compose_runs_kana_server_with_postgres_from_the_db_service() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "kana"}
    db, kana = services["db"], services["kana"]
    assert kana["command"] == ["kana-server", "serve"]
    assert kana["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    env = {name: with_defaults(str(value)) for name, value in kana["environment"].items()}
    url = make_url(env["KANA_DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "db"
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.password == with_defaults(db["environment"]["POSTGRES_PASSWORD"])
    assert url.database == db["environment"]["POSTGRES_DB"]
    assert set(env) <= SETTING_VARIABLES, set(env) - SETTING_VARIABLES
    settings = Settings.model_validate(
        {name.removeprefix("KANA_").lower(): value for name, value in env.items()}
    )
    assert settings.workers == 2
    assert settings.host == "0.0.0.0"
    assert kana["ports"] == [f"127.0.0.1:{settings.port}:{settings.port}"]
    health = " ".join(kana["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.port}/_kana/health" in health


def test_the_image_installs_the_postgres_driver_and_runs_serve() -> None:
    assert exec_form(instruction("CMD")[0]) == compose()["services"]["kana"]["command"]
    assert any('".[postgres]"' in args for args in instruction("RUN"))
    env = " ".join(instruction("ENV"))
    assert "KANA_HOST=0.0.0.0" in env
    assert instruction("EXPOSE") == ["4000"]
    assert "KANA_PORT=4000" in env
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for args in instruction("COPY"):
        *sources, _ = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source not in ignored, source
    assert "kana-server" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def run_health_check(command: list[str], port: int) -> int:
    env = {**os.environ, "KANA_PORT": str(port)}
    command = [sys.executable if part == "python" else part for part in command]
    command = [part.replace("127.0.0.1:4000", f"127.0.0.1:{port}") for part in command]
    return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode


def test_the_health_checks_pass_on_a_running_server_and_fail_without_one(tmp_path: Path) -> None:
    image_check = exec_form(instruction("HEALTHCHECK")[0])
    compose_check = compose()["services"]["kana"]["healthcheck"]["test"][1:]
    assert compose()["services"]["kana"]["healthcheck"]["test"][0] == "CMD"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}", port=0)
    with ThreadedServer(settings) as server:
        assert run_health_check(image_check, server.port) == 0
        assert run_health_check(compose_check, server.port) == 0
        port = server.port
    assert run_health_check(image_check, port) != 0
    assert run_health_check(compose_check, port) != 0


def test_the_deploy_guide_documents_every_setting_and_no_other() -> None:
    mentioned = set(re.findall(r"\bKANA_[A-Z_]+[A-Z]\b", DEPLOY_GUIDE))
    compose_only = set(INTERPOLATION.findall((ROOT / "compose.yaml").read_text(encoding="utf-8")))
    missing = SETTING_VARIABLES - mentioned
    assert not missing, f"document these in docs/deploy.md's table: {sorted(missing)}"
    unknown = mentioned - SETTING_VARIABLES - {name for name, _ in compose_only}
    assert not unknown, f"docs/deploy.md names variables kana-server does not read: {sorted(unknown)}"


def guide_commands() -> set[str]:
    """`kana-server CMD --flag` in the guide's code (inline or blocks; not the settings table)."""
    code = re.findall(r"```[a-z]*\n(.*?)```", DEPLOY_GUIDE, re.DOTALL)
    code += [
        span
        for line in DEPLOY_GUIDE.splitlines()
        if not line.startswith("|")
        for span in re.findall(r"`([^`]+)`", line)
    ]
    return {m for text in code for m in commands_in(text)}


@pytest.mark.parametrize("text", sorted(guide_commands()))
def test_the_commands_in_the_deploy_guide_exist(text: str) -> None:
    check_command(text)
