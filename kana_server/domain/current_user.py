"""What the Client API's `currentUser` shows a user: its live packages and the winning entitlements.

Pure: the caller supplies the user's subscriptions, the catalog and the decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kana_server.domain.entitlements import Decision
from kana_server.domain.model import Catalog, Feature, Package, Subscription, User


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """A user, the packages it is subscribed to, and one decision per feature of those packages."""

    user: User
    packages: tuple[Package, ...]
    features: Mapping[str, Feature]
    decisions: Mapping[str, Decision]

    def package_features(self, package: Package) -> list[tuple[Feature, Decision]]:
        """A package's features, each with the user's *winning* decision for it (D42)."""
        return [
            (self.features[f.feature_id], self.decisions[f.feature_id])
            for f in package.features
            if f.feature_id in self.features and f.feature_id in self.decisions
        ]


def subscribed_packages(subscriptions: list[Subscription], catalog: Catalog) -> tuple[Package, ...]:
    """The packages of the live subscriptions, oldest subscription first, each once (D42).

    An add-on is listed even while the user has no live base package: the user is subscribed to it,
    but it grants nothing then (D6), which its features' decisions show.
    """
    packages: dict[str, Package] = {}
    for subscription in subscriptions:
        package = catalog.packages.get(subscription.package_id)
        if subscription.is_live and package is not None:
            packages.setdefault(package.id, package)
    return tuple(packages.values())


def feature_ids_of(packages: tuple[Package, ...], catalog: Catalog) -> list[str]:
    """The features held by some of the packages, each once, in the order they first appear."""
    seen: dict[str, None] = {}
    for package in packages:
        for entry in package.features:
            if entry.feature_id in catalog.features:
                seen.setdefault(entry.feature_id, None)
    return list(seen)
