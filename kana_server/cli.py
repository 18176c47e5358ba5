"""The `kana-server` command line (also `python -m kana_server`)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from kana_server import __version__
from kana_server.domain.errors import KanaError
from kana_server.settings import DEFAULT_DATABASE_URL, DEFAULT_PRIVATE_KEY, Settings

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
console = Console(stderr=True, soft_wrap=True)  # messages are never cut: editors and logs read them
T = TypeVar("T")


def default_of(name: str) -> object:
    """A setting's default, for --help (Settings is the one place defaults live)."""
    return Settings.model_fields[name].default


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL, e.g. sqlite+aiosqlite:///./kana.db (the default), "
        "postgresql+asyncpg://user@host/db.",
        envvar="KANA_DATABASE_URL",
        show_default=False,
    ),
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="The project's private key (default: the default project's, --api-key / KANA_API_KEY).",
        show_default=False,
    ),
]


class DocumentFormat(StrEnum):
    """Formats an export can be written in."""

    yaml = "yaml"
    json = "json"


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's async work; a Kana error (bad file, refused import) or a database that cannot be
    opened ends it with exit code 1."""
    from sqlalchemy.exc import ArgumentError

    try:
        return asyncio.run(work)
    except ArgumentError as error:
        refuse_database_url(str(error), code=1)
    except KanaError as error:
        console.print(Text(error.message, style="red"), highlight=False)
        raise typer.Exit(1) from None
    except OSError as error:
        console.print(Text(str(error), style="red"), highlight=False)
        raise typer.Exit(1) from None


def settings_from(**flags: Any) -> Settings:
    """Settings from KANA_* environment variables, overridden by the flags that were given; a value that
    is not acceptable stops the command with one line per problem (exit code 2), not a traceback."""
    from pydantic import ValidationError

    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "settings"
            source = f"KANA_{name.upper()}"
            if name in flags:
                source = f"--{name.replace('_', '-')} / {source}"
            console.print(f"[red]Invalid {source}:[/red] {problem['msg']} (got {problem.get('input')!r})")
        raise typer.Exit(2) from None


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
    host: Annotated[
        str | None,
        typer.Option(help=f"Interface to listen on. (default: {default_of('host')})", envvar="KANA_HOST"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help=f"Port (0: any free port). (default: {default_of('port')})", envvar="KANA_PORT"),
    ] = None,
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
        str | None,
        typer.Option(
            help=f"The default project's private key. (default: {DEFAULT_PRIVATE_KEY})", envvar="KANA_API_KEY"
        ),
    ] = None,
    strict_keys: Annotated[
        bool | None,
        typer.Option(
            "--strict-keys/--no-strict-keys",
            help="Refuse keys other than --api-key (otherwise any well-formed key gets its own project).",
            envvar="KANA_STRICT_KEYS",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help=f"Worker processes. (default: {default_of('workers')})", envvar="KANA_WORKERS"),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help=f"critical, error, warning, info or debug. (default: {default_of('log_level')})",
            envvar="KANA_LOG_LEVEL",
        ),
    ] = None,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log", help="Log every HTTP request.", envvar="KANA_ACCESS_LOG"
        ),
    ] = None,
    event_loop: Annotated[
        str | None,
        typer.Option(
            help=f"asyncio or uvloop (D107). (default: {default_of('event_loop')})", envvar="KANA_EVENT_LOOP"
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
    export_on_exit: Annotated[
        Path | None,
        typer.Option(
            help="When the server stops (Ctrl-C, SIGTERM), write the default project's export to this file "
            "(atomically; JSON for a .json name, otherwise YAML).",
            envvar="KANA_EXPORT_ON_EXIT",
        ),
    ] = None,
    ledger_size: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="GraphQL requests kept per project for /_kana/requests and /_kana/ui (0: off).",
            envvar="KANA_LEDGER_SIZE",
        ),
    ] = None,
) -> None:
    """Run the server (Admin API on /graphql, Client API on /client/graphql, Kana CLI routes on /cli,
    control plane on /_kana)."""
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
        event_loop=event_loop,
        cors_origins=cors_origin or None,
        export_on_exit=export_on_exit,
        ledger_size=ledger_size,
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
        "loop": settings.event_loop,
        "timeout_graceful_shutdown": 5,
        "timeout_keep_alive": 75,  # D98: longer than clients keep idle connections
    }
    if settings.workers > 1:
        export_to_environment(settings)
        uvicorn.run("kana_server.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        from kana_server.app import create_app

        uvicorn.run(create_app(settings), **common)


def shown_url(url: str) -> str:
    """A database URL fit for printing (password hidden); one that is not a URL at all stops the command
    with a clear line."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        refuse_database_url(repr(url), code=2)


