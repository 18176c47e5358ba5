"""Services: one method per Kana operation; they load through the store and decide with the domain."""

from __future__ import annotations

from dataclasses import dataclass

from kana_server.clock import Clock, ProjectClock
from kana_server.domain.clock import project_clock_state
from kana_server.domain.model import Project
from kana_server.services.base import RequestState, ServiceEnv, TraceSink, _no_trace
from kana_server.services.billing import BillingService
from kana_server.services.catalog import CatalogService
from kana_server.services.inspector import InspectorService
from kana_server.services.project import ProjectControlService
from kana_server.services.seeding import SeedService
from kana_server.services.state import ProjectStateService
from kana_server.services.subscriptions import SubscriptionService
from kana_server.services.usage import UsageService
from kana_server.services.users import UserService
from kana_server.store.repository import Repository


@dataclass(frozen=True)
class Services:
    """The services of one request, all acting for the same project with the same clock."""

    catalog: CatalogService
    users: UserService
    subscriptions: SubscriptionService
    usage: UsageService
    billing: BillingService
    seeding: SeedService
    project: ProjectControlService
    project_state: ProjectStateService
    inspector: InspectorService

    @property
    def state(self) -> RequestState:
        """The request's shared state (write count)."""
        return self.catalog.state

    @classmethod
    def for_project(
        cls, repository: Repository, project: Project, real_clock: Clock, trace: TraceSink = _no_trace
    ) -> Services:
        """Build the services for one project, on the project's virtual clock."""
        clock = ProjectClock(project_clock_state(project), real_clock)
        env = ServiceEnv(repository, project, clock, real_clock, trace, RequestState())
        return cls(
            CatalogService(env),
            UserService(env),
            SubscriptionService(env),
            UsageService(env),
            BillingService(env),
            SeedService(env),
            ProjectControlService(env),
            ProjectStateService(env),
            InspectorService(env),
        )
