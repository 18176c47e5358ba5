"""Features, packages and the config file: create, update, list, publish."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kana_server.domain import publish
from kana_server.domain.config import KanaConfig, PackageFeatureConfig
from kana_server.domain.errors import Conflict, InvalidInput, PackageNotFound, PackageNotModifiable
from kana_server.domain.ids import check_id
from kana_server.domain.model import (
    Catalog,
    Feature,
    FeatureType,
    JSONValue,
    Package,
    PackageFeature,
    PackageStatus,
)
from kana_server.domain.state import catalog_document
from kana_server.services.base import ProjectService, require_feature
from kana_server.store.repository import ProjectStore

ALL_STATUSES = "ALL"


class CatalogService(ProjectService):
    """The project's catalog."""

    async def catalog(self) -> Catalog:
        """The whole catalog (cached by version)."""
        return (await self.read(lambda store: store.snapshot())).catalog

    async def feature(self, feature_id: str) -> Feature:
        """One feature, or FeatureNotFoundError."""
        return require_feature(await self.read(lambda store: store.snapshot()), feature_id)

    async def create_feature(self, feature: Feature) -> Feature:
        """Create a feature; its id must be new."""
        check_id("Feature", feature.id)

        async def work(store: ProjectStore) -> None:
            await store.lock_project()
            snapshot = await store.snapshot()
            if feature.id in snapshot.catalog.features:
                raise Conflict(f'Feature "{feature.id}" already exists')
            await store.insert_feature(feature, snapshot, self.clock.now())

        await self.write(work)
        return feature

    async def update_feature(
        self,
        feature_id: str,
        *,
        name: str | None,
        unit_label: str | None,
        unit_label_plural: str | None,
        metadata: JSONValue,
        given: frozenset[str],
    ) -> Feature:
        """Change the fields given (a feature's type never changes)."""

        async def work(store: ProjectStore) -> Feature:
            await store.lock_project()
            current = require_feature(await store.snapshot(), feature_id)
            changes: dict[str, object] = {}
            if "name" in given:
                if not name:
                    raise InvalidInput("Feature name must not be empty")
                changes["name"] = name
            if "unit_label" in given:
                changes["unit_label"] = unit_label
            if "unit_label_plural" in given:
                changes["unit_label_plural"] = unit_label_plural
            if "metadata" in given:
                changes["metadata"] = metadata
            updated = replace(current, **changes)  # type: ignore[arg-type]
            if updated != current:
                await store.update_feature(updated)
            return updated

        return await self.write(work)

    async def package(self, package_id: str) -> Package:
        """One package, or PackageNotFoundError."""
        check_id("Package", package_id)
        catalog = await self.catalog()
        package = catalog.packages.get(package_id)
        if package is None:
            raise PackageNotFound(package_id)
        return package

    async def packages(self, status: str) -> list[Package]:
        """Packages with a status ("ALL": every package)."""
        wanted = status.upper() if status else ALL_STATUSES
        if wanted != ALL_STATUSES and wanted not in PackageStatus.__members__:
            raise InvalidInput(f'"{status}" is not a package status: use ARCHIVED, DRAFT, PUBLISHED or ALL')
        catalog = await self.catalog()
        return [p for p in catalog.packages.values() if wanted == ALL_STATUSES or p.status.value == wanted]

    async def create_package(
        self,
        package_id: str,
        name: str | None,
        is_addon: bool,
        features: list[PackageFeatureConfig],
        metadata: JSONValue,
    ) -> Package:
        """Create a DRAFT package (Kana publishes only from its dashboard; here: CLI, seed, control plane)."""
        check_id("Package", package_id)
        now = self.clock.now()

        async def work(store: ProjectStore) -> Package:
            await store.lock_project()
            snapshot = await store.snapshot()
            catalog = snapshot.catalog
            if package_id in catalog.packages:
                raise Conflict(f'Package "{package_id}" already exists')
            if not features:
                raise InvalidInput(f"Package {package_id} must contain at least one feature")
            entitlements: list[PackageFeature] = []
            seen: set[str] = set()
            for item in features:
                feature = require_feature(snapshot, item.id)
                if item.id in seen:
                    raise InvalidInput(f"Package {package_id} lists feature {item.id} twice")
                seen.add(item.id)
                if feature.type is FeatureType.BINARY:
                    entitlements.append(PackageFeature(feature_id=item.id))
                else:
                    entitlements.append(
                        PackageFeature(item.id, item.limit, item.reset_period, bool(item.overage_enabled))
                    )
            package = Package(
                id=package_id,
                name=name or package_id,
                is_addon=is_addon,
                status=PackageStatus.DRAFT,
                updated_at=now,
                metadata=metadata,
                features=tuple(entitlements),
            )
            await store.save_package(package, snapshot, now)
            return package

        return await self.write(work)

    async def update_package(self, package_id: str, metadata: JSONValue) -> Package:
        """Change a package's metadata, whatever its status (the only change the API allows, D12)."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> Package:
            package = await self._locked_package(store, package_id)
            await store.update_package(package_id, metadata=metadata, status=package.status, updated_at=now)
            return replace(package, metadata=metadata, updated_at=now)

        return await self.write(work)

    async def set_package_status(self, package_id: str, status: PackageStatus) -> Package:
        """Publish or archive a package ([X] control plane); a package never goes back to DRAFT."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> Package:
            package = await self._locked_package(store, package_id)
            if package.status is status:
                return package
            allowed = {
                PackageStatus.DRAFT: {PackageStatus.PUBLISHED, PackageStatus.ARCHIVED},
                PackageStatus.PUBLISHED: {PackageStatus.ARCHIVED},
                PackageStatus.ARCHIVED: set(),
            }
            if status not in allowed[package.status]:
                raise PackageNotModifiable(
                    f"Package {package_id} is {package.status} and cannot become {status}"
                )
            updated = publish.with_status(package, status, now)
            await store.update_package(package_id, metadata=package.metadata, status=status, updated_at=now)
            return updated

        return await self.write(work)

    @staticmethod
    async def _locked_package(store: ProjectStore, package_id: str) -> Package:
        """A package to change, with its project locked (D64), or PackageNotFoundError."""
        await store.lock_project()
        package = (await store.snapshot()).catalog.packages.get(package_id)
        if package is None:
            raise PackageNotFound(package_id)
        return package

    async def validate_config(self, config: KanaConfig) -> list[publish.PlanMessage]:
        """What publishing a config would change: the `/cli/validate` answer (empty: up to date)."""
        catalog = (await self.read(lambda store: store.snapshot())).catalog
        plan = publish.plan_publish(config, catalog, self.clock.now())
        return publish.cli_route_warnings(config) + plan.notes

    async def publish_config(self, config: KanaConfig) -> PublishOutcome:
        """Apply a config's catalog in one transaction, or nothing when the plan has errors; answers
        the catalog as it is after publishing, in the Kana CLI's format (`/cli/publish`)."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> PublishOutcome:
            await store.lock_project()
            plan = publish.plan_publish(config, (await store.snapshot()).catalog, now)
            messages = [note.text for note in publish.cli_route_warnings(config)] + plan.messages
            if plan.errors:
                return PublishOutcome(messages, plan.errors, None)
            await apply_plan(store, plan, now)
            catalog = (await store.snapshot()).catalog
            return PublishOutcome(messages, [], catalog_document(catalog, await store.project_name()))

        return await self.write(work)

    async def pull_config(self) -> dict[str, Any]:
        """The catalog in the Kana CLI's format (`/cli/pull`)."""

        async def work(store: ProjectStore) -> dict[str, Any]:
            return catalog_document((await store.snapshot()).catalog, await store.project_name())

        return await self.read(work)


@dataclass(frozen=True)
class PublishOutcome:
    """A `/cli/publish`: every message, the errors that stopped it, or the catalog it left."""

    messages: list[str]
    errors: list[str]
    document: dict[str, Any] | None


async def apply_plan(store: ProjectStore, plan: publish.PublishPlan, now: datetime) -> None:
    """Write a publish plan's features, packages (bases before add-ons) and billing templates."""
    snapshot = await store.snapshot()
    for feature in plan.features:
        if feature.id in snapshot.catalog.features:
            await store.update_feature(feature)
        else:
            await store.insert_feature(feature, snapshot, now)
    for package in sorted(plan.packages, key=lambda p: p.is_addon):
        await store.save_package(package, snapshot, now)
    for template in plan.billing_templates:
        await store.save_billing_template(template, snapshot)
