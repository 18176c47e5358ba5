"""The Admin API's input types (Kana's names, fields and defaults)."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from kana_server.api import enums  # noqa: F401 - registers Kana's enum names first
from kana_server.api.scalars import JSON
from kana_server.domain import model
from kana_server.domain.config import PackageFeatureConfig, package_feature

T = TypeVar("T")


def value(field_value: T | UnsetType | None) -> T | None:
    """A field's value, None when the client did not send it."""
    return None if isinstance(field_value, UnsetType) else field_value


def given(input_object: object, *names: str) -> frozenset[str]:
    """The fields a client actually sent (UNSET means absent; null is a value)."""
    return frozenset(name for name in names if getattr(input_object, name) is not strawberry.UNSET)


@strawberry.input
class CreateFeatureInput:
    """A feature to create; its type cannot change later."""

    id: str
    name: str | None = strawberry.UNSET
    type: model.FeatureType
    unit_label: str | None = strawberry.UNSET
    unit_label_plural: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET

    def to_domain(self) -> model.Feature:
        """The feature this input describes (name defaults to the id, D1)."""
        return model.Feature(
            id=self.id,
            name=value(self.name) or self.id,
            type=model.FeatureType(self.type),
            unit_label=value(self.unit_label) or None,
            unit_label_plural=value(self.unit_label_plural) or None,
            metadata=value(self.metadata),
        )


@strawberry.input
class UpdateFeatureInput:
    """Fields of a feature that may change."""

    name: str | None = strawberry.UNSET
    unit_label: str | None = strawberry.UNSET
    unit_label_plural: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class EntitlementInput:
    """A consumable's limit (omitted: unlimited), reset period and overage."""

    limit: int | None = strawberry.UNSET
    reset_period: model.ResetPeriod
    overage_enabled: bool | None = False


@strawberry.input
class CreatePackageFeatureInput:
    """A feature of a new package; `entitlement` only for consumables."""

    id: str
    entitlement: EntitlementInput | None = strawberry.UNSET

    def to_config(self) -> PackageFeatureConfig:
        """As a config entry (the same shape the CLI uses)."""
        entitlement = self.entitlement
        if not entitlement:
            return PackageFeatureConfig(id=self.id)
        return package_feature(
            self.id,
            value(entitlement.limit),
            model.ResetPeriod(entitlement.reset_period),
            bool(entitlement.overage_enabled),
        )


@strawberry.input
class CreatePackageInput:
    """A package to create (always DRAFT)."""

    id: str
    name: str | None = strawberry.UNSET
    is_addon: bool | None = False
    features: list[CreatePackageFeatureInput]
    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class UpdatePackageInput:
    """A package's metadata (the only field the API may change)."""

    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class CreateUserInput:
    """A user to create."""

    id: str
    billing_id: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET

    def to_domain(self) -> model.User:
        """The user this input describes."""
        return model.User(
            id=self.id,
            billing_id=value(self.billing_id),
            name=value(self.name),
            email=value(self.email),
            metadata=value(self.metadata),
        )


@strawberry.input
class UpdateUserInput:
    """A user's new id (a rename), name and metadata; email and billingId cannot change."""

    id: str
    name: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class CreateUsageEventInput:
    """A usage event: ADD `delta` (negative reverts) or SET the period's usage to `delta`."""

    user_id: str
    feature_id: str
    delta: int | None = 1
    action: model.UsageAction | None = model.UsageAction.ADD
