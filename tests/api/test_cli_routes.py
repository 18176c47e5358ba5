"""The Kana CLI against kana-server: `kana validate|publish|pull` as the CLI does them (tests/kana_cli.py),
plus the raw routes for what the CLI never sends (bad keys, bodies that are not configs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.kana import FIXTURES, Api
from tests.kana_cli import KanaCli

START = (FIXTURES / "cli" / "kana.dev.yaml").read_text(encoding="utf-8")
FIRST_MESSAGES = yaml.safe_load((FIXTURES / "cli" / "kana.dev.messages.yaml").read_text(encoding="utf-8"))
PACKAGES = "query { packages { id status isAddon features { id limit } } }"


@pytest.fixture
def cli(http: httpx.AsyncClient, api: Api, tmp_path: Path) -> KanaCli:
    """The Kana CLI in a fresh project folder, with the `api` project's key as KANA_DEV_KEY."""
    tool = KanaCli(http, api.key, tmp_path)
    tool.write(START)
    return tool


async def packages(api: Api) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in (await api.data(PACKAGES))["packages"]}


def edit(cli: KanaCli, old: str, new: str) -> None:
    text = cli.file.read_text(encoding="utf-8")
    assert old in text, old
    cli.write(text.replace(old, new, 1))


async def test_requests_are_exactly_what_the_cli_sends(cli: KanaCli) -> None:
    await cli.validate()
    await cli.pull()
    validate, pull = cli.requests
    assert (validate.method, validate.url.path) == ("POST", "/cli/validate")
    assert validate.headers["authorization"] == cli.key  # raw, no "Bearer"
    assert validate.headers["content-type"] == "application/json"
    assert json.loads(validate.content) == yaml.safe_load(START)
    assert (pull.method, pull.url.path, pull.content) == ("GET", "/cli/pull", b"")


async def test_validate_lists_what_publish_would_create(cli: KanaCli) -> None:
    result = await cli.validate()
    assert result["data"] == FIRST_MESSAGES
    assert cli.lines("✖") == []
    assert cli.lines("⚠") == []


async def test_publish_creates_everything_and_the_file_is_then_up_to_date(cli: KanaCli, api: Api) -> None:
    assert await cli.publish() is True
    assert await packages(api) == {
        "team": {
            "id": "team",
            "status": "DRAFT",
            "isAddon": False,
            "features": [{"id": "api-calls", "limit": 20000}],
        },
        "basic": {
            "id": "basic",
            "status": "PUBLISHED",
            "isAddon": False,
            "features": [{"id": "api-calls", "limit": 1000}, {"id": "dashboard", "limit": None}],
        },
        "pro": {
            "id": "pro",
            "status": "PUBLISHED",
            "isAddon": False,
            "features": [
                {"id": "api-calls", "limit": 10000},
                {"id": "seats", "limit": None},
                {"id": "dashboard", "limit": None},
            ],
        },
        "extra-calls": {
            "id": "extra-calls",
            "status": "PUBLISHED",
            "isAddon": True,
            "features": [{"id": "api-calls", "limit": 5000}],
        },
    }
    # The CLI rewrote the file (no add-ons, `app` as a comment); validating it reports nothing.
    written = cli.file.read_text(encoding="utf-8")
    assert "# PROJECT: " in written
    assert "addons" not in written
    assert "\napp:" not in written
    cli.printed.clear()
    assert (await cli.validate())["data"] == []
    assert cli.lines("✔")[-1] == "The local config file is up to date."
    # And `kana publish` stops there: no publish request is sent.
    sent = len(cli.requests)
    assert await cli.publish() is False
    assert [r.url.path for r in cli.requests[sent:]] == ["/cli/validate"]