def refuse_database_url(what: str, *, code: int) -> NoReturn:
    """Stop the command: the database URL it was given is not one."""
    console.print(
        Text(f"Not a database URL: {what} (e.g. {DEFAULT_DATABASE_URL}, postgresql+asyncpg://user@host/db)"),
        style="red",
        highlight=False,
    )
    raise typer.Exit(code) from None


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
def seed(
    file: Annotated[Path, typer.Argument(help="A kana.yaml seed file (or an export), YAML or JSON.")],
    database: DatabaseOption = None,
    project: ProjectOption = None,
) -> None:
    """Apply a seed file to a project in the database, without a server (once per content, as --seed)."""
    from kana_server import project_files

    with console.status(f"Seeding from {file}"):
        report = run(project_files.seed(file, database=database, key=project))
    if not report.applied:
        console.print(f"[green]✔[/green] {file} was already applied to this project: nothing changed")
        return
    for message in report.messages:
        console.print(Text("  " + message), highlight=False)
    console.print(f"[green]✔[/green] Seeded from {file}")


@contextmanager
def usage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar for the usage events of a long import (shown once there are events to write)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def advance(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            bar.start()
            tasks[phase] = bar.add_task(f"Writing {phase} events", total=total)
        bar.update(tasks[phase], completed=done)

    try:
        yield advance
    finally:
        bar.stop()


@app.command(name="import")
def import_command(
    file: Annotated[Path, typer.Argument(help="An export (kana-server export), YAML or JSON.")],
    database: DatabaseOption = None,
    project: ProjectOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Empty the project first (otherwise it must be empty).")
    ] = False,
) -> None:
    """Load an export into a project, all or nothing: the project then holds exactly that state."""
    from kana_server import project_files

    with usage_progress() as progress:
        report = run(
            project_files.import_file(
                file, database=database, key=project, replace=replace, progress=progress
            )
        )
    counts = ", ".join(f"{count} {name}" for name, count in report.as_dict().items())
    console.print(Text.from_markup("[green]✔[/green] ") + Text(f"Imported {file}: {counts}"), highlight=False)


@app.command()
def export(
    database: DatabaseOption = None,
    project: ProjectOption = None,
    fmt: Annotated[
        DocumentFormat, typer.Option("--format", "-f", help="yaml or json.")
    ] = DocumentFormat.yaml,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
    ] = None,
) -> None:
    """Print a project's whole state: catalog, users, subscriptions, every usage event (import reads it)."""
    from kana_server import project_files

    data = run(project_files.export(database=database, key=project, fmt=fmt.value, output=output))
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        console.print(f"[green]✔[/green] Exported to {output}")


LEVEL_STYLE = {
    "error": "[red]✖[/red]",
    "warning": "[yellow]⚠[/yellow]",
    "info": "ℹ",
    "ok": "[green]✔[/green]",
}


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="A kana.yaml (Kana CLI config or seed) or an export.")],
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Compare with this database's project, as `kana validate` compares with the server "
            "(otherwise the file is tried on an empty in-memory project).",
            show_default=False,
        ),
    ] = None,
    project: ProjectOption = None,
    as_import: Annotated[
        bool, typer.Option("--import", help="Try the file as `kana-server import` loads it (exports).")
    ] = False,
) -> None:
    """Check a kana.yaml: the Kana CLI's own checks, then kana-server's, each with its line number."""
    from kana_server import project_files

    result = run(project_files.validate(file, database=database, key=project, as_import=as_import))
    for level, line in result.lines:
        console.print(Text.from_markup(LEVEL_STYLE[level]) + " " + Text(line), highlight=False)
    if result.errors:
        console.print(f"[red]{result.errors} error(s)[/red]")
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print kana-server's version."""
    typer.echo(__version__)


def main() -> None:
    """Console script entry point."""
    logging.captureWarnings(True)
    app()
