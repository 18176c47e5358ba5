"""Kana's subscribe rules: one live base package ("tier"), add-ons beside it, PUBLISHED packages only."""

from __future__ import annotations

from dataclasses import dataclass

from kana_server.domain.errors import SubscriptionError, UnknownPackageInSubscribe
from kana_server.domain.model import Catalog, Package, PackageStatus, Subscription

MULTIPLE_TIERS = "Cannot subscribe to multiple tiers"
ADDON_WITHOUT_TIER = "Cannot subscribe to addon. Missing live tier subscription."


@dataclass(frozen=True, slots=True)
class SubscribeStep:
    """One requested package: either already held (returned as is, D10) or to be created."""

    package: Package
    existing: Subscription | None


def plan_subscribe(package_ids: list[str], held: list[Subscription], catalog: Catalog) -> list[SubscribeStep]:
    """Check a whole subscribe call against Kana's rules; all-or-nothing, so any error stops it."""
    live = [s for s in held if s.is_live]
    held_by_package = {s.package_id: s for s in live}
    for package_id in package_ids:
        if package_id not in catalog.packages:
            raise UnknownPackageInSubscribe(package_id)
    requested: list[Package] = [catalog.packages[package_id] for package_id in package_ids]
    for package in requested:
        if package.status is not PackageStatus.PUBLISHED:
            raise SubscriptionError(f"Package {package.id} is not published")

    held_bases = [p for s in live if (p := catalog.packages.get(s.package_id)) is not None and not p.is_addon]
    new_bases = {p.id: p for p in requested if not p.is_addon and p.id not in held_by_package}
    if len(held_bases) + len(new_bases) > 1:
        raise SubscriptionError(MULTIPLE_TIERS)
    bases = held_bases + list(new_bases.values())
    for package in requested:
        if not package.is_addon:
            continue
        if not bases:
            raise SubscriptionError(ADDON_WITHOUT_TIER)
        base = bases[0]
        if package.base_packages and base.id not in package.base_packages:
            raise SubscriptionError(f"Add-on {package.id} is not available for package {base.id}")

    steps: list[SubscribeStep] = []
    seen: dict[str, SubscribeStep] = {}
    for package in requested:
        if package.id in seen:
            steps.append(seen[package.id])  # a repeated id in one call counts once
            continue
        step = SubscribeStep(package, held_by_package.get(package.id))
        seen[package.id] = step
        steps.append(step)
    return steps