async def test_pull_after_publish_equals_the_file(
    cli: KanaCli, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    await cli.publish()
    other = KanaCli(http, cli.key, tmp_path / "elsewhere")
    assert await other.pull() is True
    pulled, original = other.read(), yaml.safe_load(START)
    assert pulled["features"] == original["features"]
    assert pulled["packages"] == clean(original["packages"], original["features"])
    # Unlimited consumables are written as an explicit `limit: null`, so the CLI's own check passes.
    assert pulled["packages"]["published"][1]["features"][1] == {"id": "seats", "limit": None}
    assert (await other.validate())["data"] == []
    assert other.lines("✖") == []


def clean(packages: dict[str, Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    """The file's packages as the CLI writes them back: no `overage_enabled: false`, no binary limits."""
    binary = {f["id"] for f in features if f["type"] == "BINARY"}
    result: dict[str, Any] = {}
    for status, entries in packages.items():
        result[status] = [
            {
                **p,
                "features": [
                    {
                        k: v
                        for k, v in item.items()
                        if not (k == "overage_enabled" and v is False)
                        and not (k == "limit" and item["id"] in binary)
                    }
                    for item in p["features"]
                ],
            }
            for p in entries
        ]
    return result


async def test_pull_answers_add_ons_with_their_base_packages(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    response = await api.http.get("/cli/pull", headers={"Authorization": api.key})
    assert response.status_code == 200
    assert response.json()["addons"] == {
        "draft": [],
        "published": [
            {
                "id": "extra-calls",
                "name": "Extra calls",
                "base_packages": ["basic"],
                "features": [{"id": "api-calls", "limit": 5000, "reset_period": "MONTH"}],
            }
        ],
    }


async def test_changing_a_published_package_is_refused_and_nothing_changes(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    before = await packages(api)
    edit(cli, "        limit: 1000\n", "        limit: 2000\n")
    edit(cli, "features:\n", "features:\n  - id: storage\n    name: Storage\n    type: CONSUMABLE\n")
    cli.printed.clear()
    assert await cli.publish() is False
    assert cli.lines("✖") == [
        "[ERROR] Package basic is PUBLISHED and cannot be changed: api-calls: limit 1000 → 2000"
    ]
    assert cli.lines("ℹ") == [
        'Feature storage will be created: CONSUMABLE "Storage"',
        'Config validation failed. Review above error(s) or pass in "--force" ("-f")',
    ]
    # With --force the CLI sends it anyway: the server refuses the whole file (409), writes nothing.
    cli.printed.clear()
    assert await cli.publish(force=True, confirm=True) is False
    assert cli.lines("✖")[-1] == "[ERROR]: Conflict"
    assert await packages(api) == before
    assert (await api.data("query { features { id } }"))["features"] == [
        {"id": "api-calls"},
        {"id": "seats"},
        {"id": "dashboard"},
    ]


async def test_publish_answers_409_with_the_messages(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    body = cli.read()
    body["features"][2]["type"] = "CONSUMABLE"
    response = await api.http.post("/cli/publish", json=body, headers={"Authorization": api.key})
    assert response.status_code == 409
    assert response.json() == {
        "data": ["[ERROR] Feature dashboard: type cannot change from BINARY to CONSUMABLE"]
    }


async def test_moving_a_published_package_back_to_draft_is_refused(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    body = cli.read()
    body["packages"]["draft"].append(body["packages"]["published"].pop())
    response = await api.http.post("/cli/validate", json=body, headers={"Authorization": api.key})
    assert response.json() == {"data": ["[ERROR] Package pro is PUBLISHED and cannot go back to DRAFT"]}


async def test_a_draft_can_change_then_be_published(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    edit(cli, "        limit: 20000\n", "        limit: 25000\n")
    cli.printed.clear()
    assert await cli.publish() is True
    assert cli.lines("ℹ") == ["Package team (DRAFT) will be updated: api-calls: limit 20000 → 25000"]
    assert (await packages(api))["team"]["features"] == [{"id": "api-calls", "limit": 25000}]
    # Move it to `published:` in the file the CLI wrote back.
    body = cli.read()
    body["packages"]["published"].append(body["packages"]["draft"].pop())
    cli.write(yaml.safe_dump(body, sort_keys=False))
    cli.printed.clear()
    assert await cli.publish() is True
    assert cli.lines("ℹ") == ["Package team will be published"]
    assert (await packages(api))["team"]["status"] == "PUBLISHED"
    await api.create_user("ann")
    assert len(await api.subscribe("ann", "team")) == 1


async def test_new_draft_and_published_add_ons(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    body = cli.read()  # written back without add-ons: they stay as they are on the server
    body["addons"] = {
        "draft": [{"id": "beta-calls", "name": "Beta", "features": [{"id": "api-calls", "limit": 1}]}],
        "published": [
            {
                "id": "more-seats",
                "name": "More seats",
                "base_packages": ["pro"],
                "features": [{"id": "seats", "limit": 5}],
            }
        ],
    }
    response = await api.http.post("/cli/publish", json=body, headers={"Authorization": api.key})
    assert response.status_code == 200, response.text
    answered = response.json()["addons"]
    assert [a["id"] for a in answered["published"]] == ["extra-calls", "more-seats"]
    assert [a["id"] for a in answered["draft"]] == ["beta-calls"]
    found = await packages(api)
    assert (found["more-seats"]["status"], found["more-seats"]["isAddon"]) == ("PUBLISHED", True)
    assert (found["beta-calls"]["status"], found["beta-calls"]["isAddon"]) == ("DRAFT", True)


async def test_add_on_base_packages_limit_what_it_can_be_added_to(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    await api.create_user("u-basic")
    assert len(await api.subscribe("u-basic", "basic", "extra-calls")) == 2
    await api.create_user("u-pro")
    error = await api.error(
        'mutation { subscribe(userId: "u-pro", packageIds: ["pro", "extra-calls"]) { id } }'
    )
    assert error["message"] == "Add-on extra-calls is not available for package pro"


async def test_the_cli_checks_its_file_before_calling_the_server(cli: KanaCli) -> None:
    edit(cli, "        - id: seats\n          limit: null\n", "        - id: seats\n")
    assert "error" in await cli.validate()
    assert cli.requests == []
    assert cli.lines("✖") == [
        '[ERROR]: all package features of "CONSUMABLE" type must be defined with null or a '
        "positive numeric value"
    ]


async def test_seed_sections_in_a_cli_file_are_warned_about_and_not_applied(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    body = cli.read()
    body["users"] = [{"id": "alice"}]
    body["usage"] = [{"user": "alice", "feature": "api-calls"}]
    response = await api.http.post("/cli/publish", json=body, headers={"Authorization": api.key})
    assert response.status_code == 200
    validate = await api.http.post("/cli/validate", json=body, headers={"Authorization": api.key})
    assert validate.json() == {
        "data": [
            "[WARNING] The sections users, usage hold project data, which the Kana CLI routes do not apply: "
            "load them with `kana-server seed` or `kana-server import`"
        ]
    }
    assert (await api.data("query { users { id } }"))["users"] == []


async def test_pull_leaves_archived_packages_out(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    response = await api.control("POST", "/_kana/packages/basic/archive")
    assert response.status_code == 200
    pulled = (await api.http.get("/cli/pull", headers={"Authorization": api.key})).json()
    assert [p["id"] for p in pulled["packages"]["published"]] == ["pro"]
    # The old file still lists basic as published: that is now an error (it cannot be published again).
    data = (await cli.validate())["data"]
    assert data == ["[ERROR] Package basic is ARCHIVED and cannot be published again"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "[ERROR] The body is not a kana.yaml config in JSON"),
        (b"{not json", "[ERROR] The body is not a kana.yaml config in JSON"),
        (b"[1, 2]", "[ERROR] a kana.yaml must be a mapping at the top level"),
        (b'{"features": [{"id": "x", "type": "FOO"}]}', "[ERROR] features.0.type: Input should be"),
        (b'{"features": "none"}', "[ERROR] features: Input should be a valid list"),
        (
            b'{"packages": {"published": [{"id": "p", "features": [{"id": "x", "limit": -1}]}]}}',
            "[ERROR] packages.published.0.features.0.limit: Input should be greater than or equal to 0",
        ),
        (b'{"feature": []}', "[ERROR] feature: Extra inputs are not permitted"),
    ],
)
@pytest.mark.parametrize("route", ["/cli/validate", "/cli/publish"])
async def test_a_body_that_is_not_a_config_answers_400_with_error_lines(
    api: Api, route: str, body: bytes, message: str
) -> None:
    response = await api.http.post(
        route, content=body, headers={"Authorization": api.key, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    data = response.json()["data"]
    assert len(data) == 1, data
    assert data[0].startswith(message), data
    assert (await api.data("query { features { id } }"))["features"] == []


async def test_a_wrong_key_answers_401_with_an_error_line(http: httpx.AsyncClient, tmp_path: Path) -> None:
    cli = KanaCli(http, "prv_test_tooshort", tmp_path)
    cli.write(START)
    assert "error" not in await cli.validate()
    assert cli.lines("✖") == ["[ERROR] Unauthenticated: the API key is not valid"]
    assert await cli.pull() is False
    assert cli.lines("✖")[-1] == "[ERROR]: Unauthorized"
    response = await http.post("/cli/validate", json={}, headers={})
    assert response.status_code == 401
    assert response.json() == {
        "data": ["[ERROR] Unauthenticated: no API key was sent in the Authorization header"]
    }


async def test_a_file_that_matches_the_server_validates_as_nothing(cli: KanaCli, api: Api) -> None:
    await cli.publish()
    # Kana's documented example style: quoted limits, explicit nulls on binary features, no addons.
    body = cli.read()
    body["packages"]["published"][0]["features"][0]["limit"] = "1000"
    body["packages"]["published"][0]["features"][1]["limit"] = None
    response = await api.http.post("/cli/validate", json=body, headers={"Authorization": api.key})
    assert response.json() == {"data": []}
