"""Migrations on every backend: they match the models, run once when processes start together, refuse
schemas they cannot use, and a failed one changes nothing."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, MetaData, String, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from kana_server.app import create_app
from kana_server.settings import Settings
from kana_server.store import schema
from kana_server.store.database import Database, DatabaseOptions
from tests.kana import Api, random_key

T = TypeVar("T")


@pytest.fixture
async def db(make_database: Callable[[], str]) -> AsyncIterator[Database]:
    """A Database on a new, empty database of the session's backend."""
    database = Database(DatabaseOptions(url=make_database()))
    yield database
    await database.close()


async def on_connection(db: Database, work: Callable[[Connection], T]) -> T:
    """Run `work` in one committed transaction of the writer."""

    async def transaction(conn: Any) -> T:
        return await conn.run_sync(work)  # type: ignore[no-any-return]

    return await db.run_write(transaction)


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrations_match_the_models(db: Database) -> None:
    await db.migrate()
    assert await on_connection(db, schema.differences) == []


async def test_the_drift_check_notices_a_column_missing_from_the_migrations(db: Database) -> None:
    await db.migrate()
    changed = MetaData(naming_convention=schema.METADATA.naming_convention)
    for table in schema.METADATA.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("drift_probe", String(40)))
    diff = await on_connection(db, lambda conn: schema.differences(conn, changed))
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "users", "drift_probe")]


async def test_a_new_database_is_migrated_to_the_newest_revision(db: Database) -> None:
    before, after = await db.migrate()
    assert before.current == ()
    assert after.current == (schema.head_revision(),)
    assert after.up_to_date
    tables = await on_connection(db, table_names)
    assert tables == {"alembic_version", *schema.METADATA.tables}


async def test_migrating_an_up_to_date_database_changes_nothing(db: Database) -> None:
    await db.migrate()
    before, after = await db.migrate()
    assert before == after
    assert after.up_to_date
    assert (await db.schema_state()).up_to_date


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(db: Database) -> None:
    await db.migrate()
    await on_connection(db, lambda conn: schema.downgrade(conn, "base"))
    assert await on_connection(db, table_names) == {"alembic_version"}
    assert (await db.schema_state()).current == ()
    before, after = await db.migrate()
    assert before.current == ()
    assert after.up_to_date
    assert await on_connection(db, schema.differences) == []


RECREATE_USERS = '''"""Test migration: rebuild the users table the way SQLite's batch mode alters it."""

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="always"):
        pass


def downgrade() -> None:
    pass
'''


async def test_a_sqlite_migration_that_rebuilds_a_table_keeps_the_rows_referring_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    app = create_app(Settings(database_url=url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as http,
    ):
        api = Api(http, random_key())
        await api.load("catalog.yaml")
        await api.create_user("u1")
        await api.subscribe("u1", "pro")
        await api.record("u1", "seats", 5)
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    (migrations / "versions" / "9000_rebuild_users.py").write_text(
        RECREATE_USERS.format(revision="9000", down=head), encoding="utf-8"
    )
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", migrations)
    db = Database(DatabaseOptions(url=url))
    try:
        before, after = await db.migrate()
        assert (before.current, after.current) == ((head,), ("9000",))

        async def work(conn: Any) -> dict[str, int]:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
            return {
                table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                for table in ("users", "subscriptions", "usage_counters", "usage_events")
            }

        counts = await db.run_write(work)
    finally:
        await db.close()
    assert counts == {"users": 1, "subscriptions": 1, "usage_counters": 1, "usage_events": 1}


async def test_processes_starting_together_migrate_once(make_database: Callable[[], str]) -> None:
    url = make_database()
    databases = [Database(DatabaseOptions(url=url)) for _ in range(3)]
    try:
        results = await asyncio.gather(*(d.migrate() for d in databases))
    finally:
        for database in databases:
            await database.close()
    assert [before.current for before, _ in results].count(()) == 1
    assert all(after.up_to_date for _, after in results)


async def test_a_schema_from_a_newer_kana_server_is_refused(db: Database) -> None:
    await db.migrate()
    await on_connection(
        db, lambda conn: conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    )
    with pytest.raises(schema.SchemaTooNew, match=r"revision 9999, which this kana-server does not know"):
        await db.migrate()
    with pytest.raises(schema.SchemaTooNew):
        await db.schema_state()
    assert await on_connection(
        db, lambda conn: conn.execute(text("SELECT version_num FROM alembic_version")).all()
    ) == [("9999",)]


async def test_tables_without_a_migration_history_are_refused(db: Database) -> None:
    await on_connection(db, schema.METADATA.create_all)
    with pytest.raises(schema.UnversionedSchema, match="no migration history"):
        await db.migrate()
    assert "alembic_version" not in await on_connection(db, table_names)


async def test_a_failed_migration_changes_nothing(db: Database) -> None:
    await on_connection(db, lambda conn: conn.execute(text("CREATE TABLE usage_events (x INTEGER)")))
    with pytest.raises(SQLAlchemyError):
        await db.migrate()
    assert await on_connection(db, table_names) == {"usage_events"}


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///{tmp}/kana.db", "sqlite+aiosqlite:///:memory:"])
async def test_sqlite_foreign_keys_are_on_again_after_migrating(url: str, tmp_path: Path) -> None:
    database = Database(DatabaseOptions(url=url.format(tmp=tmp_path)))
    try:
        await database.migrate()

        async def work(conn: Any) -> int:
            return int((await conn.execute(text("PRAGMA foreign_keys"))).scalar_one())

        assert await database.run_write(work) == 1
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("url", "dialect_sql"),
    [
        ("sqlite+aiosqlite:///kana.db", "pk INTEGER NOT NULL"),
        ("postgresql+asyncpg://kana@db/kana", "pk BIGSERIAL NOT NULL"),
    ],
)
def test_the_sql_of_the_migrations_can_be_printed_for_each_dialect(url: str, dialect_sql: str) -> None:
    sql = schema.upgrade_sql(url)
    assert "CREATE TABLE usage_events" in sql
    assert dialect_sql in sql
    assert "Running upgrade  -> 0001" in sql
    assert f"-> {schema.head_revision()}" in sql


def test_migrations_form_one_numbered_chain_and_each_can_be_reverted() -> None:
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [script.revision for script in chain] == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert [script.down_revision for script in chain] == [None, *(s.revision for s in chain[:-1])]
    for script in chain:
        assert Path(script.path).name.startswith(f"{script.revision}_")
        assert callable(getattr(script.module, "downgrade", None))
