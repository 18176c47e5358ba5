"""schema.graphql is what the code exports; a change to the API must update it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kana_server.api.schema import admin_schema
from kana_server.settings import Settings

SCHEMA = Path(__file__).parent.parent / "schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    exported = admin_schema(Settings()).as_str() + "\n"
    assert SCHEMA.read_text(encoding="utf-8") == exported, "run `make schema` and commit schema.graphql"


def test_the_cli_prints_the_same_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kana_server", "schema"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout == SCHEMA.read_text(encoding="utf-8")
