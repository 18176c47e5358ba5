"""A project's whole state over the control plane: GET/PUT /_kana/state, reset, snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kana_server.settings import Settings
from tests.kana import Api, random_key
from tests.servers import serving
from tests.state_factory import CONSUMABLES, generated_state

USAGE_FIELDS = "periodStart periodEnd consumption { used budget overageEnabled }"


async def state(api: Api) -> dict[str, Any]:
    response = await api.control("GET", "/_kana/state")
    assert response.status_code == 200, response.text
    document = response.json()
    assert isinstance(document, dict)
    return document


async def put_state(api: Api, document: dict[str, Any]) -> dict[str, int]:
    response = await api.control("PUT", "/_kana/state", json=document)
    assert response.status_code == 200, response.text
    imported = response.json()["imported"]
    assert isinstance(imported, dict)
    return imported


def counts(document: dict[str, Any]) -> dict[str, int]:
    """How many of each thing a generated document holds (4 features, 6 packages in its catalog)."""
    return {
        "features": 4,
        "packages": 6,
        "users": len(document["users"]),
        "subscriptions": len(document["subscriptions"]),
        "usage": len(document["usage"]),
    }


def without_app(document: dict[str, Any]) -> dict[str, Any]:
    """A document without the project's name (two projects have different names)."""
    return {k: v for k, v in document.items() if k != "app"}


async def answers(api: Api, user_ids: list[str]) -> list[dict[str, Any]]:
    """What the Admin API says about each user: subscriptions, entitlements and usage history."""
    result = []
    for user_id in user_ids:
        fields = " ".join(
            f'{alias}: showUsage(userId: $u, featureId: "{feature}") '
            f"{{ current {{ {USAGE_FIELDS} }} past {{ {USAGE_FIELDS} }} }} "
            f'{alias}Can: canUseFeature(userId: $u, featureId: "{feature}") '
            "{ access reason consumption { used budget overageEnabled } }"
            for alias, feature in (("calls", "api-calls"), ("messages", "messages"), ("seats", "seats"))
        )
        query = (
            f"query($u: String!) {{ {fields} subscriptions(userId: $u) {{ id status package {{ id }} }} "
            "users(id: $u) { id name email billingId metadata } }"
        )
        result.append(await api.data(query, {"u": user_id}))
    return result


async def activity(api: Api, document: dict[str, Any]) -> None:
    """Everyday traffic on top of an imported state: new users, usage, cancellations, clock moves."""
    await api.set_clock(advance="P1M")
    await api.create_user("late-user", name="Late")
    await api.subscribe("late-user", "free")
    await api.record("late-user", "api-calls", 7)
    first = document["subscriptions"][0]["user"]
    subscriptions = (
        await api.data("query($u: String) { subscriptions(userId: $u) { id package { id } } }", {"u": first})
    )["subscriptions"]
    for subscription in subscriptions:
        await api.set_status(subscription["id"], "CANCELLED")
    await api.subscribe(first, "pro")
    await api.record(first, "api-calls", 30)
    await api.record(first, "api-calls", -5)
    await api.record(first, "messages", 4, "SET")
    await api.set_clock(advance="P3D")
    await api.record(first, "seats", 2)
    await api.data('mutation { updatePackage(id: "pro", input: {metadata: {tier: 3}}) { id } }')
    assert (await api.control("POST", "/_kana/packages/legacy/archive")).status_code == 200


async def test_export_then_import_gives_the_same_state(new_api: Callable[[], Api]) -> None:
    source, copy = new_api(), new_api()
    document = generated_state(users=40, events=3000)
    assert await put_state(source, document) == counts(document)
    await activity(source, document)
    exported = await state(source)
    assert len(exported["usage"]) == 3005
    assert [p["id"] for p in exported["packages"]["archived"]] == ["legacy"]

    await put_state(copy, exported)
    assert without_app(await state(copy)) == without_app(exported)
    users = [u["id"] for u in exported["users"]]
    assert await answers(copy, users) == await answers(source, users)
    # The copy carries on like the original: subscription ids continue after the imported ones.
    await copy.create_user("next")
    await source.create_user("next")
    assert await copy.subscribe("next", "free") == await source.subscribe("next", "free")


async def test_usage_events_keep_their_timestamps_subscriptions_and_periods(api: Api) -> None:
    document = generated_state(users=3, events=40, seed=11)
    await put_state(api, document)
    exported = await state(api)
    assert [e["at"] for e in exported["usage"]] == [e["at"] for e in document["usage"]]
    assert [e.get("action", "ADD") for e in exported["usage"]] == [
        e.get("action", "ADD") for e in document["usage"]
    ]
    for event in exported["usage"]:
        assert set(event) >= {"user", "feature", "subscription", "period", "delta", "at"}


