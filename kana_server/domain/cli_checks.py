"""The checks the Kana CLI runs on kana.yaml before it calls the server (usekana/cli,
src/utils.js/validation.ts), on the parsed file as the CLI sees it, for `kana-server validate`.

The CLI stops at the first failing check; these report every failure, with the entry it is about.
The CLI checks only `features` and `packages` (never `addons`), and JavaScript's rules apply: a
consumable's `limit` must be null or something `isNaN` accepts (a number, or a string of digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kana_server.domain.config import ConfigPath

RESET_PERIODS = ("DAY", "MONTH", "YEAR")
UNDEFINED = object()
"""JavaScript's `undefined`: what the CLI reads for a key that is not there."""


@dataclass(frozen=True, slots=True)
class CliCheck:
    """One failed check: the CLI's own message and the entry it is about."""

    path: ConfigPath
    message: str


def js_is_nan(value: Any) -> bool:
    """JavaScript's isNaN(value) for what YAML can hold (a missing key is `undefined`: NaN)."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value != value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return False
        try:
            float(text)
        except ValueError:
            return True
        return False
    return True


def _key(value: Any) -> str:
    return repr(value)


def kana_cli_checks(data: Any) -> list[CliCheck]:
    """Every check of the Kana CLI that this document fails (empty: the CLI would send it)."""
    if not isinstance(data, dict):
        return [CliCheck((), "your setup must contain at least one feature!")]
    failed: list[CliCheck] = []
    features = data.get("features")
    if not isinstance(features, list) or not features:
        failed.append(CliCheck(("features",), "your setup must contain at least one feature!"))
        features = []
    entries = [f for f in features if isinstance(f, dict)]
    ids = [_key(f.get("id")) for f in entries]
    if len(ids) > len(set(ids)):
        failed.append(CliCheck(("features",), "duplicate feature IDs are not allowed!"))
    section = data.get("packages")
    if not isinstance(section, dict):
        failed.append(
            CliCheck(
                ("packages",), "a packages section is required (the CLI stops with a TypeError without one)"
            )
        )
        return failed
    packages: list[tuple[ConfigPath, Any]] = [
        (("packages", status, index), package)
        for status in ("draft", "published")
        for index, package in enumerate(section.get(status) or [])
    ]
    if not packages:
        failed.append(CliCheck(("packages",), "your setup must contain at least one package!"))
    package_ids = [_key(p.get("id") if isinstance(p, dict) else None) for _, p in packages]
    if len(set(package_ids)) < len(package_ids):
        failed.append(CliCheck(("packages",), "all package IDs must be unique!"))
    types: dict[str, Any] = {}
    for feature in entries:
        types.setdefault(_key(feature.get("id")), feature.get("type"))
    for path, package in packages:
        items = package.get("features") if isinstance(package, dict) else None
        if not isinstance(items, list) or not items:
            failed.append(CliCheck(path, "all packages must link to at least one feature!"))
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            where = (*path, "features", index)
            if types.get(_key(item.get("id"))) == "CONSUMABLE" and js_is_nan(item.get("limit", UNDEFINED)):
                failed.append(
                    CliCheck(
                        where,
                        'all package features of "CONSUMABLE" type must be defined with null or a '
                        "positive numeric value",
                    )
                )
            period = item.get("reset_period")
            if period and period not in RESET_PERIODS:
                failed.append(
                    CliCheck(where, 'package feature reset periods must be "DAY", "MONTH", or "YEAR"!')
                )
    return failed
