"""A stand-in for the Kana CLI (usekana/cli 0.1.0, `kana validate|publish|pull`), request for request.

The real CLI is not on the npm registry, so this client does what its source does
(src/commands/*.ts, src/api/index.ts, src/utils.js/*.ts), step by step:
- it reads `kana/kana.dev.yaml` and runs the CLI's own checks (utils.js/validation.ts) before any call;
- it sends `POST {KANA_DEV_URL}/validate` and `/publish` with `Content-Type: application/json`,
  `Authorization: <key>` (raw) and the parsed file as the JSON body, `GET .../pull` with the same headers;
- it reads the answers as the CLI does: validate's `data` list (whatever the status), a publish or pull
  status above 399 as a failure (the CLI prints only the status text), otherwise the config JSON, which
  it writes back to the file through `cleanConfig` and `parseYaml`.
What the CLI prints is collected in `printed` (ora's symbols: ✔ succeed, ✖ fail, ⚠ warn, ℹ info).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import yaml

from kana_server.domain.cli_checks import js_is_nan

UNDEFINED = object()
"""JavaScript's `undefined`: a key set to it is left out of JSON and YAML."""


class CliStop(Exception):
    """What the CLI `throw`s (a string), printed as `✖ [ERROR]: <message>`."""


def _without_undefined(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not UNDEFINED}


def local_checks(config: dict[str, Any]) -> list[str]:
    """validate.ts's checks, in order; like the CLI, it sets missing `draft`/`published` to []."""
    passed: list[str] = []
    if not config.get("features"):
        raise CliStop("your setup must contain at least one feature!")
    passed.append("Config contains at least one feature.")
    ids = [f.get("id") for f in config["features"]]
    if len(ids) > len(set(map(json.dumps, ids))):
        raise CliStop("duplicate feature IDs are not allowed!")
    passed.append("All feature IDs are unique.")
    if not isinstance(config.get("packages"), dict):
        # `config.packages.draft = ...` on undefined: a TypeError, which the CLI prints.
        raise CliStop("TypeError: Cannot set properties of undefined (setting 'draft')")
    packages_section = config["packages"]
    packages_section["draft"] = packages_section.get("draft") or []
    packages_section["published"] = packages_section.get("published") or []
    packages = [*packages_section["draft"], *packages_section["published"]]
    if not packages:
        raise CliStop("your setup must contain at least one package!")
    passed.append("Config contains at least one package.")
    package_ids = [p.get("id") for p in packages]
    if len(set(map(json.dumps, package_ids))) < len(package_ids):
        raise CliStop("all package IDs must be unique!")
    passed.append("All package IDs are unique")
    if any(not p.get("features") for p in packages):
        raise CliStop("all packages must link to at least one feature!")
    passed.append("All packages contain at least one feature")
    types: dict[Any, Any] = {}
    for feature in config["features"]:
        types.setdefault(feature.get("id"), feature.get("type"))
    for package in packages:
        for item in package["features"]:
            limit = item.get("limit", UNDEFINED)
            if types.get(item.get("id")) == "CONSUMABLE" and limit is not None and js_is_nan(limit):
                raise CliStop(
                    'all package features of "CONSUMABLE" type must be defined with null or a '
                    "positive numeric value"
                )
    passed.append("All package features link to an existing feature.")
    for package in packages:
        for item in package["features"]:
            period = item.get("reset_period")
            if period and period not in ("DAY", "MONTH", "YEAR"):
                raise CliStop('package feature reset periods must be "DAY", "MONTH", or "YEAR"!')
    passed.append("All packages feature reset periods are valid")
    return passed


def clean_config(data: dict[str, Any]) -> dict[str, Any]:
    """utils.js cleanConfig: limits only on consumables, `overage_enabled` only when truthy."""
    types: dict[Any, Any] = {}
    for feature in data["features"]:
        types.setdefault(feature.get("id"), feature.get("type"))
    for status in ("draft", "published"):
        if data["packages"].get(status):
            data["packages"][status] = [
                {
                    **package,
                    "features": [
                        _without_undefined(
                            {
                                **item,
                                "limit": item.get("limit", UNDEFINED)
                                if types.get(item["id"]) == "CONSUMABLE"
                                else UNDEFINED,
                                "overage_enabled": item["overage_enabled"]
                                if item.get("overage_enabled")
                                else UNDEFINED,
                            }
                        )
                        for item in package["features"]
                    ],
                }
                for package in data["packages"][status]
            ]
    return data


