"""Validate and plan a Kana CLI config against the server's catalog (`/cli/validate`, `/cli/publish`, seeds).

The plan is a diff after normalising both sides (decision D16): a missing `overage_enabled` is false,
limits on BINARY features are ignored, a consumable without a limit is unlimited, the order of a
package's features does not matter. Sections absent from the file, and entries present only on the
server, are left as they are and not reported. So publish → pull → validate reports nothing.

Each message says what will change (`api-calls: limit 1000 → 2000`, D52), as the Kana CLI prints it:
lines with `[ERROR]` stop a publish, `[WARNING]` lines do not, the others are information.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kana_server.domain.config import ConfigPath, KanaConfig, PackageConfig, PriceConfig, StatusSections
from kana_server.domain.errors import InvalidInput
from kana_server.domain.ids import check_id
from kana_server.domain.model import (
    BillingTemplate,
    Catalog,
    Feature,
    FeatureType,
    Package,
    PackageFeature,
    PackageStatus,
    Price,
)

ERROR = "[ERROR]"
WARNING = "[WARNING]"
ARROW = "→"


@dataclass(frozen=True, slots=True)
class PlanMessage:
    """One line for the CLI, and where in the file it comes from (for line numbers)."""

    text: str
    path: ConfigPath = ()

    @property
    def is_error(self) -> bool:
        """Whether this line stops a publish."""
        return ERROR in self.text


@dataclass
class PublishPlan:
    """Messages for the CLI and the catalog objects to write if there is no error."""

    notes: list[PlanMessage] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    billing_templates: list[BillingTemplate] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """Every line, in file order: what `/cli/validate` answers."""
        return [note.text for note in self.notes]

    @property
    def errors(self) -> list[str]:
        """The messages that stop a publish."""
        return [note.text for note in self.notes if note.is_error]

    def error(self, text: str, path: ConfigPath = ()) -> None:
        """Record an error line."""
        self.notes.append(PlanMessage(f"{ERROR} {text}", path))

    def warning(self, text: str, path: ConfigPath = ()) -> None:
        """Record a warning line (does not stop a publish)."""
        self.notes.append(PlanMessage(f"{WARNING} {text}", path))

    def info(self, text: str, path: ConfigPath = ()) -> None:
        """Record an information line."""
        self.notes.append(PlanMessage(text, path))


def display_amount(amount: int) -> str:
    """Minor units as Kana shows them: 5000 → "50.00"."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _price(config: PriceConfig) -> Price:
    return Price(
        id=config.id,
        provider=config.provider,
        amount=config.amount,
        display_amount=config.displayAmount or display_amount(config.amount),
        currency=config.currency,
        interval=config.interval,
    )


