"""`kana-server migrate` and the schema check of `kana-server serve`, as real processes on each backend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from kana_server.store import schema
from kana_server.store.database import Database, DatabaseOptions
from tests.postgres import run_async

pytestmark = pytest.mark.e2e


def kana_server(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `kana-server ARGS` to the end (no KANA_* variables from the caller's environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANA_")}
    return subprocess.run(
        [sys.executable, "-m", "kana_server", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**env, "COLUMNS": "200"},
        check=False,
    )


def one_line(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


def set_revision(url: str, revision: str) -> None:
    """Overwrite the recorded revision (what a newer kana-server's migration would leave)."""

    async def update() -> None:
        db = Database(DatabaseOptions(url=url))
        try:

            async def work(conn: Any) -> None:
                await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})

            await db.run_write(work)
        finally:
            await db.close()

    run_async(update)


def test_migrate_brings_a_new_database_up_to_date_once(make_database: Callable[[], str]) -> None:
    url = make_database()
    head = schema.head_revision()
    check = kana_server("migrate", "--database", url, "--check")
    assert check.returncode == 1, check.stderr
    assert f"none (empty database; head: {head})" in check.stdout

    first = kana_server("migrate", "--database", url)
    assert first.returncode == 0, first.stderr
    assert f"migrated from none (empty database; head: {head}) to {head} (up to date)" in first.stdout

    second = kana_server("migrate", "--database", url)
    assert second.returncode == 0, second.stderr
    assert f"{head} (up to date), nothing to do" in second.stdout

    check = kana_server("migrate", "--database", url, "--check")
    assert check.returncode == 0, check.stderr


def test_serve_refuses_a_schema_newer_than_it_knows(make_database: Callable[[], str]) -> None:
    url = make_database()
    assert kana_server("migrate", "--database", url).returncode == 0
    set_revision(url, "9999")
    served = kana_server("serve", "--database", url, "--port", "0", "--workers", "2")
    assert served.returncode == 1
    message = one_line(served.stderr)
    assert "Cannot use the database" in message
    assert "revision 9999, which this kana-server does not know" in message
    assert "a newer kana-server has migrated it" in message
    assert "Traceback" not in served.stderr
    migrated = kana_server("migrate", "--database", url)
    assert migrated.returncode == 1
    assert "revision 9999" in one_line(migrated.stderr)


def test_migrate_reports_a_database_it_cannot_open_without_a_traceback() -> None:
    url = "postgresql+asyncpg://kana:secret@127.0.0.1:1/kana"
    result = kana_server("migrate", "--database", url)
    assert result.returncode == 1
    message = one_line(result.stderr)
    assert "Cannot open the database postgresql+asyncpg://kana:***@127.0.0.1:1/kana" in message
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_sql_prints_the_schema_without_touching_the_database() -> None:
    result = kana_server("migrate", "--sql", "--database", "postgresql+asyncpg://kana@127.0.0.1:1/kana")
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE projects" in result.stdout
    assert result.stdout.rstrip().endswith("COMMIT;")
