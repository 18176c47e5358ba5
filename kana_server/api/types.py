"""The Admin API's GraphQL types (Kana's names, fields and nullability), built from domain objects."""

from __future__ import annotations

from datetime import datetime

import strawberry

from kana_server.api.context import Info
from kana_server.api.enums import PackageStatus
from kana_server.api.scalars import JSON
from kana_server.domain import model
from kana_server.domain.entitlements import Decision
from kana_server.domain.usage import PeriodUsage, UsageReport
from kana_server.services.usage import RecordResult


@strawberry.type
class Consumption:
    """A consumable's usage against its budget (null budget: unlimited)."""

    used: int
    budget: int | None
    overage_enabled: bool

    @classmethod
    def of(cls, consumption: model.Consumption | None) -> Consumption | None:
        """From the domain's consumption."""
        if consumption is None:
            return None
        return cls(
            used=consumption.used, budget=consumption.budget, overage_enabled=consumption.overage_enabled
        )


@strawberry.type
class Entitlement:
    """Whether a user may use a feature, why, and how much is used."""

    access: bool
    reason: str
    consumption: Consumption | None

    @classmethod
    def of(cls, decision: Decision) -> Entitlement:
        """From an entitlement decision."""
        return cls(
            access=decision.access, reason=decision.reason, consumption=Consumption.of(decision.consumption)
        )


@strawberry.type
class CanUseFeatureData:
    """canUseFeature's answer."""

    access: bool
    reason: str
    consumption: Consumption | None

    @classmethod
    def of(cls, decision: Decision) -> CanUseFeatureData:
        """From an entitlement decision."""
        return cls(
            access=decision.access, reason=decision.reason, consumption=Consumption.of(decision.consumption)
        )


@strawberry.type
class ConsumptionInPeriod:
    """The consumption of one reset period."""

    period_start: datetime
    period_end: datetime
    consumption: Consumption

    @classmethod
    def of(cls, period: PeriodUsage) -> ConsumptionInPeriod:
        """From one period of a usage report."""
        consumption = Consumption.of(period.consumption)
        assert consumption is not None
        return cls(period_start=period.window.start, period_end=period.window.end, consumption=consumption)


@strawberry.type
class ShowUsageData:
    """showUsage's answer: the current period and the past ones, newest first."""

    current: ConsumptionInPeriod | None
    past: list[ConsumptionInPeriod] | None

    @classmethod
    def of(cls, report: UsageReport) -> ShowUsageData:
        """From a usage report."""
        return cls(
            current=ConsumptionInPeriod.of(report.current) if report.current else None,
            past=[ConsumptionInPeriod.of(p) for p in report.past],
        )


@strawberry.type
class RecordedUsage:
    """recordUsage's answer; `reason` says why it was not recorded."""

    recorded: bool
    reason: str | None

    @classmethod
    def of(cls, result: RecordResult) -> RecordedUsage:
        """From a record result."""
        return cls(recorded=result.recorded, reason=result.reason)


@strawberry.type
class PackagePrice:
    """A price at the billing provider."""

    id: str
    provider: str
    amount: int
    display_amount: str
    currency: str
    interval: str | None

    @classmethod
    def of(cls, price: model.Price) -> PackagePrice:
        """From a domain price."""
        return cls(
            id=price.id,
            provider=price.provider,
            amount=price.amount,
            display_amount=price.display_amount,
            currency=price.currency,
            interval=price.interval,
        )


@strawberry.type
class PackageFeature:
    """A feature as it sits within one package."""

    id: str
    name: str
    type: model.FeatureType
    limit: int | None
    unit_label: str | None
    unit_label_plural: str | None
    metadata: JSON | None

    @classmethod
    def of(cls, entitlement: model.PackageFeature, feature: model.Feature) -> PackageFeature:
        """From a package's entitlement and its feature."""
        return cls(
            id=feature.id,
            name=feature.name,
            type=feature.type,
            limit=entitlement.limit if feature.type is model.FeatureType.CONSUMABLE else None,
            unit_label=feature.unit_label,
            unit_label_plural=feature.unit_label_plural,
            metadata=feature.metadata,
        )


@strawberry.type
class Package:
    """A base package ("tier") or an add-on."""

    id: str
    name: str
    is_addon: bool
    status: PackageStatus
    metadata: JSON | None
    updated_at: datetime
    _package: strawberry.Private[model.Package]

    @strawberry.field
    async def features(self, info: Info) -> list[PackageFeature]:
        """The package's features with their limits."""
        catalog = await info.context.catalog()
        return [
            PackageFeature.of(e, catalog.features[e.feature_id])
            for e in self._package.features
            if e.feature_id in catalog.features
        ]

    @strawberry.field
    def prices(self) -> list[PackagePrice]:
        """The package's prices at the billing provider."""
        return [PackagePrice.of(p) for p in self._package.prices]

    @classmethod
    def of(cls, package: model.Package) -> Package:
        """From a domain package."""
        return cls(
            id=package.id,
            name=package.name,
            is_addon=package.is_addon,
            status=PackageStatus(package.status.value),
            metadata=package.metadata,
            updated_at=package.updated_at,
            _package=package,
        )


@strawberry.type
class Feature:
    """A feature of the product."""

    id: str
    name: str
    type: model.FeatureType
    unit_label: str | None
    unit_label_plural: str | None
    metadata: JSON | None

    @strawberry.field
    async def packages(self, info: Info) -> list[Package]:
        """The packages that contain this feature."""
        catalog = await info.context.catalog()
        return [Package.of(p) for p in catalog.packages_with_feature(self.id)]

    @strawberry.field
    async def entitlement(self, info: Info, user_id: str) -> Entitlement | None:
        """The user's entitlement to this feature; null when no live package of the user holds it."""
        decision = await info.context.entitlements.load((user_id, self.id))
        return None if decision.winner is None else Entitlement.of(decision)

    @classmethod
    def of(cls, feature: model.Feature) -> Feature:
        """From a domain feature."""
        return cls(
            id=feature.id,
            name=feature.name,
            type=feature.type,
            unit_label=feature.unit_label,
            unit_label_plural=feature.unit_label_plural,
            metadata=feature.metadata,
        )


@strawberry.type
class User:
    """An end user of the product."""

    id: str
    billing_id: str | None
    name: str | None
    email: str | None
    metadata: JSON | None

    @classmethod
    def of(cls, user: model.User) -> User:
        """From a domain user."""
        return cls(
            id=user.id, billing_id=user.billing_id, name=user.name, email=user.email, metadata=user.metadata
        )


@strawberry.type
class PackageSubscription:
    """A user's subscription to a package."""

    id: str
    user_id: str
    status: model.SubscriptionStatus
    metadata: JSON | None
    _package_id: strawberry.Private[str]

    @strawberry.field
    async def package(self, info: Info) -> Package:
        """The package subscribed to."""
        catalog = await info.context.catalog()
        return Package.of(catalog.packages[self._package_id])

    @classmethod
    def of(cls, subscription: model.Subscription) -> PackageSubscription:
        """From a domain subscription."""
        return cls(
            id=subscription.id,
            user_id=subscription.user_id,
            status=subscription.status,
            metadata=subscription.metadata,
            _package_id=subscription.package_id,
        )


@strawberry.type
class GeneratedUserToken:
    """A token for the Client API's secure mode."""

    token: str | None


@strawberry.type
class SubscriptionLink:
    """A payment link that subscribes the user once paid."""

    url: str