async def test_put_state_replaces_what_the_project_held(catalog_api: Api) -> None:
    await put_state(catalog_api, generated_state(users=2, events=5))
    assert [f["id"] for f in (await state(catalog_api))["features"]] == [
        "api-calls",
        "messages",
        "seats",
        "dashboard",
    ]
    await put_state(catalog_api, generated_state(users=3, events=5))
    assert len((await state(catalog_api))["users"]) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["usage"].append({"user": "ghost", "feature": "api-calls"}),
            "Usage refers to unknown user ghost",
        ),
        (lambda d: d["usage"].append({"user": "user-0000", "feature": "dashboard"}), "binary feature"),
        (
            lambda d: d["subscriptions"].append({"user": "user-0000", "package": "free"}),
            "would hold two live base packages",
        ),
        (lambda d: d["users"].append({"id": "user-0000"}), "Duplicate user id user-0000"),
        (
            lambda d: d["packages"]["draft"][0]["features"][0].update(limit=True),
            "limit: Value error, must be a number, not true or false",
        ),
        (
            lambda d: d["usage"].append({"user": "user-0000", "feature": "api-calls", "delta": 2**40}),
            "delta: Input should be less than or equal to 2147483647",
        ),
        (
            lambda d: d["clock"].update(offset_ms=10**15),
            "clock.offset_ms: Input should be less than or equal",
        ),
        (
            lambda d: d["subscriptions"].append(
                {"id": "9" * 33, "user": "user-0001", "package": "more-messages"}
            ),
            "Subscription id must be at most 32 characters",
        ),
        (
            lambda d: d["subscriptions"].append(
                {"id": "9" * 30, "user": "user-0001", "package": "more-messages"}
            ),
            "A numeric subscription id must be at most 2147483647",
        ),
        (
            lambda d: d["usage"].append({"user": "user-0000", "feature": "api-calls", "delta": -100000}),
            "Cannot revert 100000",
        ),
        (
            lambda d: d["usage"].append(
                {"user": "user-0000", "feature": "api-calls", "at": "2030-01-01T00:00:00Z"}
            ),
            "Usage cannot be recorded in the future",
        ),
    ],
)
async def test_a_bad_document_imports_nothing(
    api: Api, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = generated_state(users=3, events=20)
    change(document)
    response = await api.control("PUT", "/_kana/state", json=document)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert (await state(api))["features"] == []


async def test_state_as_yaml(api: Api) -> None:
    await put_state(api, generated_state(users=2, events=3))
    response = await api.control("GET", "/_kana/state?format=yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.text) == await state(api)


async def test_reset_empties_the_project(api: Api) -> None:
    await put_state(api, generated_state(users=3, events=30))
    await api.set_clock(advance="P1D")
    response = await api.control("POST", "/_kana/reset", json={})
    assert response.json() == {"reset": True, "reseeded": False, "messages": []}
    after = await state(api)
    assert after["clock"] == {"offset_ms": 0, "frozen_at": None}
    assert [after[k] for k in ("features", "users", "subscriptions", "usage")] == [[], [], [], []]
    assert after["packages"] == {"draft": [], "published": []}


async def test_reset_checks_its_body(api: Api) -> None:
    response = await api.control("POST", "/_kana/reset", json={"reseed": "yes"})
    assert (response.status_code, response.json()["error"]["message"]) == (
        400,
        "reseed must be true or false",
    )
    response = await api.control("POST", "/_kana/reset", json={"reseeed": True})
    assert response.status_code == 400
    response = await api.control("POST", "/_kana/reset", json={"reseed": True})
    assert response.status_code == 400
    assert "started without a seed" in response.json()["error"]["message"]


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A server of its own started with the demo seed."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}", seed="demo", port=0)
    async with serving(settings) as client:
        yield client


async def test_reset_with_reseed_applies_the_startup_seed_again(seeded: httpx.AsyncClient) -> None:
    api = Api(seeded, "prv_test_kana_server_local")
    seeded_state = await state(api)
    await api.record("alice", "api-calls", 5)
    await api.create_user("zoe")
    response = await api.control("POST", "/_kana/reset", json={"reseed": True})
    assert response.status_code == 200
    assert response.json()["reseeded"] is True
    again = await state(api)
    assert again["users"] == seeded_state["users"]
    assert [e["delta"] for e in again["usage"]] == [e["delta"] for e in seeded_state["usage"]]
    # Any project can load the startup seed this way, e.g. a test's own.
    fresh = Api(seeded, random_key())
    assert (await fresh.control("POST", "/_kana/reset", json={"reseed": True})).status_code == 200
    assert [u["id"] for u in (await state(fresh))["users"]] == ["124", "alice", "bob", "carol"]


async def test_snapshots_save_list_restore_and_delete(api: Api) -> None:
    await put_state(api, generated_state(users=4, events=50))
    saved = await state(api)
    response = await api.control("POST", "/_kana/snapshots/before-test")
    assert response.status_code == 200
    info = response.json()
    assert info["name"] == "before-test"
    assert info["counts"] == counts(saved)
    await activity(api, saved)
    assert await state(api) != saved
    response = await api.control("POST", "/_kana/snapshots/before-test/restore")
    assert response.status_code == 200
    assert response.json()["restored"]["name"] == "before-test"
    assert await state(api) == saved
    # Snapshots survive a reset, and restore into the emptied project.
    await api.control("POST", "/_kana/reset")
    listed = (await api.control("GET", "/_kana/snapshots")).json()["snapshots"]
    assert [s["name"] for s in listed] == ["before-test"]
    await api.control("POST", "/_kana/snapshots/before-test/restore")
    assert await state(api) == saved
    # Saving under the same name replaces; deleting removes.
    await api.control("POST", "/_kana/reset")
    await api.control("POST", "/_kana/snapshots/before-test")
    await api.control("POST", "/_kana/snapshots/before-test/restore")
    assert (await state(api))["users"] == []
    assert (await api.control("DELETE", "/_kana/snapshots/before-test")).json() == {"deleted": "before-test"}
    assert (await api.control("GET", "/_kana/snapshots")).json() == {"snapshots": []}


async def test_snapshots_belong_to_their_project(new_api: Callable[[], Api]) -> None:
    owner, stranger = new_api(), new_api()
    await owner.control("POST", "/_kana/snapshots/mine")
    response = await stranger.control("POST", "/_kana/snapshots/mine/restore")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "NOT_FOUND", "message": 'Snapshot "mine" not found'}}
    assert (await stranger.control("DELETE", "/_kana/snapshots/mine")).status_code == 404
    assert (await stranger.control("GET", "/_kana/snapshots")).json() == {"snapshots": []}


