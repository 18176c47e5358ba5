"""Validate and plan a Kana CLI config against the server's catalog (`/cli/validate`, `/cli/publish`, seeds).

The plan is a diff after normalising both sides (decision D16): a missing `overage_enabled` is false,
limits on BINARY features are ignored, a consumable without a limit is unlimited. Sections absent from
the file, and entries present only on the server, are left as they are and not reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from kana_server.domain.config import KanaConfig, PackageConfig, PriceConfig
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


@dataclass
class PublishPlan:
    """Messages for the CLI and the catalog objects to write if there is no error."""

    messages: list[str] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    billing_templates: list[BillingTemplate] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """The messages that stop a publish."""
        return [m for m in self.messages if ERROR in m]

    def error(self, text: str) -> None:
        """Record an error line."""
        self.messages.append(f"{ERROR} {text}")

    def info(self, text: str) -> None:
        """Record an information line."""
        self.messages.append(text)


def display_amount(amount: int) -> str:
    """Minor units as Kana shows them: 5000 → "50.00"."""
    return f"{amount // 100}.{amount % 100:02d}"


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


def _plan_features(config: KanaConfig, catalog: Catalog, plan: PublishPlan) -> dict[str, Feature]:
    """Features after the publish (server's plus the file's), recording new and changed ones."""
    features = dict(catalog.features)
    entries = config.features or []
    for dupe in _duplicates(f.id for f in entries):
        plan.error(f"Duplicate feature id {dupe}")
    for entry in entries:
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
            plan.info(f"Feature {entry.id} ({entry.type}) will be created")
        elif current.type is not entry.type:
            plan.error(f"Feature {entry.id}: type cannot change from {current.type} to {entry.type}")
            continue
        elif current == wanted:
            continue
        else:
            plan.info(f"Feature {entry.id} will be updated")
        features[entry.id] = wanted
        plan.features.append(wanted)
    return features


def _normalise_features(
    entry: PackageConfig, features: dict[str, Feature], plan: PublishPlan
) -> tuple[PackageFeature, ...]:
    result: list[PackageFeature] = []
    for dupe in _duplicates(f.id for f in entry.features):
        plan.error(f"Package {entry.id} lists feature {dupe} twice")
    for item in entry.features:
        feature = features.get(item.id)
        if feature is None:
            plan.error(f"Package {entry.id} refers to unknown feature {item.id}")
            continue
        if feature.type is FeatureType.BINARY:
            result.append(PackageFeature(feature_id=item.id))
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


def _same_content(a: Package, b: Package) -> bool:
    return (
        a.name == b.name
        and a.is_addon == b.is_addon
        and set(a.features) == set(b.features)
        and a.base_packages == b.base_packages
        and a.metadata == b.metadata
        and a.prices == b.prices
    )


def _package_entries(config: KanaConfig) -> list[tuple[PackageConfig, bool, PackageStatus]]:
    entries: list[tuple[PackageConfig, bool, PackageStatus]] = []
    for section, is_addon in ((config.packages, False), (config.addons, True)):
        if section is None:
            continue
        entries += [(p, is_addon, PackageStatus.DRAFT) for p in section.draft]
        entries += [(p, is_addon, PackageStatus.PUBLISHED) for p in section.published]
    return entries


def plan_publish(config: KanaConfig, catalog: Catalog, now: datetime) -> PublishPlan:
    """Diff a config against the catalog: the CLI's messages and what publishing it would write."""
    plan = PublishPlan()
    features = _plan_features(config, catalog, plan)
    entries = _package_entries(config)
    for dupe in _duplicates(e.id for e, _, _ in entries):
        plan.error(f"Duplicate package id {dupe}")
    kinds = {p.id: p.is_addon for p in catalog.packages.values()} | {e.id: a for e, a, _ in entries}
    prices = config.prices or {}
    in_file = {e.id for e, _, _ in entries}
    for package_id, price_entries in prices.items():
        if package_id not in kinds:
            plan.error(f"Prices given for unknown package {package_id}")
        for dupe in _duplicates(p.id for p in price_entries):
            plan.error(f"Package {package_id} lists price {dupe} twice")
        current_package = catalog.packages.get(package_id)
        changed = current_package is not None and tuple(map(_price, price_entries)) != current_package.prices
        if changed and package_id not in in_file:
            # Prices are part of their package: they change with it (published: never), D77.
            plan.error(f"Prices of package {package_id} can only change with its entry in packages or addons")

    for entry, is_addon, status in entries:
        current = catalog.packages.get(entry.id)
        if not entry.features:
            plan.error(f"Package {entry.id} must contain at least one feature")
        for base in entry.base_packages:
            if not is_addon:
                plan.error(f"Package {entry.id} is not an add-on but lists base_packages")
                break
            if kinds.get(base) is not False:
                plan.error(f"Add-on {entry.id} lists {base} in base_packages, which is not a base package")
        wanted = Package(
            id=entry.id,
            name=entry.name or (current.name if current else entry.id),
            is_addon=is_addon,
            status=status,
            updated_at=now,
            metadata=entry.metadata if entry.metadata is not None or not current else current.metadata,
            features=_normalise_features(entry, features, plan),
            prices=(
                tuple(_price(p) for p in prices[entry.id])
                if entry.id in prices
                else (current.prices if current else ())
            ),
            base_packages=frozenset(entry.base_packages),
        )
        kind = "Add-on" if is_addon else "Package"
        if current is None:
            plan.info(f"{kind} {entry.id} will be created as {status}")
            plan.packages.append(wanted)
            continue
        same = _same_content(current, wanted)
        if current.status is not PackageStatus.DRAFT:
            if status is PackageStatus.DRAFT:
                plan.error(f"{kind} {entry.id} is {current.status} and cannot go back to DRAFT")
            elif current.status is PackageStatus.ARCHIVED:
                plan.error(f"{kind} {entry.id} is ARCHIVED and cannot be published again")
            elif not same:
                plan.error(f"{kind} {entry.id} is PUBLISHED and cannot be changed")
            continue
        if same and status is current.status:
            continue
        if status is PackageStatus.PUBLISHED:
            plan.info(f"{kind} {entry.id} will be published" + ("" if same else " with changes"))
        else:
            plan.info(f"{kind} {entry.id} will be updated")
        plan.packages.append(wanted)

    templates = config.billing_templates or []
    for dupe in _duplicates(t.id for t in templates):
        plan.error(f"Duplicate billing template id {dupe}")
    for template in templates:
        # The package as it will be after this publish (its prices may change in the same file).
        package = next((p for p in plan.packages if p.id == template.package), None) or catalog.packages.get(
            template.package
        )
        if package is None:
            plan.error(f"Billing template {template.id} refers to unknown package {template.package}")
            continue
        if template.price is not None and template.price not in {p.id for p in package.prices}:
            plan.error(
                f"Billing template {template.id} refers to price {template.price}, "
                f"which package {package.id} does not have"
            )
            continue
        wanted_template = BillingTemplate(template.id, template.package, template.price)
        if catalog.billing_templates.get(template.id) != wanted_template:
            plan.info(f"Billing template {template.id} will be saved")
            plan.billing_templates.append(wanted_template)
    return plan


def with_status(package: Package, status: PackageStatus, now: datetime) -> Package:
    """A package moved to another status (publish/archive from the control plane)."""
    return replace(package, status=status, updated_at=now)