def _duplicates(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for item in ids:
        if item in seen and item not in dupes:
            dupes.append(item)
        seen.add(item)
    return dupes


def _text(value: Any) -> str:
    """A value as the messages show it: strings quoted, booleans and null as in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _change(label: str, old: Any, new: Any) -> str | None:
    return None if old == new else f"{label} {_text(old)} {ARROW} {_text(new)}"


def describe_entitlement(item: PackageFeature, feature_type: FeatureType | None) -> str:
    """`api-calls (limit 1000, MONTH)`, `seats (unlimited, never resets)`, `sso` for binary features."""
    if feature_type is FeatureType.BINARY:
        return item.feature_id
    limit = "unlimited" if item.limit is None else f"limit {item.limit}"
    period = item.reset_period.value if item.reset_period else "never resets"
    overage = ", overage enabled" if item.overage_enabled else ""
    return f"{item.feature_id} ({limit}, {period}{overage})"


def _feature_changes(current: Feature, wanted: Feature) -> list[str]:
    changes = [
        _change("name", current.name, wanted.name),
        _change("unit_label", current.unit_label, wanted.unit_label),
        _change("unit_label_plural", current.unit_label_plural, wanted.unit_label_plural),
        "metadata changed" if current.metadata != wanted.metadata else None,
    ]
    return [c for c in changes if c]


def _price_text(price: Price) -> str:
    """`price_pro 50.00 gbp/month`."""
    interval = f"/{price.interval}" if price.interval else ""
    return f"{price.id} {price.display_amount} {price.currency}{interval}"


def _limit(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _package_changes(current: Package, wanted: Package, types: Mapping[str, Feature]) -> list[str]:
    """What differs between two versions of a package, in words (empty: same content)."""
    changes: list[str] = []
    if current.name != wanted.name:
        changes.append(f"name {_text(current.name)} {ARROW} {_text(wanted.name)}")
    if current.is_addon != wanted.is_addon:
        changes.append("becomes an add-on" if wanted.is_addon else "becomes a base package")
    old = {f.feature_id: f for f in current.features}
    new = {f.feature_id: f for f in wanted.features}
    for feature_id, item in new.items():
        before = old.get(feature_id)
        if before is None:
            feature = types.get(feature_id)
            changes.append(f"adds {describe_entitlement(item, feature.type if feature else None)}")
            continue
        parts = [
            None
            if before.limit == item.limit
            else f"limit {_limit(before.limit)} {ARROW} {_limit(item.limit)}",
            _change(
                "reset_period",
                before.reset_period and before.reset_period.value,
                item.reset_period and item.reset_period.value,
            ),
            _change("overage_enabled", before.overage_enabled, item.overage_enabled),
        ]
        if any(parts):
            changes.append(f"{feature_id}: " + ", ".join(p for p in parts if p))
    changes += [f"removes {feature_id}" for feature_id in old if feature_id not in new]
    if current.base_packages != wanted.base_packages:
        changes.append(
            f"base_packages [{', '.join(sorted(current.base_packages))}] {ARROW} "
            f"[{', '.join(sorted(wanted.base_packages))}]"
        )
    if current.metadata != wanted.metadata:
        changes.append("metadata changed")
    if current.prices != wanted.prices:
        old_prices, new_prices = (", ".join(map(_price_text, ps)) for ps in (current.prices, wanted.prices))
        changes.append(f"prices [{old_prices}] {ARROW} [{new_prices}]")
    return changes


def _checked_id(kind: str, value: str, plan: PublishPlan, path: ConfigPath) -> bool:
    try:
        check_id(kind, value)
    except InvalidInput as exc:
        plan.error(exc.message, path)
        return False
    return True


def _plan_features(config: KanaConfig, catalog: Catalog, plan: PublishPlan) -> dict[str, Feature]:
    """Features after the publish (server's plus the file's), recording new and changed ones."""
    features = dict(catalog.features)
    entries = config.features or []
    for dupe in _duplicates(f.id for f in entries):
        plan.error(f"Duplicate feature id {dupe}", ("features",))
    for index, entry in enumerate(entries):
        path: ConfigPath = ("features", index)
        if not _checked_id("Feature", entry.id, plan, path):
            continue
        current = catalog.features.get(entry.id)
        wanted = Feature(
            id=entry.id,
            name=entry.name or (current.name if current else entry.id),
            type=entry.type,
            unit_label=entry.unit_label
            if entry.unit_label is not None or not current
            else current.unit_label,
            unit_label_plural=(
                entry.unit_label_plural
                if entry.unit_label_plural is not None or not current
                else current.unit_label_plural
            ),
            metadata=entry.metadata if entry.metadata is not None or not current else current.metadata,
        )
        if current is None:
            plan.info(f'Feature {entry.id} will be created: {entry.type} "{wanted.name}"', path)
        elif current.type is not entry.type:
            plan.error(f"Feature {entry.id}: type cannot change from {current.type} to {entry.type}", path)
            continue
        elif current == wanted:
            continue
        else:
            plan.info(
                f"Feature {entry.id} will be updated: " + "; ".join(_feature_changes(current, wanted)), path
            )
        features[entry.id] = wanted
        plan.features.append(wanted)
    return features


def _normalise_features(
    entry: PackageConfig, features: dict[str, Feature], plan: PublishPlan, path: ConfigPath
) -> tuple[PackageFeature, ...]:
    result: list[PackageFeature] = []
    for dupe in _duplicates(f.id for f in entry.features):
        plan.error(f"Package {entry.id} lists feature {dupe} twice", (*path, "features"))
    for index, item in enumerate(entry.features):
        feature = features.get(item.id)
        if feature is None:
            plan.error(f"Package {entry.id} refers to unknown feature {item.id}", (*path, "features", index))
            continue
        if feature.type is FeatureType.BINARY:
            result.append(PackageFeature(feature_id=item.id))  # limits on binary features are ignored
        else:
            result.append(
                PackageFeature(
                    feature_id=item.id,
                    limit=item.limit,
                    reset_period=item.reset_period,
                    overage_enabled=bool(item.overage_enabled),
                )
            )
    return tuple(result)


@dataclass(frozen=True, slots=True)
class _Entry:
    config: PackageConfig
    is_addon: bool
    status: PackageStatus
    path: ConfigPath

    @property
    def kind(self) -> str:
        return "Add-on" if self.is_addon else "Package"


def _package_entries(config: KanaConfig) -> list[_Entry]:
    entries: list[_Entry] = []
    sections: tuple[tuple[str, StatusSections[PackageConfig] | None, bool], ...] = (
        ("packages", config.packages, False),
        ("addons", config.addons, True),
    )
    for name, section, is_addon in sections:
        if section is None:
            continue
        for key, items, status in (
            ("draft", section.draft, PackageStatus.DRAFT),
            ("published", section.published, PackageStatus.PUBLISHED),
            ("archived", section.archived, PackageStatus.ARCHIVED),
        ):
            entries += [_Entry(p, is_addon, status, (name, key, i)) for i, p in enumerate(items)]
    return entries


def _plan_prices(
    config: KanaConfig, catalog: Catalog, kinds: dict[str, bool], in_file: set[str], plan: PublishPlan
) -> dict[str, tuple[Price, ...]]:
    prices: dict[str, tuple[Price, ...]] = {}
    for package_id, entries in (config.prices or {}).items():
        path: ConfigPath = ("prices", package_id)
        if package_id not in kinds:
            plan.error(f"Prices given for unknown package {package_id}", path)
            continue
        for dupe in _duplicates(p.id for p in entries):
            plan.error(f"Package {package_id} lists price {dupe} twice", path)
        prices[package_id] = tuple(_price(p) for p in entries)
        current = catalog.packages.get(package_id)
        if current is not None and prices[package_id] != current.prices and package_id not in in_file:
            # Prices are part of their package: they change with it (published: never), D77.
            plan.error(
                f"Prices of package {package_id} can only change with its entry in packages or addons", path
            )
    return prices


def _status_step(entry: _Entry, current: Package, changes: list[str], plan: PublishPlan) -> bool:
    """Report moving an existing package to the file's version; True when it must be written."""
    kind, package_id, status, path = entry.kind, entry.config.id, entry.status, entry.path
    detail = ": " + "; ".join(changes) if changes else ""
    if current.status is PackageStatus.DRAFT:
        if status is PackageStatus.DRAFT:
            if changes:
                plan.info(f"{kind} {package_id} (DRAFT) will be updated{detail}", path)
            return bool(changes)
        verb = "published" if status is PackageStatus.PUBLISHED else "archived"
        plan.info(f"{kind} {package_id} will be {verb}" + (f" with changes{detail}" if changes else ""), path)
        return True
    if status is PackageStatus.DRAFT:
        plan.error(f"{kind} {package_id} is {current.status} and cannot go back to DRAFT", path)
        return False
    if current.status is PackageStatus.ARCHIVED and status is PackageStatus.PUBLISHED:
        plan.error(f"{kind} {package_id} is ARCHIVED and cannot be published again", path)
        return False
    if changes:
        plan.error(f"{kind} {package_id} is {current.status} and cannot be changed{detail}", path)
        return False
    if status is not current.status:  # PUBLISHED → ARCHIVED
        plan.info(f"{kind} {package_id} will be archived", path)
        return True
    return False


def _warn_never_resets(entry: _Entry, package: Package, plan: PublishPlan) -> None:
    for item in package.features:
        if item.reset_period is None and (item.limit is not None or item.overage_enabled):
            plan.warning(
                f"{entry.kind} {package.id}: {item.feature_id} has no reset_period, "
                "so its usage never resets",
                entry.path,
            )


def plan_publish(config: KanaConfig, catalog: Catalog, now: datetime) -> PublishPlan:
    """Diff a config against the catalog: the CLI's messages and what publishing it would write."""
    plan = PublishPlan()
    features = _plan_features(config, catalog, plan)
    entries = _package_entries(config)
    for dupe in _duplicates(e.config.id for e in entries):
        plan.error(f"Duplicate package id {dupe}", ("packages",))
    kinds = {p.id: p.is_addon for p in catalog.packages.values()} | {e.config.id: e.is_addon for e in entries}
    prices = _plan_prices(config, catalog, kinds, {e.config.id for e in entries}, plan)
    planned: dict[str, Package] = {}

    for entry in entries:
        package_id, path = entry.config.id, entry.path
        if not _checked_id("Package", package_id, plan, path):
            continue
        current = catalog.packages.get(package_id)
        if not entry.config.features:
            plan.error(f"{entry.kind} {package_id} must contain at least one feature", path)
        for base in entry.config.base_packages:
            if not entry.is_addon:
                plan.error(f"Package {package_id} is not an add-on but lists base_packages", path)
                break
            if kinds.get(base) is not False:
                plan.error(
                    f"Add-on {package_id} lists {base} in base_packages, which is not a base package", path
                )
        wanted = Package(
            id=package_id,
            name=entry.config.name or (current.name if current else package_id),
            is_addon=entry.is_addon,
            status=entry.status,
            updated_at=entry.config.updated_at or now,
            metadata=entry.config.metadata
            if entry.config.metadata is not None or not current
            else current.metadata,
            features=_normalise_features(entry.config, features, plan, path),
            prices=prices.get(package_id, current.prices if current else ()),
            base_packages=frozenset(entry.config.base_packages if entry.is_addon else ()),
        )
        if current is None:
            contents = ", ".join(
                describe_entitlement(f, features[f.feature_id].type) for f in wanted.features
            )
            plan.info(f"{entry.kind} {package_id} will be created as {entry.status}: {contents}", path)
            _warn_never_resets(entry, wanted, plan)
        else:
            changes = _package_changes(current, wanted, features)
            if not _status_step(entry, current, changes, plan):
                continue
            if changes:
                _warn_never_resets(entry, wanted, plan)
        planned[package_id] = wanted
        plan.packages.append(wanted)

    _plan_billing_templates(config, catalog, planned, plan)
    return plan


def _plan_billing_templates(
    config: KanaConfig, catalog: Catalog, planned: dict[str, Package], plan: PublishPlan
) -> None:
    templates = config.billing_templates or []
    for dupe in _duplicates(t.id for t in templates):
        plan.error(f"Duplicate billing template id {dupe}", ("billing_templates",))
    for index, template in enumerate(templates):
        path: ConfigPath = ("billing_templates", index)
        # The package as it will be after this publish (its prices may change in the same file).
        package = planned.get(template.package) or catalog.packages.get(template.package)
        if package is None:
            plan.error(f"Billing template {template.id} refers to unknown package {template.package}", path)
            continue
        if template.price is not None and template.price not in {p.id for p in package.prices}:
            plan.error(
                f"Billing template {template.id} refers to price {template.price}, "
                f"which package {package.id} does not have",
                path,
            )
            continue
        wanted = BillingTemplate(template.id, template.package, template.price)
        if catalog.billing_templates.get(template.id) != wanted:
            plan.info(f"Billing template {template.id} will be saved: {template.package}", path)
            plan.billing_templates.append(wanted)


def cli_route_warnings(config: KanaConfig) -> list[PlanMessage]:
    """Warnings for sections the Kana CLI routes do not apply (project data, not catalog; D51)."""
    sections = config.seed_sections
    if not sections:
        return []
    text = (
        f"{WARNING} The sections {', '.join(sections)} hold project data, which the Kana CLI routes do not "
        "apply: load them with `kana-server seed` or `kana-server import`"
    )
    return [PlanMessage(text, (sections[0],))]


def with_status(package: Package, status: PackageStatus, now: datetime) -> Package:
    """A package moved to another status (publish/archive from the control plane)."""
    return replace(package, status=status, updated_at=now)
