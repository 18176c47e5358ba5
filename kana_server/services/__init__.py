"""Services: one method per Kana operation; they load through the store and decide with the domain."""

from __future__ import annotations

from functools import cached_property

from kana_server.clock import Clock, ProjectClock
from kana_server.domain.clock import project_clock_state
from kana_server.domain.model import Project
from kana_server.services.base import RequestState, ServiceEnv, TraceSink, _no_trace
from kana_server.services.billing import BillingService
from kana_server.services.catalog import CatalogService
from kana_server.services.idempotency import IdempotencyService
from kana_server.services.inspector import InspectorService
from kana_server.services.project import ProjectControlService
from kana_server.services.seeding import SeedService
from kana_server.services.state import ProjectStateService
from kana_server.services.subscriptions import SubscriptionService
from kana_server.services.usage import UsageService
from kana_server.services.users import UserService
from kana_server.store.repository import Repository


class Services:
    """The services of one request, all acting for the same project with the same clock. Each is built
    when first used: a request uses one or two of them."""

    def __init__(self, env: ServiceEnv) -> None:
        self.env = env

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(self.env)

    @cached_property
    def users(self) -> UserService:
        return UserService(self.env)

    @cached_property
    def subscriptions(self) -> SubscriptionService:
        return SubscriptionService(self.env)

    @cached_property
    def usage(self) -> UsageService:
        return UsageService(self.env)

    @cached_property
    def billing(self) -> BillingService:
        return BillingService(self.env)

    @cached_property
    def seeding(self) -> SeedService:
        return SeedService(self.env)

    @cached_property
    def project(self) -> ProjectControlService:
        return ProjectControlService(self.env)

    @cached_property
    def project_state(self) -> ProjectStateService:
        return ProjectStateService(self.env)

    @cached_property
    def inspector(self) -> InspectorService:
        return InspectorService(self.env)

    @cached_property
    def idempotency(self) -> IdempotencyService:
        return IdempotencyService(self.env)

    @property
    def state(self) -> RequestState:
        """The request's shared state (write count)."""
        return self.env.state

    @classmethod
    def for_project(
        cls, repository: Repository, project: Project, real_clock: Clock, trace: TraceSink = _no_trace
    ) -> Services:
        """Build the services for one project, on the project's virtual clock."""
        clock = ProjectClock(project_clock_state(project), real_clock)
        return cls(ServiceEnv(repository, project, clock, real_clock, trace, RequestState()))
