"""The Admin API: Kana's queries and mutations. Each resolver calls one service method."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from kana_server.api.context import Info
from kana_server.api.inputs import (
    CreateFeatureInput,
    CreatePackageInput,
    CreateUsageEventInput,
    CreateUserInput,
    UpdateFeatureInput,
    UpdatePackageInput,
    UpdateUserInput,
    given,
    value,
)
from kana_server.api.types import (
    CanUseFeatureData,
    Feature,
    GeneratedUserToken,
    Package,
    PackageSubscription,
    RecordedUsage,
    ShowUsageData,
    SubscriptionLink,
    User,
)
from kana_server.domain import model


@strawberry.type
class Query:
    """Kana's Admin API queries."""

    @strawberry.field
    async def feature(self, info: Info, id: str) -> Feature:
        """A feature by id."""
        return Feature.of(await info.context.services.catalog.feature(id))

    @strawberry.field
    async def features(self, info: Info) -> list[Feature]:
        """Every feature."""
        catalog = await info.context.catalog()
        return [Feature.of(f) for f in catalog.features.values()]

    @strawberry.field
    async def can_use_feature(
        self, info: Info, feature_id: str, user_id: str, delta: int | None = 1
    ) -> CanUseFeatureData:
        """Whether the user may use `delta` (default 1) of the feature now."""
        decision = await info.context.services.usage.can_use_feature(
            user_id, feature_id, 1 if delta is None else delta
        )
        return CanUseFeatureData.of(decision)

    @strawberry.field
    async def show_usage(self, info: Info, user_id: str, feature_id: str) -> ShowUsageData:
        """The user's usage of the feature: the current period and past ones."""
        return ShowUsageData.of(await info.context.services.usage.show_usage(user_id, feature_id))

    @strawberry.field
    async def package(self, info: Info, id: str) -> Package:
        """A package by id."""
        return Package.of(await info.context.services.catalog.package(id))

    @strawberry.field
    async def packages(self, info: Info, status: str | None = "ALL") -> list[Package]:
        """Packages with a status: ARCHIVED, DRAFT, PUBLISHED or ALL."""
        return [Package.of(p) for p in await info.context.services.catalog.packages(status or "ALL")]

    @strawberry.field
    async def user(self, info: Info, id: str) -> User:
        """A user by id."""
        return User.of(await info.context.services.users.user(id))

    @strawberry.field
    async def users(self, info: Info, id: str | None = strawberry.UNSET) -> list[User]:
        """Every user (or only the one with `id`)."""
        return [User.of(u) for u in await info.context.services.users.users(value(id))]

    @strawberry.field
    async def subscription(self, info: Info, id: str) -> PackageSubscription:
        """A subscription by id."""
        return PackageSubscription.of(await info.context.services.subscriptions.subscription(id))

    @strawberry.field
    async def subscriptions(
        self, info: Info, user_id: str | None = strawberry.UNSET
    ) -> list[PackageSubscription] | None:
        """Every subscription, or one user's."""
        subscriptions = await info.context.services.subscriptions.subscriptions(value(user_id))
        return [PackageSubscription.of(s) for s in subscriptions]


@strawberry.type
class Mutation:
    """Kana's Admin API mutations."""

    @strawberry.mutation
    async def create_feature(self, info: Info, input: CreateFeatureInput) -> Feature:
        """Create a feature."""
        return Feature.of(await info.context.services.catalog.create_feature(input.to_domain()))

    @strawberry.mutation
    async def update_feature(self, info: Info, id: str, input: UpdateFeatureInput) -> Feature:
        """Update a feature's name, unit labels or metadata."""
        feature = await info.context.services.catalog.update_feature(
            id,
            name=value(input.name),
            unit_label=value(input.unit_label),
            unit_label_plural=value(input.unit_label_plural),
            metadata=value(input.metadata),
            given=given(input, "name", "unit_label", "unit_label_plural", "metadata"),
        )
        return Feature.of(feature)

    @strawberry.mutation
    async def create_package(self, info: Info, input: CreatePackageInput) -> Package:
        """Create a DRAFT package."""
        package = await info.context.services.catalog.create_package(
            input.id,
            value(input.name),
            bool(input.is_addon),
            [f.to_config() for f in input.features],
            value(input.metadata),
        )
        return Package.of(package)

    @strawberry.mutation
    async def update_package(self, info: Info, id: str, input: UpdatePackageInput) -> Package:
        """Update a package's metadata."""
        return Package.of(await info.context.services.catalog.update_package(id, value(input.metadata)))

    @strawberry.mutation
    async def create_user(self, info: Info, input: CreateUserInput) -> User:
        """Create a user."""
        return User.of(await info.context.services.users.create_user(input.to_domain()))

    @strawberry.mutation
    async def update_user(self, info: Info, id: str, input: UpdateUserInput) -> User:
        """Update a user; a different `input.id` renames it."""
        user = await info.context.services.users.update_user(
            id,
            input.id,
            value(input.name),
            value(input.metadata),
            given(input, "name", "metadata"),
        )
        return User.of(user)

    @strawberry.mutation
    async def subscribe(
        self, info: Info, package_ids: list[str], user_id: str
    ) -> list[PackageSubscription | None]:
        """Subscribe a user to packages (one base package plus add-ons), all or nothing."""
        subscriptions = await info.context.services.subscriptions.subscribe(user_id, package_ids)
        return [PackageSubscription.of(s) for s in subscriptions]

    @strawberry.mutation
    async def record_usage(self, info: Info, input: CreateUsageEventInput) -> RecordedUsage | None:
        """Record usage of a feature by a user (ADD, negative to revert, or SET)."""
        result = await info.context.services.usage.record_usage(
            input.user_id,
            input.feature_id,
            1 if input.delta is None else input.delta,
            model.UsageAction(input.action or model.UsageAction.ADD),
        )
        return RecordedUsage.of(result)

    @strawberry.mutation
    async def create_usage_event(self, info: Info, input: CreateUsageEventInput) -> bool:
        """recordUsage's older name (Kana's Ruby guide): the same, answering a bare Boolean."""
        result = await info.context.services.usage.record_usage(
            input.user_id,
            input.feature_id,
            1 if input.delta is None else input.delta,
            model.UsageAction(input.action or model.UsageAction.ADD),
        )
        return result.recorded

    @strawberry.mutation
    async def generate_user_token(self, info: Info, user_id: str) -> GeneratedUserToken | None:
        """A token for the Client API's secure mode, bound to this project and user."""
        ttl = timedelta(seconds=info.context.settings.token_ttl_seconds)
        return GeneratedUserToken(token=await info.context.services.users.generate_user_token(user_id, ttl))

    @strawberry.mutation
    async def generate_subscription_link(
        self,
        info: Info,
        *,
        user_id: str | None = strawberry.UNSET,
        template_id: str,
        success_url: str,
        cancel_url: str,
    ) -> SubscriptionLink:
        """A payment link for a billing template; paying subscribes the user."""
        settings = info.context.settings
        url = await info.context.services.billing.generate_subscription_link(
            value(user_id),
            template_id,
            success_url,
            cancel_url,
            str(settings.public_url or info.context.request.base_url),
            timedelta(seconds=settings.checkout_ttl_seconds),
        )
        return SubscriptionLink(url=url)