class _IndentedDumper(yaml.SafeDumper):
    """Indents sequences inside mappings, as the `yaml` package does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _stringify(value: dict[str, Any]) -> str:
    """`YAML.stringify` (block style, keys in order, sequences indented)."""
    return yaml.dump(
        value, Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def parse_yaml(data: dict[str, Any], updated: str = "Wed Nov 25 2026 09:00:00 GMT+0000") -> str:
    """utils.js parseYaml: the header, `app` as a comment, then only `features` and `packages`."""
    header = f"version: 1.0.0\n  \n# Updated: {updated}\n\n# PROJECT: {data.get('app', 'undefined')}\n"
    return (
        header
        + "\n# FEATURES\n"
        + _stringify({"features": data["features"]})
        + "\n# PACKAGES\n"
        + _stringify({"packages": data["packages"]})
    )


@dataclass
class KanaCli:
    """`kana validate|publish|pull` in a project folder, against a server (KANA_DEV_URL, KANA_DEV_KEY)."""

    http: httpx.AsyncClient
    key: str
    folder: Path
    root: str = "/cli"  # KANA_DEV_URL's path: the client's base_url is the server
    printed: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def file(self) -> Path:
        """kana/kana.dev.yaml."""
        return self.folder / "kana" / "kana.dev.yaml"

    def write(self, text: str) -> None:
        """Put a kana.dev.yaml in place (what the user edits)."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text(text, encoding="utf-8")

    def read(self) -> Any:
        """readKanaFile: `YAML.parse` of the file."""
        return yaml.safe_load(self.file.read_text(encoding="utf-8"))

    def _print(self, symbol: str, text: str) -> None:
        self.printed.append(f"{symbol} {text}")

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": self.key}

    async def _send(self, method: str, route: str, body: Any = None) -> httpx.Response:
        content = None if body is None else json.dumps(body)
        request = self.http.build_request(
            method, f"{self.root}/{route}", headers=self._headers(), content=content
        )
        self.requests.append(request)
        return await self.http.send(request)

    async def validate_file(self, config: Any) -> dict[str, Any]:
        """commands/validate.ts: the local checks, then `POST /validate`; prints each message."""
        try:
            for line in local_checks(config):
                self._print("✔", line)
            response = await self._send("POST", "validate", config)
            result = response.json()  # the status is not looked at
            data = result["data"]
            for message in data:
                if "[ERROR]" in message:
                    self._print("✖", message)
                elif "[WARNING]" in message:
                    self._print("⚠", message)
                else:
                    self._print("ℹ", message)
            if len(data) == 0:
                self._print("✔", "The local config file is up to date.")
            return dict(result)
        except (CliStop, KeyError, TypeError, ValueError) as error:
            self._print("✖", f"[ERROR]: {error}")
            return {"error": str(error)}

    async def validate(self) -> dict[str, Any]:
        """`kana validate`."""
        return await self.validate_file(self.read())

    async def publish(self, *, force: bool = False, confirm: bool = True) -> bool:
        """`kana publish [--force]`, answering the confirmation prompt with `confirm`; True if written."""
        config = self.read()
        validation = await self.validate_file(config)
        if "error" in validation or len(validation["data"]) == 0:
            return False
        has_errors = any("[ERROR]" in message for message in validation["data"])
        if (force and has_errors) or (not force and not has_errors):
            proceed = confirm
        elif force:
            proceed = True
        else:
            self._print("ℹ", 'Config validation failed. Review above error(s) or pass in "--force" ("-f")')
            proceed = False
        if not proceed:
            return False
        response = await self._send("POST", "publish", config)
        if response.status_code > 399:
            self._print("✖", f"[ERROR]: {HTTPStatus(response.status_code).phrase}")
            return False
        self.file.write_text(parse_yaml(clean_config(response.json())), encoding="utf-8")
        self._print("✔", "Kana config successfully updated!")
        return True

    async def pull(self) -> bool:
        """`kana pull`: writes the server's config to the file; True if written."""
        response = await self._send("GET", "pull")
        if response.status_code > 399:
            self._print("✖", f"[ERROR]: {HTTPStatus(response.status_code).phrase}")
            return False
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text(parse_yaml(clean_config(response.json())), encoding="utf-8")
        self._print(
            "✔", "Local Kana config successfully synced! Check out your Kana config file at ./kana.yaml"
        )
        return True

    def lines(self, symbol: str) -> list[str]:
        """What was printed with one of ora's symbols."""
        return [line[2:] for line in self.printed if line.startswith(symbol + " ")]
