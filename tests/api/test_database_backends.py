"""What must hold on every database backend (each test runs on SQLite and PostgreSQL): text the
database cannot store, instants, long Unicode ids, and concurrent writes in one process (READ COMMITTED
plus row locks on PostgreSQL must give what SQLite's single writer gives)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from tests.kana import Api

NUL_MESSAGE = "Text must not contain the NUL character (U+0000)"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id name metadata } }"
RECORD = "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }"


def outcome(body: dict[str, Any]) -> str:
    """`ok`, or the error code of a response with one error."""
    errors = body.get("errors")
    if not errors:
        return "ok"
    assert len(errors) == 1, body
    return str(errors[0]["extensions"]["code"])


async def test_text_with_a_nul_character_is_refused_and_nothing_is_written(api: Api) -> None:
    error = await api.error(CREATE_USER, {"input": {"id": "u1", "name": "Ada\u0000Lovelace"}})
    assert error["message"] == NUL_MESSAGE
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["exception"]["name"] == "ValidationError"
    assert await api.data("{ users { id } }") == {"users": []}


async def test_a_nul_character_in_a_feature_name_is_refused(api: Api) -> None:
    error = await api.error(
        "mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }",
        {"input": {"id": "f1", "type": "BINARY", "name": "a\u0000b"}},
    )
    assert error["message"] == NUL_MESSAGE
    assert await api.data("{ features { id } }") == {"features": []}


async def test_metadata_may_hold_a_nul_character(api: Api) -> None:
    metadata = {"note": "a\u0000b", "nested": {"list": [1, "x\u0000"]}}
    created = await api.data(CREATE_USER, {"input": {"id": "u1", "metadata": metadata}})
    assert created["createUser"]["metadata"] == metadata
    assert await api.data('{ user(id: "u1") { metadata } }') == {"user": {"metadata": metadata}}


async def test_metadata_keeps_its_key_order_and_values(api: Api) -> None:
    metadata = {"z": 1, "a": [True, None, 1.5, "ü"], "m": {"y": "2", "b": -3}}
    await api.data(CREATE_USER, {"input": {"id": "u1", "metadata": metadata}})
    body = await api.data('{ user(id: "u1") { metadata } }')
    assert list(body["user"]["metadata"]) == ["z", "a", "m"]
    assert body["user"]["metadata"] == metadata


async def test_ids_of_255_non_ascii_characters_are_stored_whole(api: Api) -> None:
    user_id = "🙂" * 254 + "é"
    feature_id = "功能" * 127 + "x"
    await api.create_user(user_id)
    await api.create_feature(feature_id, "BINARY")
    assert await api.data("{ users { id } }") == {"users": [{"id": user_id}]}
    assert await api.data("{ features { id } }") == {"features": [{"id": feature_id}]}


async def test_instants_keep_their_milliseconds(catalog_api: Api) -> None:
    api = catalog_api
    await api.set_clock(set="2026-01-31T09:00:00.123Z", freeze=True)
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    body = await api.data(
        '{ showUsage(userId: "u1", featureId: "api-calls") { current { periodStart periodEnd } } }'
    )
    assert body["showUsage"]["current"] == {
        "periodStart": "2026-01-31T09:00:00.123Z",
        "periodEnd": "2026-02-28T09:00:00.123Z",
    }


async def test_concurrent_creates_of_one_user_id_make_one_user(api: Api) -> None:
    bodies = await asyncio.gather(*(api.gql(CREATE_USER, {"input": {"id": "same"}}) for _ in range(20)))
    assert Counter(outcome(b) for b in bodies) == {"ok": 1, "CONFLICT": 19}
    assert await api.data("{ users { id } }") == {"users": [{"id": "same"}]}


async def test_concurrent_creates_of_one_feature_id_make_one_feature(api: Api) -> None:
    query = "mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }"
    bodies = await asyncio.gather(
        *(api.gql(query, {"input": {"id": "f1", "type": "CONSUMABLE"}}) for _ in range(20))
    )
    assert Counter(outcome(b) for b in bodies) == {"ok": 1, "CONFLICT": 19}
    assert await api.data("{ features { id } }") == {"features": [{"id": "f1"}]}


async def test_concurrent_renames_to_one_id_rename_one_user(api: Api) -> None:
    users = [f"u{i}" for i in range(10)]
    for user_id in users:
        await api.create_user(user_id)
    query = "mutation($id: String!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }"
    bodies = await asyncio.gather(*(api.gql(query, {"id": u, "input": {"id": "taken"}}) for u in users))
    assert Counter(outcome(b) for b in bodies) == {"ok": 1, "BAD_USER_INPUT": 9}
    listed = [u["id"] for u in (await api.data("{ users { id } }"))["users"]]
    assert len(listed) == 10
    assert listed.count("taken") == 1
    assert len(set(users) - set(listed)) == 1


async def test_concurrent_subscribes_to_one_package_make_one_subscription(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    results = await asyncio.gather(*(api.subscribe("u1", "free") for _ in range(10)))
    assert {r[0]["id"] for r in results} == {results[0][0]["id"]}
    body = await api.data('{ subscriptions(userId: "u1") { id } }')
    assert body == {"subscriptions": [{"id": results[0][0]["id"]}]}


async def test_concurrent_usage_in_one_process_is_exact(catalog_api: Api) -> None:
    api = catalog_api
    for user_id in ("u1", "u2"):
        await api.create_user(user_id)
        await api.subscribe(user_id, "pro")
    calls = [(f"u{1 + i % 2}", "seats" if i % 3 else "messages", (i % 7) + 1) for i in range(200)]
    bodies = await asyncio.gather(
        *(api.gql(RECORD, {"input": {"userId": u, "featureId": f, "delta": d}}) for u, f, d in calls)
    )
    assert Counter(outcome(b) for b in bodies) == {"ok": 200}
    for user_id in ("u1", "u2"):
        for feature_id in ("seats", "messages"):
            expected = sum(d for u, f, d in calls if u == user_id and f == feature_id)
            assert await api.used(user_id, feature_id) == expected


async def test_concurrent_reverts_never_take_usage_below_zero(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro")
    await api.record("u1", "seats", 5)
    bodies = await asyncio.gather(
        *(api.gql(RECORD, {"input": {"userId": "u1", "featureId": "seats", "delta": -1}}) for _ in range(20))
    )
    assert Counter(outcome(b) for b in bodies) == {"ok": 5, "BAD_USER_INPUT": 15}
    assert await api.used("u1", "seats") == 0
