"""Alembic's environment for kana-server's migrations.

kana-server hands over a connection already inside a transaction (`kana-server serve`, `kana-server
migrate`, the tests). The alembic command, used to write a new migration (docs/architecture.md), gives
a URL instead: `-x url=...`, else KANA_DATABASE_URL, else the default SQLite file.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, make_url, pool
from sqlalchemy.ext.asyncio import create_async_engine

from kana_server.settings import DEFAULT_DATABASE_URL
from kana_server.store.schema import context_options


def database_url() -> str:
    """The URL the alembic command was given."""
    given: str | None = context.config.attributes.get("url")
    return (
        given
        or context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("KANA_DATABASE_URL")
        or DEFAULT_DATABASE_URL
    )


def run(connection: Connection) -> None:
    """Run (or, for `revision --autogenerate`, compare) on one connection."""
    context.configure(connection=connection, **context_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


async def run_on(url: str) -> None:
    """Open the URL, run, commit."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    url = make_url(database_url())
    context.configure(url=url, literal_binds=True, **context_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()
elif (handed_over := context.config.attributes.get("connection")) is not None:
    run(handed_over)
else:
    asyncio.run(run_on(database_url()))
