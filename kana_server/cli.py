"""The `kana-server` command line (also `python -m kana_server`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console

from kana_server import __version__
from kana_server.settings import Settings

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
    ledger_size: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="GraphQL requests kept per project for /_kana/requests and /_kana/ui (0: off).",
            envvar="KANA_LEDGER_SIZE",
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
        ledger_size=ledger_size,
    )
    seed_path = settings.seed_path()
    if seed_path is not None and not seed_path.exists():
        console.print(f"[red]Seed file not found:[/red] {seed_path}")
        raise typer.Exit(2)
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
