"""The running server's state: database, repository, authenticator, clock. Built by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kana_server.auth import Authenticator, Principal
from kana_server.clock import Clock, SystemClock
from kana_server.config_files import format_of, load_config_file_text, render_document, write_atomically
from kana_server.domain.checkout import SESSION_ID
from kana_server.domain.config import KanaConfig
from kana_server.domain.errors import CheckoutSessionNotFound
from kana_server.domain.model import Project
from kana_server.ledger import Ledgers
from kana_server.services import Services
from kana_server.services.base import TraceSink, _no_trace
from kana_server.services.seeding import SeedFile, SeedReport, seed_digest
from kana_server.settings import Settings
from kana_server.store.database import Database, DatabaseOptions
from kana_server.store.repository import Repository

log = logging.getLogger("kana_server")


def load_config_text(text: str, source: str) -> KanaConfig:
    """Parse a kana.yaml text; errors name the source, the line and what is wrong."""
    return load_config_file_text(text, source)


async def read_seed_file(path: Path) -> SeedFile:
    """Read and parse a seed file (kana.yaml, or an export in YAML or JSON)."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    config = await asyncio.to_thread(load_config_text, text, str(path))
    return SeedFile(config, seed_digest(text), str(path))


def open_database(settings: Settings) -> Database:
    """The database the settings name (engines only: no connection is made yet)."""
    return Database(
        DatabaseOptions(
            url=settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.db_pool_size,
        )
    )


@dataclass
class Runtime:
    """Everything a request handler needs that outlives the request."""

    settings: Settings
    db: Database
    repository: Repository
    authenticator: Authenticator
    clock: Clock = field(default_factory=SystemClock)
    ledgers: Ledgers = field(default_factory=lambda: Ledgers(0, 1))
    default_project: Project | None = None
    startup_seed: SeedFile | None = None  # re-applied by `POST /_kana/reset {"reseed": true}`
    ready: bool = False

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        """Open the database engines (no connection is made until start)."""
        db = open_database(settings)
        repository = Repository(db)
        return cls(
            settings,
            db,
            repository,
            Authenticator(settings, repository),
            clock or SystemClock(),
            Ledgers(settings.ledger_size, settings.ledger_projects),
        )

    async def start(self) -> None:
        """Migrate the schema, create the default project, and apply the startup seed."""
        before, after = await self.db.migrate()
        if before != after:
            log.info("database schema migrated: %s -> %s", before.describe(), after.describe())
        self.default_project = await self.authenticator.ensure_default_project(self.clock.now())
        path = self.settings.seed_path()
        if path is not None:
            self.startup_seed = await read_seed_file(path)
            report = await self.services(self.default_project).seeding.apply_seed(self.startup_seed)
            log.info("seed %s: %s", path, "applied" if report.applied else "already applied, nothing changed")
        self.ready = True

    async def project(self, private_key: str | None = None) -> Project:
        """A project by its private key (the default project when None), created on first use."""
        key = private_key or self.settings.private_key
        return (await self.private_principal(key)).project

    async def apply_seed_file(self, path: Path, private_key: str | None = None) -> SeedReport:
        """Apply a seed file to a project (the default one unless a key is given), once per content."""
        seed = await read_seed_file(path)
        return await self.services(await self.project(private_key)).seeding.apply_seed(seed)

    async def export_to_file(self, path: Path, private_key: str | None = None) -> None:
        """Write a project's export to a file atomically (YAML, or JSON for a `.json` name)."""
        document = await self.services(await self.project(private_key)).project_state.export_document()
        data = await asyncio.to_thread(render_document, document, format_of(path))
        await asyncio.to_thread(write_atomically, path, data)

    async def stop(self) -> None:
        """Write the default project's export if asked (`--export-on-exit`, atomically, D58), then close
        the database."""
        self.ready = False
        path = self.settings.export_on_exit
        try:
            if path is not None:
                log.info("exporting the default project to %s", path)
                await self.export_to_file(path)
                log.info("exported the default project to %s", path)
        except Exception:  # a failed export must not stop the database from closing
            log.exception("could not export the default project to %s", path)
        finally:
            await self.db.close()

    def services(self, project: Project, trace: TraceSink = _no_trace) -> Services:
        """The services acting for a project."""
        return Services.for_project(self.repository, project, self.clock, trace)

    async def private_principal(self, authorization: str | None) -> Principal:
        """Who a private key belongs to."""
        return await self.authenticator.private(authorization, self.clock.now())

    async def client_principal(self, authorization: str | None, user_id: str | None) -> Principal:
        """Who a client API call speaks for: public key + X-User-ID, or a user token."""
        return await self.authenticator.public(authorization, user_id, self.clock.now())

    async def services_for_private_key(self, authorization: str | None) -> Services:
        """The services of the project a private key belongs to."""
        return self.services((await self.private_principal(authorization)).project)

    async def services_for_checkout(self, session_id: str) -> Services:
        """The services of the project a checkout session belongs to (its page needs no key, D70)."""
        project = None
        if SESSION_ID.match(session_id):
            project = await self.repository.project_of_checkout_session(session_id)
        if project is None:
            raise CheckoutSessionNotFound(session_id)
        return self.services(project)
