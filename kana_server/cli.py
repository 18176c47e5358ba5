"""The `kana-server` command line (also `python -m kana_server`)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from rich.console import Console

from kana_server import __version__
from kana_server.settings import Settings

if TYPE_CHECKING:
    from kana_server.store.schema import SchemaState

    SchemaChange = tuple[SchemaState, SchemaState]

app = typer.Typer(
    name="kana-server",
    help="A local stand-in for Kana (usekana.com): Admin and Client GraphQL APIs, Kana CLI routes, "
    "a virtual clock and a control plane. Every option can also be set with a KANA_* environment variable.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console(stderr=True)


def settings_from(**flags: Any) -> Settings:
    """Settings from KANA_* environment variables, overridden by the flags that were given."""
    return Settings(**{name: value for name, value in flags.items() if value is not None})


def export_to_environment(settings: Settings) -> None:
    """Hand resolved settings to worker processes (they build their app from KANA_* variables)."""
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list | dict):
            import json

            value = json.dumps(value)
        os.environ[f"KANA_{name.upper()}"] = str(value)


def log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging configuration plus kana-server's logger at the chosen level."""
    config: dict[str, Any] = {**uvicorn.config.LOGGING_CONFIG}
    config["loggers"] = {
        **config["loggers"],
        "kana_server": {"handlers": ["default"], "level": settings.log_level.upper(), "propagate": False},
    }
    return config


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.", envvar="KANA_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Port (0: any free port).", envvar="KANA_PORT")] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Database URL, e.g. sqlite+aiosqlite:///./kana.db, sqlite+aiosqlite:///:memory:, "
            "postgresql+asyncpg://user@host/db.",
            envvar="KANA_DATABASE_URL",
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            help="kana.yaml applied to the default project at start ('demo': built-in demo).",
            envvar="KANA_SEED",
        ),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="The default project's private key.", envvar="KANA_API_KEY")
    ] = None,
    strict_keys: Annotated[
        bool | None,
        typer.Option(
            "--strict-keys/--no-strict-keys",
            help="Refuse keys other than --api-key (otherwise any well-formed key gets its own project).",
            envvar="KANA_STRICT_KEYS",
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.", envvar="KANA_WORKERS")] = None,
    log_level: Annotated[
        str | None, typer.Option(help="critical, error, warning, info or debug.", envvar="KANA_LOG_LEVEL")
    ] = None,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log", help="Log every HTTP request.", envvar="KANA_ACCESS_LOG"
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="An origin allowed to call /client/graphql from a browser (repeat it; default: any). "
            "Environment: KANA_CORS_ORIGINS, comma-separated.",
        ),
    ] = None,
) -> None:
    """Run the server (Admin API on /graphql, Client API on /client/graphql, control plane on /_kana)."""
    settings = settings_from(
        host=host,
        port=port,
        database_url=database,
        seed=seed,
        api_key=api_key,
        strict_keys=strict_keys,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        cors_origins=cors_origin or None,
    )
    seed_path = settings.seed_path()
    if seed_path is not None and not seed_path.exists():
        console.print(f"[red]Seed file not found:[/red] {seed_path}")
        raise typer.Exit(2)
    # Migrate before any worker starts, so that a schema this version cannot use stops here with
    # one clear message (each worker's start checks again and finds nothing to do).
    before, after = run_migrations(settings)
    if before != after:
        console.print(f"database schema migrated from {before.describe()} to {after.describe()}")
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": log_config(settings),
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": 5,
    }
    if settings.workers > 1:
        export_to_environment(settings)
        uvicorn.run("kana_server.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        from kana_server.app import create_app

        uvicorn.run(create_app(settings), **common)


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (as for serve).",
        envvar="KANA_DATABASE_URL",
        show_default=False,
    ),
]


def shown_url(url: str) -> str:
    """A database URL fit for printing (password hidden)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_migrations(settings: Settings, *, check_only: bool = False) -> SchemaChange:
    """Migrate (or only inspect) the settings' database; exits with a clear message if it cannot."""
    from sqlalchemy.exc import SQLAlchemyError

    from kana_server.runtime import open_database
    from kana_server.store.schema import SchemaError

    async def work() -> SchemaChange:
        db = open_database(settings)
        try:
            if check_only:
                found = await db.schema_state()
                return found, found
            return await db.migrate()
        finally:
            await db.close()

    where = shown_url(settings.database_url)
    try:
        return asyncio.run(work())
    except SchemaError as exc:
        console.print(f"[red]Cannot use the database[/red] {where}: {exc}")
        raise typer.Exit(1) from None
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]Cannot open the database[/red] {where}: {exc}")
        raise typer.Exit(1) from None


@app.command()
def migrate(
    database: DatabaseOption = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only report where the schema is; exit 1 if migrations are pending."),
    ] = False,
    sql: Annotated[
        bool,
        typer.Option(
            "--sql", help="Print the SQL that creates the schema on an empty database, run nothing."
        ),
    ] = False,
) -> None:
    """Bring the database schema up to date (serve also does this when it starts)."""
    settings = settings_from(database_url=database)
    if sql:
        from kana_server.store.schema import upgrade_sql

        typer.echo(upgrade_sql(settings.database_url), nl=False)
        return
    before, after = run_migrations(settings, check_only=check)
    where = shown_url(settings.database_url)
    if check:
        typer.echo(f"{where}: {after.describe()}")
        if not after.up_to_date:
            raise typer.Exit(1)
    elif before == after:
        typer.echo(f"{where}: {after.describe()}, nothing to do")
    else:
        typer.echo(f"{where}: migrated from {before.describe()} to {after.describe()}")


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
    client: Annotated[
        bool, typer.Option("--client", help="The Client API's schema (as in schema.client.graphql).")
    ] = False,
) -> None:
    """Print the Admin API schema (SDL), as in schema.graphql; --client: the Client API's."""
    from kana_server.api.schema import admin_schema, client_schema

    build = client_schema if client else admin_schema
    text = build(Settings()).as_str() + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command()
def version() -> None:
    """Print kana-server's version."""
    typer.echo(__version__)


def main() -> None:
    """Console script entry point."""
    logging.captureWarnings(True)
    app()
