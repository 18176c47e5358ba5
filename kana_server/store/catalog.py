"""SQL for the catalog: features, packages (with their features, prices, allowed bases), billing templates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from kana_server.domain.model import (
    BillingTemplate,
    Catalog,
    Feature,
    FeatureType,
    JSONValue,
    Package,
    PackageFeature,
    PackageStatus,
    Price,
    ResetPeriod,
)
from kana_server.store import statements
from kana_server.store.scoped import (
    ADDON_BASES,
    BILLING_TEMPLATES,
    FEATURES,
    PACKAGE_FEATURES,
    PACKAGE_PRICES,
    PACKAGES,
    PROJECTS,
    Scoped,
)


@dataclass(frozen=True)
class CatalogSnapshot:
    """A project's catalog at one version, with the surrogate keys the store needs."""

    version: int
    catalog: Catalog
    feature_pks: dict[str, int] = field(default_factory=dict)
    package_pks: dict[str, int] = field(default_factory=dict)


class CatalogStore(Scoped):
    """Catalog reads and writes inside one transaction."""

    async def catalog_version(self) -> int:
        """The project's current catalog version (bumped by every catalog write)."""
        result = await self.run(statements.CATALOG_VERSION, {"project_id": self.project_id})
        return int(result.scalar_one())

    async def bump_catalog_version(self) -> None:
        """Mark the catalog changed so every process reloads it."""
        await self.conn.execute(
            update(PROJECTS)
            .where(PROJECTS.c.id == self.project_id)
            .values(catalog_version=PROJECTS.c.catalog_version + 1)
        )

    async def load_catalog(self, version: int) -> CatalogSnapshot:
        """Read the whole catalog (it is small and changes rarely; callers cache it by version)."""
        pid = self.project_id
        feature_rows = (
            await self.conn.execute(
                select(FEATURES).where(FEATURES.c.project_id == pid).order_by(FEATURES.c.pk)
            )
        ).all()
        package_rows = (
            await self.conn.execute(
                select(PACKAGES).where(PACKAGES.c.project_id == pid).order_by(PACKAGES.c.pk)
            )
        ).all()
        entitlement_rows = (
            await self.conn.execute(
                select(PACKAGE_FEATURES)
                .where(PACKAGE_FEATURES.c.project_id == pid)
                .order_by(PACKAGE_FEATURES.c.package_pk, PACKAGE_FEATURES.c.position)
            )
        ).all()
        price_rows = (
            await self.conn.execute(
                select(PACKAGE_PRICES)
                .where(PACKAGE_PRICES.c.project_id == pid)
                .order_by(PACKAGE_PRICES.c.package_pk, PACKAGE_PRICES.c.position)
            )
        ).all()
        base_rows = (
            await self.conn.execute(select(ADDON_BASES).where(ADDON_BASES.c.project_id == pid))
        ).all()
        template_rows = (
            await self.conn.execute(
                select(BILLING_TEMPLATES)
                .where(BILLING_TEMPLATES.c.project_id == pid)
                .order_by(BILLING_TEMPLATES.c.pk)
            )
        ).all()

        feature_ids = {r.pk: r.id for r in feature_rows}
        package_ids = {r.pk: r.id for r in package_rows}
        features = {
            r.id: Feature(
                id=r.id,
                name=r.name,
                type=FeatureType(r.type),
                unit_label=r.unit_label,
                unit_label_plural=r.unit_label_plural,
                metadata=r.metadata,
            )
            for r in feature_rows
        }
        entitlements: dict[int, list[PackageFeature]] = defaultdict(list)
        for r in entitlement_rows:
            entitlements[r.package_pk].append(
                PackageFeature(
                    feature_id=feature_ids[r.feature_pk],
                    limit=r.limit,
                    reset_period=ResetPeriod(r.reset_period) if r.reset_period else None,
                    overage_enabled=r.overage_enabled,
                )
            )
        prices: dict[int, list[Price]] = defaultdict(list)
        for r in price_rows:
            prices[r.package_pk].append(
                Price(r.id, r.provider, r.amount, r.display_amount, r.currency, r.interval)
            )
        bases: dict[int, set[str]] = defaultdict(set)
        for r in base_rows:
            bases[r.addon_pk].add(package_ids[r.base_pk])
        packages = {
            r.id: Package(
                id=r.id,
                name=r.name,
                is_addon=r.is_addon,
                status=PackageStatus(r.status),
                updated_at=r.updated_at,
                metadata=r.metadata,
                features=tuple(entitlements[r.pk]),
                prices=tuple(prices[r.pk]),
                base_packages=frozenset(bases[r.pk]),
            )
            for r in package_rows
        }
        templates = {
            r.id: BillingTemplate(r.id, package_ids[r.package_pk], r.price_id) for r in template_rows
        }
        return CatalogSnapshot(
            version=version,
            catalog=Catalog(features=features, packages=packages, billing_templates=templates),
            feature_pks={r.id: r.pk for r in feature_rows},
            package_pks={r.id: r.pk for r in package_rows},
        )

    async def insert_feature(self, feature: Feature, snapshot: CatalogSnapshot, now: datetime) -> None:
        """Add a feature (and its key to the snapshot, so packages saved next can use it)."""
        result = await self.conn.execute(
            insert(FEATURES)
            .values(
                project_id=self.project_id,
                id=feature.id,
                name=feature.name,
                type=feature.type.value,
                unit_label=feature.unit_label,
                unit_label_plural=feature.unit_label_plural,
                metadata=feature.metadata,
                created_at=now,
            )
            .returning(FEATURES.c.pk)
        )
        snapshot.feature_pks[feature.id] = int(result.scalar_one())
        await self.bump_catalog_version()

    async def update_feature(self, feature: Feature) -> None:
        """Change a feature's name, unit labels and metadata (never its type)."""
        await self.conn.execute(
            update(FEATURES)
            .where(FEATURES.c.project_id == self.project_id, FEATURES.c.id == feature.id)
            .values(
                name=feature.name,
                unit_label=feature.unit_label,
                unit_label_plural=feature.unit_label_plural,
                metadata=feature.metadata,
            )
        )
        await self.bump_catalog_version()

    async def save_package(self, package: Package, snapshot: CatalogSnapshot, now: datetime) -> None:
        """Create a package or replace a draft's contents, with its features, prices and allowed bases."""
        pk = snapshot.package_pks.get(package.id)
        values = {
            "name": package.name,
            "is_addon": package.is_addon,
            "status": package.status.value,
            "metadata": package.metadata,
            "updated_at": package.updated_at,
        }
        if pk is None:
            result = await self.conn.execute(
                insert(PACKAGES)
                .values(project_id=self.project_id, id=package.id, created_at=now, **values)
                .returning(PACKAGES.c.pk)
            )
            pk = int(result.scalar_one())
            snapshot.package_pks[package.id] = pk
        else:
            await self.conn.execute(update(PACKAGES).where(PACKAGES.c.pk == pk).values(**values))
            for child, column in (
                (PACKAGE_FEATURES, PACKAGE_FEATURES.c.package_pk),
                (PACKAGE_PRICES, PACKAGE_PRICES.c.package_pk),
                (ADDON_BASES, ADDON_BASES.c.addon_pk),
            ):
                await self.conn.execute(delete(child).where(column == pk))
        if package.features:
            await self.conn.execute(
                insert(PACKAGE_FEATURES),
                [
                    {
                        "package_pk": pk,
                        "feature_pk": snapshot.feature_pks[f.feature_id],
                        "project_id": self.project_id,
                        "limit": f.limit,
                        "reset_period": f.reset_period.value if f.reset_period else None,
                        "overage_enabled": f.overage_enabled,
                        "position": position,
                    }
                    for position, f in enumerate(package.features)
                ],
            )
        if package.prices:
            await self.conn.execute(
                insert(PACKAGE_PRICES),
                [
                    {
                        "package_pk": pk,
                        "id": p.id,
                        "project_id": self.project_id,
                        "provider": p.provider,
                        "amount": p.amount,
                        "display_amount": p.display_amount,
                        "currency": p.currency,
                        "interval": p.interval,
                        "position": position,
                    }
                    for position, p in enumerate(package.prices)
                ],
            )
        if package.base_packages:
            await self.conn.execute(
                insert(ADDON_BASES),
                [
                    {"addon_pk": pk, "base_pk": snapshot.package_pks[base], "project_id": self.project_id}
                    for base in sorted(package.base_packages)
                ],
            )
        await self.bump_catalog_version()

    async def update_package(
        self, package_id: str, *, metadata: JSONValue, status: PackageStatus, updated_at: datetime
    ) -> None:
        """Change what may change on any package: its metadata and its status."""
        await self.conn.execute(
            update(PACKAGES)
            .where(PACKAGES.c.project_id == self.project_id, PACKAGES.c.id == package_id)
            .values(metadata=metadata, status=status.value, updated_at=updated_at)
        )
        await self.bump_catalog_version()

    async def save_billing_template(self, template: BillingTemplate, snapshot: CatalogSnapshot) -> None:
        """Create or replace a billing template."""
        await self.conn.execute(
            delete(BILLING_TEMPLATES).where(
                BILLING_TEMPLATES.c.project_id == self.project_id, BILLING_TEMPLATES.c.id == template.id
            )
        )
        await self.conn.execute(
            insert(BILLING_TEMPLATES).values(
                project_id=self.project_id,
                id=template.id,
                package_pk=snapshot.package_pks[template.package_id],
                price_id=template.price_id,
            )
        )
        await self.bump_catalog_version()
