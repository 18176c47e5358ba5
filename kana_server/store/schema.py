"""The database schema's version: the Alembic migrations in kana_server/store/migrations (D60).

Everything here works on a synchronous SQLAlchemy `Connection` (an async connection's `run_sync`), so
the same code serves `kana-server serve`, `kana-server migrate`, the alembic command and the tests.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, inspect
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from kana_server.store import models

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
METADATA: MetaData = SQLModel.metadata
ADVISORY_LOCK_KEY = 0x6B616E61
"""PostgreSQL advisory lock held while migrating ("kana"): processes starting together migrate once."""


class SchemaError(Exception):
    """The database's schema cannot be used by this kana-server; the message says what to do."""


class SchemaTooNew(SchemaError):
    """The database was migrated by a newer kana-server."""


class UnversionedSchema(SchemaError):
    """kana-server's tables exist without a migration history (made before migrations existed)."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema is, against the newest migration this kana-server knows."""

    current: tuple[str, ...]
    head: str

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at the newest migration."""
        return self.current == (self.head,)

    def describe(self) -> str:
        """`0001 (up to date)`, `none (empty database)`, `0001 (head: 0002)`."""
        if not self.current:
            return f"none (empty database; head: {self.head})"
        at = ", ".join(self.current)
        return f"{at} (up to date)" if self.up_to_date else f"{at} (head: {self.head})"


def alembic_config(
    connection: Connection | None = None, *, url: str | None = None, output: io.StringIO | None = None
) -> Config:
    """Alembic's configuration for the shipped migrations (no alembic.ini needed)."""
    config = Config(output_buffer=output)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


def head_revision() -> str:
    """The newest migration this kana-server knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the initial migration always exists
        raise SchemaError("kana-server ships no migrations")
    return head


def next_revision() -> str:
    """The id of the next migration to write: the newest one's number plus one (`0002`)."""
    return f"{int(head_revision()) + 1:04d}"


def state(connection: Connection) -> SchemaState:
    """The schema's revision(s) as recorded in the database."""
    current = MigrationContext.configure(connection).get_current_heads()
    return SchemaState(current=tuple(current), head=head_revision())


def check_usable(connection: Connection) -> SchemaState:
    """The schema's state; SchemaError when this kana-server cannot migrate or use it."""
    found = state(connection)
    scripts = ScriptDirectory.from_config(alembic_config())
    for revision in found.current:
        try:
            scripts.get_revision(revision)
        except CommandError:
            raise SchemaTooNew(
                f"The database schema is at revision {revision}, which this kana-server does not know "
                f"(its newest is {found.head}): a newer kana-server has migrated it. Run that version "
                "(or newer), or restore a backup taken before the upgrade."
            ) from None
    if not found.current and inspect(connection).has_table(models.ProjectRow.__tablename__):
        # D62: such a database is refused, not adopted: its constraints have no names, which later
        # migrations (SQLite batch mode above all) rely on.
        raise UnversionedSchema(
            "The database has kana-server tables but no migration history: it was created by a "
            "kana-server without migrations. Move it aside (for SQLite: rename or delete the file) "
            "and start again."
        )
    return found


def upgrade(connection: Connection, target: str = "head") -> tuple[SchemaState, SchemaState]:
    """Migrate inside the caller's transaction; returns the state before and after."""
    before = check_usable(connection)
    if target == "head" and before.up_to_date:
        return before, before
    command.upgrade(alembic_config(connection), target)
    return before, state(connection)


def downgrade(connection: Connection, target: str) -> None:
    """Revert to an older revision ("base": no tables at all) inside the caller's transaction."""
    command.downgrade(alembic_config(connection), target)


def stamp(connection: Connection, revision: str) -> None:
    """Record a revision without running anything (tests, repairs)."""
    command.stamp(alembic_config(connection), revision)


def upgrade_sql(url: str, target: str = "head") -> str:
    """The SQL that migrates an empty database of this URL's dialect to `target` (for DBAs)."""
    output = io.StringIO()
    command.upgrade(alembic_config(url=url, output=output), target, sql=True)
    return output.getvalue()


def context_options(dialect_name: str) -> dict[str, Any]:
    """How migrations are run and compared: batch mode on SQLite (ALTER TABLE by copying)."""
    return {
        "target_metadata": METADATA,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "render_item": render_item,
    }


def differences(connection: Connection, metadata: MetaData = METADATA) -> list[Any]:
    """What autogenerate would change to make the database match the models ([] when in step)."""
    context = MigrationContext.configure(connection, opts=context_options(connection.dialect.name))
    return list(compare_metadata(context, metadata))


def render_item(kind: str, item: Any, context: AutogenContext) -> str | bool:
    """Write kana-server's column types as plain SQLAlchemy types, so a migration never imports the
    models (they change; a migration must not)."""
    if kind != "type" or not isinstance(item, TypeEngine):
        return False
    if isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if isinstance(item, models.UTCDateTime):
        return "sa.DateTime()"
    return False
