"""Idempotency-Key on mutations ([X], D90-D92): a retry replays the first answer and records nothing,
another body under the same key is a ConflictError, keys are per project, concurrent duplicates run
once, keys expire after the retention window on the project's clock, queries ignore the header."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kana import Api, random_key
from tests.process import ServerProcess
from tests.reliability.checks import MUTATIONS, load_project, root_fields, state

RECORD = MUTATIONS["recordUsage"][0]


def record_body(delta: int = 7, user: str = "alice") -> dict[str, Any]:
    return {
        "query": RECORD,
        "variables": {"input": {"userId": user, "featureId": "api-calls", "delta": delta}},
    }


async def send(api: Api, body: dict[str, Any], key: str | None) -> httpx.Response:
    response = await api.post(body, headers={"Idempotency-Key": key} if key is not None else None)
    assert response.status_code == 200, response.text
    return response


def replayed(response: httpx.Response) -> bool:
    return bool(response.headers.get("Idempotent-Replayed") == "true")


@pytest.fixture
async def project(api: Api) -> Api:
    await load_project(api)
    return api


def test_every_mutation_has_an_example() -> None:
    assert root_fields("mutation") == set(MUTATIONS)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_a_retried_mutation_replays_its_first_answer_and_changes_nothing(
    project: Api, name: str
) -> None:
    query, variables = MUTATIONS[name]
    first = await send(project, {"query": query, "variables": variables}, f"key-{name}")
    assert "errors" not in first.json(), first.json()
    assert not replayed(first)
    after_first = await state(project)

    again = await send(project, {"query": query, "variables": variables}, f"key-{name}")

    assert replayed(again)
    assert again.json() == first.json()
    assert await state(project) == after_first


async def test_a_retried_record_usage_counts_once(project: Api) -> None:
    for _ in range(3):
        response = await send(project, record_body(7), "retry-1")
        assert response.json() == {"data": {"recordUsage": {"recorded": True, "reason": None}}}
    assert await project.used("alice", "api-calls") == 7


async def test_the_same_body_is_recognised_whatever_the_json_spelling(project: Api) -> None:
    await send(project, record_body(7), "spelling")
    body = {
        "variables": '{"input": {"delta": 7, "featureId": "api-calls", "userId": "alice"}}',
        "query": RECORD,
    }
    assert replayed(await send(project, body, "spelling"))
    assert await project.used("alice", "api-calls") == 7


async def test_the_same_key_with_another_body_is_a_conflict_and_records_nothing(project: Api) -> None:
    await send(project, record_body(7), "conflict")
    before = await state(project)

    response = await send(project, record_body(8), "conflict")

    assert not replayed(response)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["exception"]["name"] == "ConflictError"
    assert "different request body" in error["message"]
    assert response.json()["data"] is None
    assert await state(project) == before


async def test_keys_are_per_project(project: Api, new_api: Any) -> None:
    other = new_api()
    await load_project(other)
    await send(project, record_body(7), "shared-key")

    response = await send(other, record_body(9), "shared-key")

    assert not replayed(response)
    assert response.json()["data"]["recordUsage"]["recorded"] is True
    assert await project.used("alice", "api-calls") == 7
    assert await other.used("alice", "api-calls") == 9


async def test_an_error_answer_is_replayed_too(project: Api) -> None:
    first = await send(project, record_body(5, user="dave"), "before-dave")
    assert first.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await project.create_user("dave")
    await project.subscribe("dave", "starter")

    again = await send(project, record_body(5, user="dave"), "before-dave")

    assert replayed(again)
    assert again.json() == first.json()
    assert await project.used("dave", "api-calls") == 0


async def test_queries_ignore_the_key(project: Api) -> None:
    query = {"query": "{ users { id } }"}
    assert not replayed(await send(project, query, "query-key"))
    assert not replayed(await send(project, query, "query-key"))
    # ... and a query does not take the key from a mutation
    assert (await send(project, record_body(2), "query-key")).json()["data"]["recordUsage"]["recorded"]


async def test_concurrent_duplicates_record_once(project: Api) -> None:
    responses = await asyncio.gather(*(send(project, record_body(4), "burst") for _ in range(20)))

    assert {r.text for r in responses} == {responses[0].text}
    assert responses[0].json()["data"]["recordUsage"]["recorded"] is True
    assert sum(not replayed(r) for r in responses) == 1
    assert await project.used("alice", "api-calls") == 4


async def test_a_key_expires_after_the_retention_window_on_the_project_clock(project: Api) -> None:
    await send(project, record_body(3), "day-old")
    await project.set_clock(advance="PT23H59M")
    assert replayed(await send(project, record_body(3), "day-old"))
    await project.set_clock(advance="PT1M")

    again = await send(project, record_body(3), "day-old")

    assert not replayed(again)
    assert await project.used("alice", "api-calls") == 6
    assert replayed(await send(project, record_body(3), "day-old"))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "must not be empty"),
        ("k" * 256, "longer than 255 characters"),
        ("tab\tkey", "control characters"),
    ],
)
async def test_a_malformed_key_is_refused_and_nothing_runs(project: Api, key: str, message: str) -> None:
    before = await state(project)
    response = await send(project, record_body(7), key)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
    assert await state(project) == before


async def test_a_key_of_255_printable_characters_is_accepted(project: Api) -> None:
    key = ("0123456789abcdef-_.:/+= ~!@#$%^&*()[]{}" * 7)[:255]
    await send(project, record_body(1), key)
    assert replayed(await send(project, record_body(1), key))


async def test_an_unauthenticated_mutation_with_a_key_stores_nothing(project: Api) -> None:
    response = await project.post(
        record_body(7), headers={"Authorization": "prv_bad", "Idempotency-Key": "auth"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    first = await send(project, record_body(7), "auth")
    assert not replayed(first)
    assert first.json()["data"]["recordUsage"]["recorded"] is True


@pytest.mark.e2e
@pytest.mark.timeout(300)
async def test_concurrent_duplicates_record_once_across_worker_processes(tmp_path: Path) -> None:
    database = tmp_path / "kana.db"
    with ServerProcess("--database", f"sqlite+aiosqlite:///{database}", workers=2) as server:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            api = Api(http, random_key())
            await load_project(api)
            for round_ in range(5):
                responses = await asyncio.gather(
                    *(send(api, record_body(10), f"round-{round_}") for _ in range(40))
                )
                assert {r.text for r in responses} == {responses[0].text}
                assert sum(not replayed(r) for r in responses) == 1
            assert await api.used("alice", "api-calls") == 50
