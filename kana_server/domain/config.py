"""The Kana CLI's config file (kana.yaml) and kana-server's seed extensions to it, as typed models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, NotRequired, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    with_config,
)
from typing_extensions import TypedDict

from kana_server.domain.clock import truncate_ms
from kana_server.domain.errors import InvalidInput
from kana_server.domain.model import (
    FeatureType,
    JSONValue,
    ResetPeriod,
    SubscriptionStatus,
    UsageAction,
)

ConfigPath = tuple[str | int, ...]
"""Where a value sits in a config document, e.g. ("packages", "published", 0, "features", 1)."""


def _utc_instant(value: datetime) -> datetime:
    """Instants in files are UTC: a value without a zone is taken as UTC; kept on the millisecond grid."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return truncate_ms(value.astimezone(UTC))


Instant = Annotated[datetime, AfterValidator(_utc_instant)]

INT_MAX = 2**31 - 1
"""GraphQL's Int is 32-bit: limits, deltas and amounts a file gives must fit in it."""
MAX_CLOCK_OFFSET_MS = 200 * 366 * 24 * 3600 * 1000
"""A virtual clock further than 200 years from real time is a mistake (and out of datetime's range)."""


def _not_bool(value: Any) -> Any:
    """`true` is not a number (pydantic would read it as 1)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=-INT_MAX, le=INT_MAX)]


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
    limit: Annotated[Count, Field(ge=0)] | None = None  # absent or null: unlimited
    overage_enabled: bool | None = False
    reset_period: ResetPeriod | None = None

    @field_validator("overage_enabled", mode="after")
    @classmethod
    def _missing_is_false(cls, value: bool | None) -> bool:
        return bool(value)


def package_feature(
    feature_id: str, limit: int | None, reset_period: ResetPeriod | None, overage_enabled: bool
) -> PackageFeatureConfig:
    """A package's feature given through the Admin API: a negative limit is BAD_USER_INPUT (D97)."""
    if limit is not None and limit < 0:
        raise InvalidInput(f"The limit of feature {feature_id} must not be negative (got {limit})")
    return PackageFeatureConfig(
        id=feature_id, limit=limit, reset_period=reset_period, overage_enabled=overage_enabled
    )


class PackageConfig(_Model):
    """A package (or add-on) entry."""

    id: str
    name: str | None = None
    features: list[PackageFeatureConfig] = Field(default_factory=list)
    metadata: JSONValue = None
    base_packages: list[str] = Field(default_factory=list)  # add-ons only
    updated_at: Instant | None = None  # exports keep Package.updatedAt; absent: the time of publishing

    @field_validator("features", "base_packages", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


T = TypeVar("T")


class StatusSections(_Model, Generic[T]):
    """`draft:` and `published:` lists (a null list counts as empty); `archived:` is kana-server's (D52)."""

    draft: list[T] = Field(default_factory=list)
    published: list[T] = Field(default_factory=list)
    archived: list[T] = Field(default_factory=list)

    @field_validator("draft", "published", "archived", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class PriceConfig(_Model):
    """A price shown in Package.prices ([X] seed extension)."""

    id: str
    provider: str = Field(default="STRIPE", min_length=1)
    amount: Annotated[Count, Field(ge=0)]  # minor units: 5000 is 50.00
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
    started_at: Instant | None = None
    status_changed_at: Instant | None = None  # exports keep it; absent: started_at
    metadata: JSONValue = None


USAGE_DEFAULT_DELTA = 1
USAGE_DEFAULT_ACTION = UsageAction.ADD
"""What a usage entry that omits `delta` or `action` records (as recordUsage does)."""


@with_config(ConfigDict(extra="forbid"))
class UsageConfig(TypedDict):
    """A usage event to record ([X] seed extension); `at` defaults to now, `delta` to 1, `action` to ADD.

    Exports also name the subscription the event counted against and the index of its reset period
    (D54); without them the event counts where recordUsage would count it at `at`. A dict, validated
    as strictly as the models: a file can hold millions of these, and pydantic makes a dict four times
    faster than a model instance (D123).
    """

    user: str
    feature: str
    delta: NotRequired[Count]
    action: NotRequired[UsageAction]
    at: NotRequired[Instant | None]
    subscription: NotRequired[str | None]
    period: NotRequired[Annotated[int, Field(ge=0)] | None]


class ClockConfig(_Model):
    """The project's virtual clock ([X] exports): an offset from real time, or a frozen instant."""

    offset_ms: int = Field(default=0, ge=-MAX_CLOCK_OFFSET_MS, le=MAX_CLOCK_OFFSET_MS)
    frozen_at: Instant | None = None


class KanaConfig(_Model):
    """A whole kana.yaml: the CLI's sections plus kana-server's seed sections. Absent section: None."""

    version: str | None = None
    app: str | None = None
    clock: ClockConfig | None = None
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

    @property
    def seed_sections(self) -> list[str]:
        """The kana-server sections that hold project data rather than catalog (users, usage, ...)."""
        names = ("clock", "users", "subscriptions", "usage")
        return [name for name in names if getattr(self, name) is not None]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config document, and where."""

    path: ConfigPath
    message: str

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.path)
        return f"{where}: {self.message}" if where else self.message


class ConfigError(InvalidInput):
    """A document that is not a valid kana.yaml; `problems` lists each one with its path."""

    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))
        self.source = source
        self.problems = problems


def parse_config(data: object, source: str) -> KanaConfig:
    """A kana.yaml document (already parsed from YAML or JSON) as a typed config, or ConfigError."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem((), "a kana.yaml must be a mapping at the top level")])
    try:
        return KanaConfig.model_validate(data)
    except ValidationError as exc:
        problems = [ConfigProblem(tuple(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]
        raise ConfigError(source, problems) from exc
