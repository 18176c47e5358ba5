"""The command line's work on project files without a server: seed, import, export, validate.

Each function opens the database itself (a `Runtime` without the HTTP part), acts on one project
(the default one unless a private key is given) through the same services the server uses, and
closes the database. Nothing here prints: the command line (`cli.py`) shows the results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kana_server.config_files import (
    FileError,
    LineFinder,
    Located,
    load_config_file_text,
    load_data,
    located_error,
    render_document,
    write_atomically,
)
from kana_server.domain.cli_checks import kana_cli_checks
from kana_server.domain.config import ConfigError, ConfigProblem, parse_config
from kana_server.domain.errors import KanaError
from kana_server.domain.publish import ERROR, WARNING, PlanMessage
from kana_server.runtime import Runtime
from kana_server.services.seeding import SeedFile, SeedReport, seed_digest
from kana_server.services.state import ImportReport, Progress
from kana_server.settings import Settings

MEMORY_DATABASE = "sqlite+aiosqlite:///:memory:"


class ProjectMissing(KanaError):
    """`export` of a key that has no project in the database."""

    code = "NOT_FOUND"
    name = "NotFoundError"


def offline_settings(database: str | None) -> Settings:
    """Settings for working on a database without serving: no startup seed, no export on exit."""
    flags: dict[str, Any] = {"seed": None, "export_on_exit": None}
    if database is not None:
        flags["database_url"] = database
    return Settings(**flags)


@asynccontextmanager
async def opened(database: str | None) -> AsyncIterator[Runtime]:
    """The database, schema created, default project present; closed afterwards."""
    runtime = Runtime.create(offline_settings(database))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def seed(path: Path, *, database: str | None, key: str | None) -> SeedReport:
    """Apply a seed file to a project, once per content (D19); problems come with their lines."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    config = await asyncio.to_thread(load_config_file_text, text, str(path))
    async with opened(database) as runtime:
        services = runtime.services(await runtime.project(key))
        try:
            return await services.seeding.apply_seed(SeedFile(config, seed_digest(text), str(path)))
        except ConfigError as exc:
            raise located_error(text, exc) from exc


async def import_file(
    path: Path, *, database: str | None, key: str | None, replace: bool, progress: Progress
) -> ImportReport:
    """Load an export (YAML or JSON) into a project: empty, or emptied first with `replace` (D53)."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    config = await asyncio.to_thread(load_config_file_text, text, str(path))
    async with opened(database) as runtime:
        services = runtime.services(await runtime.project(key))
        try:
            return await services.project_state.import_state(
                config, replace=replace, source=str(path), progress=progress
            )
        except ConfigError as exc:
            raise located_error(text, exc) from exc


async def export(*, database: str | None, key: str | None, fmt: str, output: Path | None) -> bytes:
    """A project's export document as YAML or JSON; written atomically to `output` when given."""
    async with opened(database) as runtime:
        wanted = key or runtime.settings.private_key
        project = await runtime.repository.project_by_private_key(wanted)
        if project is None:
            raise ProjectMissing(f"No project has the key {wanted} in {runtime.settings.database_url}")
        document = await runtime.services(project).project_state.export_document()
    data = await asyncio.to_thread(render_document, document, fmt)
    if output is not None:
        await asyncio.to_thread(write_atomically, output, data)
    return data


@dataclass
class Validation:
    """What `kana-server validate` found: lines by level ("error", "warning", "info", "ok")."""

    source: str
    finder: LineFinder
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """How many errors."""
        return sum(1 for level, _ in self.lines if level == "error")

    def add(self, level: str, line: int | None, text: str) -> None:
        """Record one line, prefixed with its place in the file when known."""
        self.lines.append((level, Located(line, text).render(self.source)))

    def add_problem(self, problem: ConfigProblem) -> None:
        """Record one problem of the file as an error, with its line."""
        # A message of the server's diff already says which entry it is about; the line shows where.
        message = problem.message if ERROR in problem.message else f"{ERROR} {problem}"
        self.add("error", self.finder.line(problem.path) if problem.path else None, message)

    def add_note(self, note: PlanMessage) -> None:
        """Record one message of the server's diff, with its line."""
        level = "error" if ERROR in note.text else "warning" if WARNING in note.text else "info"
        self.add(level, self.finder.line(note.path) if note.path else None, note.text)


async def validate(path: Path, *, database: str | None, key: str | None, as_import: bool) -> Validation:
    """The Kana CLI's own checks, then ours: the file's shape, then a dry run (D59).

    Without a database, the file is applied to an empty in-memory project (as a seed, or as an import
    with `as_import`), which reports every reference and rule it breaks. With a database, it is
    compared with that project's catalog, as `kana validate` compares it with the server's.
    """
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    result = Validation(str(path), LineFinder(text))
    try:
        data = load_data(text, str(path))
    except FileError as exc:
        for located in exc.located:
            result.add("error", located.line, located.message)
        return result
    failed = kana_cli_checks(data)
    for check in failed:
        result.add(
            "warning",
            result.finder.line(check.path),
            f"{WARNING} The Kana CLI would stop here: {check.message}",
        )
    if not failed:
        result.add("ok", None, "The Kana CLI's own checks pass")
    try:
        config = parse_config(data, str(path))
    except ConfigError as exc:
        for problem in exc.problems:
            result.add_problem(problem)
        return result
    if database is not None:
        async with opened(database) as runtime:
            diff = await runtime.services(await runtime.project(key)).catalog.validate_config(config)
        for note in diff:
            result.add_note(note)
        if not diff:
            result.add("ok", None, "The project's catalog already matches the file")
        return result
    async with opened(MEMORY_DATABASE) as runtime:
        services = runtime.services(await runtime.project(None))
        try:
            if as_import:
                await services.project_state.import_state(config, source=str(path))
                notes: list[PlanMessage] = []
            else:
                report = await services.seeding.apply_seed(SeedFile(config, seed_digest(text), str(path)))
                notes = report.notes
        except ConfigError as exc:
            for problem in exc.problems:
                result.add_problem(problem)
            return result
        except KanaError as exc:
            result.add("error", None, f"{ERROR} {exc.message}")
            return result
    for note in notes:
        result.add_note(note)
    result.add("ok", None, f"The file {'imports' if as_import else 'seeds'} an empty project without errors")
    return result
