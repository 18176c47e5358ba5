"""The Kana CLI's config file (kana.yaml) and kana-server's seed extensions to it, as typed models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kana_server.domain.model import (
    FeatureType,
    JSONValue,
    ResetPeriod,
    SubscriptionStatus,
    UsageAction,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureConfig(_Model):
    """A feature entry: `{id, name, type}` (unit labels and metadata are kana-server extensions)."""

    id: str
    name: str | None = None
    type: FeatureType
    unit_label: str | None = None
    unit_label_plural: str | None = None
    metadata: JSONValue = None


class PackageFeatureConfig(_Model):
    """A feature inside a package: `{id, limit, overage_enabled, reset_period}`."""

    id: str
    limit: int | None = Field(default=None, ge=0)  # absent or null: unlimited
    overage_enabled: bool | None = False
    reset_period: ResetPeriod | None = None

    @field_validator("overage_enabled", mode="after")
    @classmethod
    def _missing_is_false(cls, value: bool | None) -> bool:
        return bool(value)


class PackageConfig(_Model):
    """A package (or add-on) entry."""

    id: str
    name: str | None = None
    features: list[PackageFeatureConfig] = Field(default_factory=list)
    metadata: JSONValue = None
    base_packages: list[str] = Field(default_factory=list)  # add-ons only


T = TypeVar("T")


class StatusSections(_Model, Generic[T]):
    """`draft:` and `published:` lists (a null list counts as empty)."""

    draft: list[T] = Field(default_factory=list)
    published: list[T] = Field(default_factory=list)

    @field_validator("draft", "published", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class PriceConfig(_Model):
    """A price shown in Package.prices ([X] seed extension)."""

    id: str
    provider: str = Field(default="STRIPE", min_length=1)
    amount: int = Field(ge=0)  # minor units: 5000 is 50.00
    displayAmount: str | None = None  # absent: from amount, 5000 → "50.00"
    currency: str = Field(min_length=1)
    interval: str | None = None  # None: a one-off price


class BillingTemplateConfig(_Model):
    """A billing template for generateSubscriptionLink ([X] seed extension)."""

    id: str
    package: str
    price: str | None = None


class UserConfig(_Model):
    """A user to create ([X] seed extension)."""

    id: str
    billing_id: str | None = None
    name: str | None = None
    email: str | None = None
    metadata: JSONValue = None


class SubscriptionConfig(_Model):
    """A subscription to create ([X] seed extension); `started_at` anchors its reset periods."""

    user: str
    package: str
    id: str | None = None
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    started_at: datetime | None = None
    metadata: JSONValue = None


class UsageConfig(_Model):
    """A usage event to record ([X] seed extension); `at` defaults to now."""

    user: str
    feature: str
    delta: int = 1
    action: UsageAction = UsageAction.ADD
    at: datetime | None = None


class KanaConfig(_Model):
    """A whole kana.yaml: the CLI's sections plus kana-server's seed sections. Absent section: None."""

    version: str | None = None
    app: str | None = None
    features: list[FeatureConfig] | None = None
    packages: StatusSections[PackageConfig] | None = None
    addons: StatusSections[PackageConfig] | None = None
    prices: dict[str, list[PriceConfig]] | None = None
    billing_templates: list[BillingTemplateConfig] | None = None
    users: list[UserConfig] | None = None
    subscriptions: list[SubscriptionConfig] | None = None
    usage: list[UsageConfig] | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)
