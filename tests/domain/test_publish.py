"""plan_publish: the diff `/cli/validate` reports and `/cli/publish` applies (D16), as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from kana_server.domain.config import KanaConfig, parse_config
from kana_server.domain.model import Catalog, PackageStatus
from kana_server.domain.publish import PublishPlan, plan_publish
from kana_server.domain.state import catalog_document
from tests.kana import FIXTURES, fixture

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FIRST_MESSAGES = yaml.safe_load((FIXTURES / "cli" / "kana.dev.messages.yaml").read_text(encoding="utf-8"))


def config(data: dict[str, Any]) -> KanaConfig:
    return parse_config(data, "test")


def published(data: dict[str, Any], catalog: Catalog | None = None) -> Catalog:
    """The catalog after publishing `data` onto `catalog` (which must succeed)."""
    base = catalog or Catalog()
    plan = plan_publish(config(data), base, NOW)
    assert plan.errors == [], plan.messages
    features = dict(base.features) | {f.id: f for f in plan.features}
    packages = dict(base.packages) | {p.id: p for p in plan.packages}
    templates = dict(base.billing_templates) | {t.id: t for t in plan.billing_templates}
    return Catalog(features, packages, templates)


def plan_for(data: dict[str, Any], catalog: Catalog) -> PublishPlan:
    return plan_publish(config(data), catalog, NOW)


@pytest.fixture
def start() -> dict[str, Any]:
    return fixture("cli/kana.dev.yaml")


def test_an_empty_server_gets_everything_as_information(start: dict[str, Any]) -> None:
    plan = plan_for(start, Catalog())
    assert plan.messages == FIRST_MESSAGES
    assert [(p.id, p.status, p.is_addon) for p in plan.packages] == [
        ("team", PackageStatus.DRAFT, False),
        ("basic", PackageStatus.PUBLISHED, False),
        ("pro", PackageStatus.PUBLISHED, False),
        ("extra-calls", PackageStatus.PUBLISHED, True),
    ]
    assert plan.packages[3].base_packages == {"basic"}


def test_the_same_file_again_reports_nothing(start: dict[str, Any]) -> None:
    assert plan_for(start, published(start)).messages == []


def test_what_pull_answers_validates_as_nothing(start: dict[str, Any]) -> None:
    catalog = published(start)
    assert plan_for(catalog_document(catalog, "Acme"), catalog).messages == []


def test_normalising_missing_overage_binary_limits_feature_order_and_missing_limit(
    start: dict[str, Any],
) -> None:
    catalog = published(start)
    basic = start["packages"]["published"][0]
    basic["features"] = [
        {"id": "dashboard", "limit": 42, "overage_enabled": True},  # ignored on a binary feature
        {"id": "api-calls", "limit": 1000, "reset_period": "MONTH"},  # overage_enabled missing: false
    ]
    pro = start["packages"]["published"][1]
    del pro["features"][1]["limit"]  # seats: no limit means unlimited
    assert plan_for(start, catalog).messages == []


def test_changing_a_published_package_is_an_error_that_says_what_changed(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["packages"]["published"][0]["features"][0]["limit"] = 2000
    start["packages"]["published"][0]["features"].append({"id": "seats", "limit": 3, "reset_period": "DAY"})
    start["packages"]["published"][0]["name"] = "Basic plan"
    plan = plan_for(start, catalog)
    assert plan.messages == [
        '[ERROR] Package basic is PUBLISHED and cannot be changed: name "Basic" → "Basic plan"; '
        "api-calls: limit 1000 → 2000; adds seats (limit 3, DAY)"
    ]
    assert plan.packages == []


def test_a_published_package_cannot_go_back_to_draft(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["packages"]["draft"].append(start["packages"]["published"].pop(0))
    assert plan_for(start, catalog).errors == [
        "[ERROR] Package basic is PUBLISHED and cannot go back to DRAFT"
    ]


def test_a_feature_type_cannot_change(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["features"][2]["type"] = "CONSUMABLE"
    assert plan_for(start, catalog).errors == [
        "[ERROR] Feature dashboard: type cannot change from BINARY to CONSUMABLE"
    ]


def test_a_draft_changes_and_is_published_with_its_changes_listed(start: dict[str, Any]) -> None:
    catalog = published(start)
    team = start["packages"]["draft"].pop(0)
    team["features"][0]["overage_enabled"] = True
    team["features"].append({"id": "dashboard"})
    start["packages"]["published"].append(team)
    plan = plan_for(start, catalog)
    assert plan.messages == [
        "Package team will be published with changes: api-calls: overage_enabled false → true; adds dashboard"
    ]
    assert plan.packages[0].status is PackageStatus.PUBLISHED


def test_a_draft_updated_in_place(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["packages"]["draft"][0]["features"][0]["limit"] = None
    assert plan_for(start, catalog).messages == [
        "Package team (DRAFT) will be updated: api-calls: limit 20000 → unlimited"
    ]


def test_feature_changes_are_listed(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["features"][0] |= {"name": "Requests", "unit_label": "request"}
    assert plan_for(start, catalog).messages == [
        'Feature api-calls will be updated: name "API Calls" → "Requests"; unit_label null → "request"'
    ]


def test_sections_absent_from_the_file_and_server_only_entries_are_left_alone(start: dict[str, Any]) -> None:
    catalog = published(start)
    # What the Kana CLI writes back: no addons, no app, only some of the packages.
    trimmed = {"version": "1.0.0", "features": start["features"][:1], "packages": {"published": []}}
    plan = plan_for(trimmed, catalog)
    assert plan.messages == []
    assert plan.packages == []
    assert plan.features == []


def test_add_on_base_packages_must_name_base_packages(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["addons"]["draft"] = [
        {"id": "late", "base_packages": ["extra-calls", "nowhere"], "features": [{"id": "dashboard"}]}
    ]
    start["packages"]["published"][0]["base_packages"] = ["pro"]
    assert plan_for(start, catalog).errors == [
        "[ERROR] Package basic is not an add-on but lists base_packages",
        "[ERROR] Add-on late lists extra-calls in base_packages, which is not a base package",
        "[ERROR] Add-on late lists nowhere in base_packages, which is not a base package",
    ]


def test_changing_the_bases_of_a_published_add_on_is_an_error(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["addons"]["published"][0]["base_packages"] = ["basic", "pro"]
    assert plan_for(start, catalog).errors == [
        "[ERROR] Add-on extra-calls is PUBLISHED and cannot be changed: base_packages [basic] → [basic, pro]"
    ]


def test_unknown_features_duplicates_and_empty_packages_are_errors() -> None:
    data = {
        "features": [{"id": "a", "type": "BINARY"}, {"id": "a", "type": "BINARY"}],
        "packages": {
            "published": [
                {"id": "p", "features": [{"id": "ghost"}, {"id": "a"}, {"id": "a"}]},
                {"id": "p", "features": []},
            ]
        },
        "addons": {"published": [{"id": "x", "features": None}]},
    }
    assert plan_for(data, Catalog()).errors == [
        "[ERROR] Duplicate feature id a",
        "[ERROR] Duplicate package id p",
        "[ERROR] Package p lists feature a twice",
        "[ERROR] Package p refers to unknown feature ghost",
        "[ERROR] Package p must contain at least one feature",
        "[ERROR] Add-on x must contain at least one feature",
    ]


def test_ids_follow_d9() -> None:
    data = {"features": [{"id": "bad\nid", "type": "BINARY"}, {"id": "x" * 256, "type": "BINARY"}]}
    errors = plan_for(data, Catalog()).errors
    assert len(errors) == 2
    assert "control characters" in errors[0]
    assert "at most 255" in errors[1]


def test_archived_section_archives_and_archived_packages_stay_archived(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["packages"]["archived"] = [start["packages"]["published"].pop(0)]
    plan = plan_for(start, catalog)
    assert plan.messages == ["Package basic will be archived"]
    archived = published(start, catalog)
    assert archived.packages["basic"].status is PackageStatus.ARCHIVED
    start["packages"]["published"].append(start["packages"]["archived"].pop())
    assert plan_for(start, archived).errors == [
        "[ERROR] Package basic is ARCHIVED and cannot be published again"
    ]


def test_a_billing_template_may_use_a_price_added_in_the_same_file(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["packages"]["draft"][0]["name"] = "Team"  # unchanged
    start["prices"] = {"team": [{"id": "price_team", "amount": 9900, "currency": "usd", "interval": "month"}]}
    start["billing_templates"] = [{"id": "team-monthly", "package": "team", "price": "price_team"}]
    plan = plan_for(start, catalog)
    assert plan.errors == []
    assert plan.messages == [
        "Package team (DRAFT) will be updated: prices [] → [price_team 99.00 usd/month]",
        "Billing template team-monthly will be saved: team",
    ]
    assert plan.packages[0].prices[0].display_amount == "99.00"


def test_duplicate_prices_and_unknown_template_prices_are_errors(start: dict[str, Any]) -> None:
    price = {"id": "p1", "amount": 100, "currency": "usd"}
    start["prices"] = {"team": [price, price], "ghost": [price]}
    start["billing_templates"] = [
        {"id": "t", "package": "team", "price": "p2"},
        {"id": "t", "package": "nowhere"},
    ]
    assert plan_for(start, Catalog()).errors == [
        "[ERROR] Package team lists price p1 twice",
        "[ERROR] Prices given for unknown package ghost",
        "[ERROR] Duplicate billing template id t",
        "[ERROR] Billing template t refers to price p2, which package team does not have",
        "[ERROR] Billing template t refers to unknown package nowhere",
    ]


def test_a_consumable_that_never_resets_is_warned_about_when_it_changes(start: dict[str, Any]) -> None:
    del start["packages"]["draft"][0]["features"][0]["reset_period"]
    plan = plan_for(start, Catalog())
    assert "[WARNING] Package team: api-calls has no reset_period, so its usage never resets" in plan.messages
    assert plan.errors == []
    # Once published, the same file reports nothing: warnings come only with changes.
    assert plan_for(start, published(start)).messages == []


def test_messages_carry_the_path_of_their_entry(start: dict[str, Any]) -> None:
    catalog = published(start)
    start["addons"]["published"][0]["features"][0]["limit"] = 1
    plan = plan_for(start, catalog)
    assert [(n.text[:7], n.path) for n in plan.notes] == [("[ERROR]", ("addons", "published", 0))]
