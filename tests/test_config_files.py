"""kana.yaml files: reading (YAML or JSON, with line numbers) and writing exports atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from kana_server.config_files import (
    FileError,
    LineFinder,
    load_config_file_text,
    load_data,
    render_document,
    write_atomically,
)
from tests.state_factory import generated_state


def test_exports_read_back_the_same_in_yaml_and_json() -> None:
    document = generated_state(users=5, events=300)
    as_yaml = render_document(document, "yaml").decode()
    as_json = render_document(document, "json").decode()
    assert load_data(as_yaml, "state.yaml") == document
    assert load_data(as_json, "state.json") == document
    # The fast reading of the usage block gives what the YAML parser gives.
    assert yaml.safe_load(as_yaml) == document


def test_a_usage_block_edited_by_hand_is_read_by_the_yaml_parser() -> None:
    document = generated_state(users=2, events=4)
    text = render_document(document, "yaml").decode()
    text = text.replace('- {"user"', "- {user", 1).rstrip("\n") + "\n# a comment\n"
    assert load_data(text, "state.yaml") == document


def test_duplicate_keys_are_refused_with_their_line() -> None:
    with pytest.raises(FileError) as error:
        load_data("features:\n  - id: a\n    id: b\n", "dup.yaml")
    assert error.value.located[0].line == 3
    assert "found duplicate key 'id'" in error.value.message


def test_json_syntax_errors_have_their_line() -> None:
    with pytest.raises(FileError) as error:
        load_data('{\n  "features": [\n    {"id": "a",}\n  ]\n}', "bad.json")
    assert error.value.located[0].line == 3
    assert error.value.message.startswith("bad.json:3: not valid JSON")


def test_shape_errors_have_their_line_in_json_too() -> None:
    text = '{\n  "features": [\n    {"id": "a", "type": "BINARY"},\n    {"id": "b", "type": "ON"}\n  ]\n}'
    with pytest.raises(FileError) as error:
        load_config_file_text(text, "bad.json")
    assert error.value.message == "bad.json:4: features.1.type: Input should be 'BINARY' or 'CONSUMABLE'"


def test_instants_without_a_zone_are_utc_on_the_millisecond_grid() -> None:
    config = load_config_file_text(
        "subscriptions:\n  - {user: a, package: p, started_at: 2026-01-31 09:00:00.123456}\n", "s.yaml"
    )
    assert config.subscriptions is not None
    assert config.subscriptions[0].started_at is not None
    assert config.subscriptions[0].started_at.isoformat() == "2026-01-31T09:00:00.123000+00:00"


def test_the_line_finder_reports_the_deepest_known_part() -> None:
    finder = LineFinder("a:\n  b:\n    - x\n    - y\n")
    assert finder.line(("a", "b", 1)) == 4
    assert finder.line(("a", "missing", 3)) == 2  # the value of a: the deepest part found


def test_write_atomically_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "state.yaml"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.yaml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.yaml"
    target.write_bytes(b"old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.yaml"]
