"""SQLite transactions in one hop (D100), group commit (D101), reads on the event loop (D102) and
prepared statements (D103), on a real database file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import User
from kana_server.store import statements
from kana_server.store.database import Database, DatabaseOptions
from kana_server.store.prepared import NUL_MESSAGE, Prepared
from kana_server.store.repository import ProjectStore, Repository
from kana_server.store.scoped import run_prepared
from kana_server.store.sqlite_thread import InlineConnection, SuspendedTransaction
from kana_server.store.state import EVENT_COLUMNS

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(DatabaseOptions(url=f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"))
    await database.migrate()

    def create(conn: Connection) -> None:
        with conn.begin():
            conn.exec_driver_sql("CREATE TABLE scratch (n INTEGER NOT NULL)")

    await database._writer.submit(create, "raw")  # type: ignore[union-attr]
    yield database
    await database.close()


def stored(path: Path) -> list[int]:
    with sqlite3.connect(path / "kana.db") as conn:
        return sorted(n for (n,) in conn.execute("SELECT n FROM scratch"))


def insert(n: int, *, fail: bool = False) -> Any:
    async def work(conn: Any) -> int:
        await conn.execute(text("INSERT INTO scratch (n) VALUES (:n)"), {"n": n})
        if fail:
            raise InvalidInput(f"write {n} fails after inserting")
        return n

    return work


async def test_concurrent_writes_share_commits_and_all_land(db: Database, tmp_path: Path) -> None:
    results = await asyncio.gather(*(db.run_write(insert(n)) for n in range(200)))
    assert results == list(range(200))
    assert stored(tmp_path) == list(range(200))
    commits, writes = db.group_commits
    assert writes == 200
    assert commits < writes, "concurrent writes should have shared commits"


async def test_a_failing_write_in_a_group_fails_alone_and_leaves_nothing(
    db: Database, tmp_path: Path
) -> None:
    outcomes = await asyncio.gather(
        *(db.run_write(insert(n, fail=n % 7 == 3)) for n in range(50)), return_exceptions=True
    )
    failed = [n for n, o in enumerate(outcomes) if isinstance(o, InvalidInput)]
    assert failed == [n for n in range(50) if n % 7 == 3]
    assert stored(tmp_path) == [n for n in range(50) if n % 7 != 3]


async def test_a_transaction_awaiting_something_else_is_refused_and_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    async def work(conn: Any) -> None:
        await conn.execute(text("INSERT INTO scratch (n) VALUES (1)"))
        await asyncio.sleep(0)

    with pytest.raises(SuspendedTransaction):
        await db.run_write(work)
    assert stored(tmp_path) == []


async def busy_timeout(db: Database) -> int:
    def read(conn: Connection) -> int:
        return int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())

    return await db._writer.submit(read, "raw")  # type: ignore[union-attr]


async def test_a_write_waits_off_the_event_loop_while_another_process_holds_the_lock(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "kana.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO scratch (n) VALUES (-1)")
    write = asyncio.ensure_future(db.run_write(insert(1)))
    await asyncio.sleep(0.3)
    assert not write.done(), "the write waits for the other connection's lock"
    assert stored(tmp_path) == [], "the other transaction has not committed yet"
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(write, 10) == 1
    assert stored(tmp_path) == [-1, 1]
    assert await busy_timeout(db) == DatabaseOptions("x").busy_timeout_ms, "the busy timeout is back"


async def test_a_write_that_never_gets_the_lock_fails_and_the_next_one_lands(tmp_path: Path) -> None:
    database = Database(
        DatabaseOptions(url=f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}", busy_timeout_ms=200)
    )
    await database.migrate()
    await database.run_write(lambda conn: conn.execute(text("CREATE TABLE scratch (n INTEGER NOT NULL)")))
    other = sqlite3.connect(tmp_path / "kana.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Exception, match="database is locked"):
            await database.run_write(insert(1))
        other.execute("ROLLBACK")
        assert await database.run_write(insert(2)) == 2
        assert stored(tmp_path) == [2]
        assert await busy_timeout(database) == 200
    finally:
        other.close()
        await database.close()


async def test_a_read_sees_every_write_acknowledged_before_it(db: Database) -> None:
    async def count(conn: Any) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM scratch"))).scalar_one())

    for n in range(20):
        await db.run_write(insert(n))
        assert await db.run_read(count) == n + 1
        assert await db.run_read(count, long=True) == n + 1


async def test_prepared_statements_answer_as_sqlalchemy_does(db: Database) -> None:
    repository = Repository(db)
    project = await repository.ensure_project("prv_test_prepared", "pub_test_prepared", "P", "s" * 64, NOW)

    async def setup(store: ProjectStore) -> None:
        await store.insert_user(User("u1", "cus_1", "Ann", "ann@example.com", {"a": [1, "x"]}), NOW)

    await repository.write(project, setup)

    async def both(conn: Any) -> list[tuple[Any, Any]]:
        assert isinstance(conn, InlineConnection)
        pairs = []
        cases: list[tuple[Prepared, dict[str, Any]]] = [
            (statements.PROJECT_BY_PRIVATE_KEY, {"key": "prv_test_prepared"}),
            (statements.USER, {"project_id": project.id, "user_id": "u1"}),
            (statements.CATALOG_VERSION, {"project_id": project.id}),
            (statements.USER_HOLDINGS, {"project_id": project.id, "user_id": "u1"}),
        ]
        for prepared, values in cases:
            fast = (await run_prepared(conn, prepared, values)).all()
            usual = (await conn.execute(prepared.statement, values)).all()
            pairs.append(([tuple(r) for r in fast], [tuple(r) for r in usual]))
        return pairs

    for fast, usual in await db.run_read(both):
        assert fast == usual
        assert fast, "each statement found its row"
    found = await repository.project_by_private_key("prv_test_prepared")
    assert found == project
    user = await repository.read(project, lambda store: store.get_user("u1"))
    assert user is not None
    assert user.user.metadata == {"a": [1, "x"]}


async def test_prepared_statements_refuse_nul_like_every_other(db: Database) -> None:
    repository = Repository(db)
    project = await repository.ensure_project("prv_test_nul", "pub_test_nul", "P", "s" * 64, NOW)
    with pytest.raises(InvalidInput, match=re.escape(NUL_MESSAGE)):
        await repository.read(project, lambda store: store.get_user("bad\x00id"))


async def test_a_keys_project_is_remembered_until_anything_commits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Repository(db)
    project = await repository.ensure_project("prv_test_cached", "pub_test_cached", "P", "s" * 64, NOW)
    assert await repository.project_by_private_key("prv_test_cached") == project

    reads = 0
    run_read = db.run_read

    async def counting(work: Any, *, long: bool = False) -> Any:
        nonlocal reads
        reads += 1
        return await run_read(work, long=long)

    monkeypatch.setattr(db, "run_read", counting)
    assert await repository.project_by_private_key("prv_test_cached") == project
    assert reads == 0, "nothing committed since: the project comes from memory"

    async def rename(conn: Any) -> None:
        await conn.execute(text("UPDATE projects SET name = 'Renamed' WHERE id = :id"), {"id": project.id})

    await db.run_write(rename)
    found = await repository.project_by_private_key("prv_test_cached")
    assert reads == 1
    assert found is not None
    assert found.name == "Renamed"


def test_bulk_rows_bind_as_a_dict_per_row_would() -> None:
    prepared = statements.EVENT_INSERT
    row = (1, 2, 3, 4, "ADD", -5, 6, NOW)
    bind = prepared.binder(EVENT_COLUMNS, {"project_id": 9})
    assert bind(row) == prepared.parameters(dict(zip(EVENT_COLUMNS, row, strict=True)) | {"project_id": 9})
    assert [prepared.names[i] for i in prepared.text_positions] == ["action"]
    with pytest.raises(InvalidInput, match=re.escape(NUL_MESSAGE)):
        prepared.refuse_nul(bind((1, 2, 3, 4, "A\x00", 1, 1, NOW)))
    prepared.refuse_nul(bind(row))  # no NUL: nothing raised


def test_a_one_parameter_statement_binds_a_one_element_tuple() -> None:
    prepared = statements.CATALOG_VERSION
    assert prepared.names == ("project_id",)
    assert prepared.binder((), {"project_id": 7})(()) == (7,)
    assert prepared.binder(("project_id",), {})((8,)) == (8,)