async def test_snapshot_names_follow_the_id_rules(api: Api) -> None:
    response = await api.control("POST", "/_kana/snapshots/" + "x" * 256)
    assert response.status_code == 400
    assert "at most 255" in response.json()["error"]["message"]


async def test_state_routes_need_a_private_key(http: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/_kana/state"),
        ("PUT", "/_kana/state"),
        ("POST", "/_kana/reset"),
        ("GET", "/_kana/snapshots"),
        ("POST", "/_kana/snapshots/a"),
        ("POST", "/_kana/snapshots/a/restore"),
    ):
        response = await http.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def entitled(document: dict[str, Any]) -> tuple[str, str]:
    """A user and a consumable feature the user may record usage of."""
    subscription = document["subscriptions"][0]
    return subscription["user"], CONSUMABLES[subscription["package"]][0]


async def test_snapshot_restore_and_reset_leave_another_project_alone(new_api: Callable[[], Api]) -> None:
    churned, other = new_api(), new_api()
    document = generated_state(users=5, events=200)
    await put_state(churned, document)
    await put_state(other, generated_state(users=5, events=200, seed=3))
    other_before = await state(other)
    user, feature = entitled(other_before)
    used_before = await other.used(user, feature)
    assert used_before is not None
    assert (await churned.control("POST", "/_kana/snapshots/base")).status_code == 200
    saved = await state(churned)
    recorded = 0

    async def traffic() -> None:
        nonlocal recorded
        for _ in range(60):
            assert (await other.record(user, feature, 1))["recorded"] is True
            recorded += 1
            assert (await other.can_use(user, feature))["consumption"]["used"] == used_before + recorded

    async def churn() -> None:
        for _ in range(4):
            await churned.record(*entitled(saved), 3)
            assert (await churned.control("POST", "/_kana/snapshots/base/restore")).status_code == 200
            assert await state(churned) == saved
            assert (await churned.control("POST", "/_kana/reset")).status_code == 200
            assert (await state(churned))["users"] == []
            assert (await churned.control("POST", "/_kana/snapshots/base/restore")).status_code == 200

    await asyncio.gather(traffic(), churn())
    other_after = await state(other)
    assert len(other_after["usage"]) == len(other_before["usage"]) + 60
    assert other_after["usage"][: len(other_before["usage"])] == other_before["usage"]
    assert {k: v for k, v in other_after.items() if k != "usage"} == {
        k: v for k, v in other_before.items() if k != "usage"
    }
    assert await state(churned) == saved
