"""The Kana CLI's own checks (for `kana-server validate`) agree with what the CLI does (tests/kana_cli.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kana_server.domain.cli_checks import kana_cli_checks
from tests.kana import fixture
from tests.kana_cli import CliStop, local_checks

GOOD = fixture("cli/kana.dev.yaml")


def changed(edit: Any) -> dict[str, Any]:
    document = copy.deepcopy(GOOD)
    edit(document)
    return document


CASES = {
    "good": changed(lambda d: None),
    "no features": changed(lambda d: d.update(features=[])),
    "duplicate feature": changed(lambda d: d["features"].append(dict(d["features"][0]))),
    "no packages section": changed(lambda d: d.pop("packages")),
    "no packages": changed(lambda d: d.update(packages={"draft": None, "published": []})),
    "duplicate package": changed(
        lambda d: d["packages"]["draft"].append(dict(d["packages"]["published"][0]))
    ),
    "package without features": changed(lambda d: d["packages"]["published"][0].update(features=[])),
    "consumable without limit": changed(lambda d: d["packages"]["published"][0]["features"][0].pop("limit")),
    "consumable limit text": changed(
        lambda d: d["packages"]["published"][0]["features"][0].update(limit="lots")
    ),
    "consumable limit as digits": changed(
        lambda d: d["packages"]["published"][0]["features"][0].update(limit="10")
    ),
    "binary without limit": changed(lambda d: d["packages"]["published"][0]["features"][1].pop("limit")),
    "bad reset period": changed(
        lambda d: d["packages"]["draft"][0]["features"][0].update(reset_period="WEEK")
    ),
    "add-ons are not checked": changed(lambda d: d["addons"]["published"][0].update(features=[])),
}


@pytest.mark.parametrize("name", CASES)
def test_the_checks_fail_exactly_when_the_cli_stops_with_the_same_message(name: str) -> None:
    document = CASES[name]
    failed = kana_cli_checks(copy.deepcopy(document))
    stopped: str | None = None
    try:
        local_checks(copy.deepcopy(document))
    except CliStop as stop:
        stopped = str(stop)
    if stopped is None:
        assert failed == [], name
    else:
        assert failed, name
        if name != "no packages section":  # the CLI crashes with a TypeError; we explain it instead
            assert failed[0].message == stopped


def test_every_failure_is_reported_with_its_entry() -> None:
    document = changed(
        lambda d: (
            d["packages"]["published"][0]["features"][0].pop("limit"),
            d["packages"]["draft"][0]["features"][0].update(reset_period="WEEK"),
        )
    )
    assert [(c.path, c.message[:30]) for c in kana_cli_checks(document)] == [
        (("packages", "draft", 0, "features", 0), "package feature reset periods "),
        (("packages", "published", 0, "features", 0), 'all package features of "CONSU'),
    ]
