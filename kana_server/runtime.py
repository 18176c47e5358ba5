"""The running server's state: database, repository, authenticator, clock. Built by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from kana_server.auth import Authenticator, Principal
from kana_server.clock import Clock, SystemClock
from kana_server.domain.checkout import SESSION_ID
from kana_server.domain.config import KanaConfig
from kana_server.domain.errors import CheckoutSessionNotFound, InvalidInput
from kana_server.domain.model import Project
from kana_server.ledger import Ledgers
from kana_server.services import Services
from kana_server.services.base import TraceSink, _no_trace
from kana_server.services.seeding import SeedReport, seed_digest
from kana_server.settings import Settings
from kana_server.store.database import Database, DatabaseOptions
from kana_server.store.repository import Repository

log = logging.getLogger("kana_server")


def load_config_text(text: str, source: str) -> KanaConfig:
    """Parse a kana.yaml text; errors name the source and what is wrong."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a kana.yaml must be a mapping at the top level")
    try:
        return KanaConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"{source}: {problems}") from exc


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
    ready: bool = False

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Runtime:
        """Open the database engines (no connection is made until start)."""
        db = Database(
            DatabaseOptions(
                url=settings.database_url,
                sqlite_synchronous=settings.sqlite_synchronous,
                pool_size=settings.db_pool_size,
            )
        )
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
        """Create the schema, the default project, and apply the startup seed."""
        await self.db.create_schema()
        self.default_project = await self.authenticator.ensure_default_project(self.clock.now())
        path = self.settings.seed_path()
        if path is not None:
            report = await self.apply_seed_file(path)
            log.info("seed %s: %s", path, "applied" if report.applied else "already applied, nothing changed")
        self.ready = True

    async def apply_seed_file(self, path: Path) -> SeedReport:
        """Apply a seed file to the default project (once per content)."""
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        config = load_config_text(text, str(path))
        project = await self.authenticator.ensure_default_project(self.clock.now())
        return await self.services(project).seeding.apply_seed(config, seed_digest(text))

    async def stop(self) -> None:
        """Close the database."""
        self.ready = False
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
