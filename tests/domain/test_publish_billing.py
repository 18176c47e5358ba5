"""Prices and billing templates in a config (seed) file: how they are planned and checked (D77)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from kana_server.domain.config import KanaConfig
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
from kana_server.domain.publish import display_amount, plan_publish

NOW = datetime(2026, 1, 31, tzinfo=UTC)
FEATURE = Feature("f", "F", FeatureType.BINARY)


def config(text: str) -> KanaConfig:
    """A config from YAML, with one feature and one published package `p` unless the text has its own."""
    data: dict[str, Any] = {
        "features": [{"id": "f", "type": "BINARY"}],
        "packages": {"published": [{"id": "p", "features": [{"id": "f"}]}]},
    }
    data.update(yaml.safe_load(text) or {})
    return KanaConfig.model_validate(data)


def test_display_amount_is_minor_units_with_two_decimals() -> None:
    assert [display_amount(a) for a in (0, 5, 99, 100, 5000, 123456)] == [
        "0.00",
        "0.05",
        "0.99",
        "1.00",
        "50.00",
        "1234.56",
    ]


def test_prices_and_templates_are_planned_with_the_package() -> None:
    plan = plan_publish(
        config(
            "prices: { p: [{ id: pr, amount: 5000, currency: gbp, interval: month }] }\n"
            "billing_templates: [{ id: t, package: p, price: pr }]"
        ),
        Catalog(),
        NOW,
    )
    assert plan.errors == []
    assert plan.packages[0].prices == (Price("pr", "STRIPE", 5000, "50.00", "gbp", "month"),)
    assert plan.billing_templates == [BillingTemplate("t", "p", "pr")]
    assert "Billing template t will be saved" in plan.messages


def test_an_unchanged_template_is_not_reported() -> None:
    price = Price("pr", "STRIPE", 5000, "50.00", "gbp", "month")
    catalog = Catalog(
        features={"f": FEATURE},
        packages={"p": Package("p", "p", False, PackageStatus.PUBLISHED, NOW, prices=(price,))},
        billing_templates={"t": BillingTemplate("t", "p", "pr")},
    )
    text = "billing_templates: [{ id: t, package: p, price: pr }]\npackages: null"
    plan = plan_publish(config(text), catalog, NOW)
    assert plan.messages == []


def test_a_template_sees_the_prices_the_file_gives_a_draft() -> None:
    draft = Package(
        "d", "d", False, PackageStatus.DRAFT, NOW, prices=(Price("old", "STRIPE", 1, "0.01", "gbp"),)
    )
    catalog = Catalog(features={"f": FEATURE}, packages={"d": draft})
    plan = plan_publish(
        config(
            "packages: { draft: [{ id: d, features: [{ id: f }] }] }\n"
            "prices: { d: [{ id: new, amount: 2, currency: gbp }] }\n"
            "billing_templates: [{ id: t, package: d, price: new }]"
        ),
        catalog,
        NOW,
    )
    assert plan.errors == []
    assert plan.billing_templates == [BillingTemplate("t", "d", "new")]


def test_template_and_price_problems_are_errors() -> None:
    plan = plan_publish(
        config(
            "prices: { p: [{ id: a, amount: 1, currency: gbp }, { id: a, amount: 2, currency: gbp }] }\n"
            "billing_templates:\n"
            "  - { id: dup, package: p, price: a }\n"
            "  - { id: dup, package: p, price: a }\n"
            "  - { id: other, package: p, price: b }\n"
            "  - { id: lost, package: q, price: a }\n"
        ),
        Catalog(),
        NOW,
    )
    assert plan.errors == [
        "[ERROR] Package p lists price a twice",
        "[ERROR] Duplicate billing template id dup",
        "[ERROR] Billing template other refers to price b, which package p does not have",
        "[ERROR] Billing template lost refers to unknown package q",
    ]


def test_a_template_without_a_price_sells_the_package_alone() -> None:
    plan = plan_publish(config("billing_templates: [{ id: t, package: p }]"), Catalog(), NOW)
    assert plan.errors == []
    assert plan.billing_templates == [BillingTemplate("t", "p", None)]


def test_prices_of_a_package_outside_the_file_may_only_repeat_the_servers() -> None:
    price = Price("pr", "STRIPE", 5000, "50.00", "gbp", "month")
    catalog = Catalog(
        features={"f": FEATURE},
        packages={"p": Package("p", "p", False, PackageStatus.PUBLISHED, NOW, prices=(price,))},
    )
    same = "packages: null\nprices: { p: [{ id: pr, amount: 5000, currency: gbp, interval: month }] }"
    assert plan_publish(config(same), catalog, NOW).errors == []
    changed = "packages: null\nprices: { p: [{ id: pr, amount: 6000, currency: gbp, interval: month }] }"
    assert plan_publish(config(changed), catalog, NOW).errors == [
        "[ERROR] Prices of package p can only change with its entry in packages or addons"
    ]


def test_changing_the_prices_of_a_published_package_is_an_error() -> None:
    price = Price("pr", "STRIPE", 5000, "50.00", "gbp", "month")
    published = Package(
        "p", "p", False, PackageStatus.PUBLISHED, NOW, features=(PackageFeature("f"),), prices=(price,)
    )
    catalog = Catalog(features={"f": FEATURE}, packages={"p": published})
    same = "prices: { p: [{ id: pr, amount: 5000, currency: gbp, interval: month }] }"
    assert plan_publish(config(same), catalog, NOW).messages == []
    changed = plan_publish(config("prices: { p: [{ id: pr, amount: 1, currency: gbp }] }"), catalog, NOW)
    assert changed.errors == ["[ERROR] Package p is PUBLISHED and cannot be changed"]
