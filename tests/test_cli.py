"""The `kana-server` command line: seed, import, export, validate (typer's runner, real databases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from typer.testing import CliRunner, Result

from kana_server.cli import app
from tests.kana import FIXTURES, random_key
from tests.state_factory import generated_state

FILES = FIXTURES / "files"
KANA_DEV = FIXTURES / "cli" / "kana.dev.yaml"


def kana(*args: str) -> Result:
    """Run `kana-server ARGS`."""
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"


def exported(database: str, *extra: str) -> dict[str, Any]:
    result = kana("export", "--database", database, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["seed"], ["import"], ["export"], ["validate"], ["schema"]]
)
def test_every_command_explains_itself(command: list[str]) -> None:
    result = kana(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: kana-server" in result.output


def test_seed_fills_a_database_without_a_server_once_per_content(database: str) -> None:
    result = kana("seed", str(KANA_DEV), "--database", database)
    assert result.exit_code == 0, result.output
    assert "Package basic will be created as PUBLISHED" in result.output
    assert "Seeded from" in result.output
    again = kana("seed", str(KANA_DEV), "--database", database)
    assert again.exit_code == 0
    assert "already applied" in again.output
    document = exported(database)
    assert [f["id"] for f in document["features"]] == ["api-calls", "seats", "dashboard"]


def test_export_then_import_through_files_gives_the_same_state(tmp_path: Path) -> None:
    first, second = (f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("first.db", "second.db"))
    source = tmp_path / "generated.json"
    source.write_bytes(orjson.dumps(generated_state(users=80, events=6000)))
    result = kana("import", str(source), "--database", first)
    assert result.exit_code == 0, result.output
    assert "Writing usage events" in result.output
    assert "6000/6000" in result.output
    assert "Imported" in result.output
    assert "6000 usage" in result.output
    as_yaml = tmp_path / "first.yaml"
    assert kana("export", "--database", first, "--output", str(as_yaml)).exit_code == 0
    assert kana("import", str(as_yaml), "--database", second).exit_code == 0
    assert exported(second) == exported(first)
    assert len(exported(second)["usage"]) == 6000


def test_import_needs_an_empty_project_unless_replace(database: str, tmp_path: Path) -> None:
    assert kana("seed", str(KANA_DEV), "--database", database).exit_code == 0
    source = tmp_path / "state.yaml"
    source.write_text(yaml.safe_dump(generated_state(users=3, events=10)))
    refused = kana("import", str(source), "--database", database)
    assert refused.exit_code == 1
    assert "The project is not empty" in refused.output
    assert [f["id"] for f in exported(database)["features"]] == ["api-calls", "seats", "dashboard"]
    replaced = kana("import", str(source), "--database", database, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert len(exported(database)["users"]) == 3


def test_the_project_option_picks_the_project(database: str) -> None:
    key = random_key()
    assert kana("seed", str(KANA_DEV), "--database", database, "--project", key).exit_code == 0
    assert exported(database)["features"] == []
    assert len(exported(database, "--project", key)["features"]) == 3


def test_exporting_a_project_that_does_not_exist_fails(database: str) -> None:
    result = kana("export", "--database", database, "--project", random_key())
    assert result.exit_code == 1
    assert "No project has the key" in result.output


def test_a_bad_seed_names_the_line_and_writes_nothing(database: str) -> None:
    result = kana("seed", str(FILES / "bad_usage.yaml"), "--database", database)
    assert result.exit_code == 1
    assert "bad_usage.yaml:17: usage.1: Usage of api-calls by bob: The user does not have a subscription" in (
        result.output.replace("\n", " ")
    )
    assert exported(database)["users"] == []


def test_an_import_with_a_bad_line_imports_nothing(database: str, tmp_path: Path) -> None:
    document = generated_state(users=2, events=3)
    document["usage"].append({"user": "user-0000", "feature": "dashboard"})
    source = tmp_path / "bad.yaml"
    source.write_text(yaml.safe_dump(document, sort_keys=False))
    result = kana("import", str(source), "--database", database)
    assert result.exit_code == 1
    line = source.read_text().splitlines().index("  feature: dashboard") + 1
    assert f"bad.yaml:{line}: usage.3.feature: dashboard: Usage cannot be recorded" in result.output
    assert exported(database)["features"] == []


def validate(*args: str) -> tuple[int, list[str]]:
    result = kana("validate", *args)
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def test_validate_a_good_file() -> None:
    code, lines = validate(str(KANA_DEV))
    assert code == 0
    assert lines[0].endswith("kana.dev.yaml: The Kana CLI's own checks pass")
    assert any(":25: Package basic will be created as PUBLISHED" in line for line in lines)
    assert lines[-1].endswith("The file seeds an empty project without errors")


def test_validate_names_the_line_of_a_yaml_syntax_error() -> None:
    code, lines = validate(str(FILES / "syntax_error.yaml"))
    assert code == 1
    assert "syntax_error.yaml:4: not valid YAML" in lines[0]


def test_validate_refuses_duplicate_keys() -> None:
    code, lines = validate(str(FILES / "duplicate_key.yaml"))
    assert code == 1
    assert "duplicate_key.yaml:4: not valid YAML" in lines[0]
    assert "duplicate key 'type'" in " ".join(lines)


def test_validate_names_the_line_of_each_shape_error() -> None:
    code, lines = validate(str(FILES / "shape_errors.yaml"))
    assert code == 1
    text = "\n".join(lines)
    assert "shape_errors.yaml:6: [ERROR] features.1.type: Input should be 'BINARY' or 'CONSUMABLE'" in text
    assert "shape_errors.yaml:10: [ERROR] packages.published.0.colour: Extra inputs are not permitted" in text
    assert (
        "shape_errors.yaml:13: [ERROR] packages.published.0.features.0.limit: Input should be a valid" in text
    )
    assert "shape_errors.yaml:12: [WARNING] The Kana CLI would stop here: all package features" in text


def test_validate_tries_the_file_on_an_empty_project() -> None:
    code, lines = validate(str(FILES / "rule_errors.yaml"))
    assert code == 1
    assert any(
        "rule_errors.yaml:14: [ERROR] Package pro refers to unknown feature ghost" in line for line in lines
    )


def test_validate_warns_where_the_kana_cli_would_stop() -> None:
    code, lines = validate(str(FILES / "cli_would_stop.yaml"))
    assert code == 0
    assert "cli_would_stop.yaml:9: [WARNING] The Kana CLI would stop here" in lines[0]


def test_validate_against_a_database_is_the_diff_kana_validate_shows(database: str) -> None:
    assert kana("seed", str(KANA_DEV), "--database", database).exit_code == 0
    code, lines = validate(str(KANA_DEV), "--database", database)
    assert code == 0
    assert lines[-1].endswith("The project's catalog already matches the file")
    changed = Path(database.removeprefix("sqlite+aiosqlite:///")).with_name("changed.yaml")
    changed.write_text(KANA_DEV.read_text().replace("limit: 1000", "limit: 1500"))
    code, lines = validate(str(changed), "--database", database)
    assert code == 1
    refused = "changed.yaml:25: [ERROR] Package basic is PUBLISHED and cannot be changed: api-calls: limit"
    assert any(refused in line and line.endswith("limit 1000 → 1500") for line in lines)


def test_validate_as_an_import_accepts_what_a_seed_refuses() -> None:
    code, lines = validate(str(FILES / "archived_live.yaml"))
    assert code == 1
    assert any("Package old-plan is not published" in line for line in lines)
    code, lines = validate(str(FILES / "archived_live.yaml"), "--import")
    assert code == 0
    assert lines[-1].endswith("The file imports an empty project without errors")


def test_a_seed_cannot_reuse_a_subscription_id(database: str) -> None:
    result = kana("seed", str(FILES / "taken_id.yaml"), "--database", database)
    assert result.exit_code == 1
    assert "taken_id.yaml:13: subscriptions.1: Subscription id 1 is already taken" in result.output
    assert exported(database)["users"] == []


@pytest.mark.parametrize(("flags", "loop"), [([], "asyncio"), (["--event-loop", "uvloop"], "uvloop")])
def test_serve_runs_on_the_chosen_event_loop(
    database: str, monkeypatch: pytest.MonkeyPatch, flags: list[str], loop: str
) -> None:
    """D107: asyncio's loop unless told otherwise (uvloop makes new connections wait under load)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("kana_server.cli.uvicorn.run", lambda app, **options: calls.append(options))
    result = kana("serve", "--database", database, *flags)
    assert result.exit_code == 0, result.output
    [options] = calls
    assert options["loop"] == loop


def test_a_setting_that_is_not_acceptable_is_one_clear_line(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = kana("serve", "--database", database, "--event-loop", "trio")
    assert result.exit_code == 2
    assert (
        "Invalid --event-loop / KANA_EVENT_LOOP: Input should be 'asyncio' or 'uvloop' (got 'trio')"
        in result.output
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    monkeypatch.setenv("KANA_LOG_LEVEL", "loud")
    result = kana("serve", "--database", database)
    assert result.exit_code == 2
    assert "Invalid --log-level / KANA_LOG_LEVEL:" in result.output
    assert "(got 'loud')" in result.output


@pytest.mark.parametrize(("command", "code"), [(["serve"], 2), (["migrate"], 2), (["export"], 1)])
def test_a_database_url_that_is_not_one_is_one_clear_line(command: list[str], code: int) -> None:
    result = kana(*command, "--database", "nope")
    assert result.exit_code == code, result.output
    assert "Not a database URL" in result.output
    assert "Traceback" not in result.output
