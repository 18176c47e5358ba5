"""The request ledger through HTTP: what `/_kana/requests` keeps, how it filters and counts, what it hides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.kana import Api, random_key

RECORD = "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }"


async def newest(api: Api, **filters: Any) -> dict[str, Any]:
    """The newest kept request (after the given filters)."""
    entries = await api.requests(limit=1, **filters)
    assert entries, "the ledger is empty"
    return entries[0]


def only_trace(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    """The single trace of a kind in an entry."""
    traces = [t for t in entry["traces"] if t["kind"] == kind]
    assert len(traces) == 1, entry["traces"]
    return dict(traces[0])


async def test_a_request_is_kept_with_operation_variables_result_and_duration(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 7)
    entry = await newest(api)
    assert entry["rootFields"] == ["recordUsage"]
    assert entry["operationType"] == "mutation"
    assert entry["operationName"] is None
    assert entry["endpoint"] == "/graphql"
    assert entry["keyKind"] == "private"
    assert (
        entry["project"] == api.public_key[:13] + "…" + api.public_key[-4:]
    )  # named after its public key, masked
    assert entry["variables"] == {
        "input": {"userId": "u1", "featureId": "api-calls", "delta": 7, "action": "ADD"}
    }
    assert entry["result"] == {"recordUsage": {"recorded": True, "reason": None}}
    assert entry["errors"] == []
    assert entry["users"] == ["u1"]
    assert entry["durationMs"] >= 0
    assert entry["at"].endswith("Z")
    assert entry["query"] == RECORD


async def test_the_operation_name_and_the_project_time_are_kept(catalog_api: Api) -> None:
    api = catalog_api
    await api.set_clock(set="2031-05-06T07:08:09Z", freeze=True)
    await api.data("query Catalog { features { id } packages { id } }")
    entry = await newest(api)
    assert entry["operationName"] == "Catalog"
    assert entry["rootFields"] == ["features", "packages"]
    assert entry["projectTime"] == "2031-05-06T07:08:09.000Z"
    assert entry["at"] != entry["projectTime"]


async def test_can_use_feature_trace_names_the_considered_packages_the_winner_and_why(
    catalog_api: Api,
) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro", "extra-calls")
    await api.record("u1", "api-calls", 30)
    await api.can_use("u1", "api-calls", 5)
    trace = only_trace(await newest(api, operation="canUseFeature"), "entitlement")
    assert [(c["packageId"], c["limit"]) for c in trace["considered"]] == [
        ("pro", 1000),
        ("extra-calls", 5000),
    ]
    assert trace["winner"]["packageId"] == "extra-calls"
    assert trace["why"] == "highest limit wins (5000 > 1000); limits are not added"
    assert (trace["used"], trace["budget"], trace["delta"]) == (30, 5000, 5)
    assert trace["period"]["start"] < trace["period"]["end"]
    assert trace["access"] is True
    assert trace["rule"] == "used + delta <= budget"
    assert trace["reason"].startswith("The user has a subcription")


async def test_a_tie_on_the_limit_goes_to_the_earliest_subscription(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_package("same-calls", [{"id": "api-calls", "limit": 1000}], is_addon=True)
    await api.create_user("u1")
    await api.subscribe("u1", "pro")
    await api.subscribe("u1", "same-calls")
    await api.can_use("u1", "api-calls")
    trace = only_trace(await newest(api), "entitlement")
    assert trace["winner"]["packageId"] == "pro"
    assert trace["why"] == "tie at limit 1000: the earliest subscription wins (D5)"


async def test_unlimited_beats_any_limit_in_the_trace(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "enterprise", "extra-calls")
    await api.can_use("u1", "api-calls")
    trace = only_trace(await newest(api), "entitlement")
    assert trace["winner"]["packageId"] == "enterprise"
    assert trace["why"] == "unlimited beats any limit (D5)"
    assert trace["rule"] == "unlimited"


async def test_a_denied_check_traces_used_budget_rule_and_reason(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 50)
    await api.can_use("u1", "api-calls")
    trace = only_trace(await newest(api), "entitlement")
    assert (trace["access"], trace["used"], trace["budget"]) == (False, 50, 50)
    assert trace["why"] == "the only live package with this feature"
    assert trace["rule"] == "used + delta > budget"
    assert "no allowance remaining" in trace["reason"]


async def test_no_subscription_traces_nothing_considered(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.can_use("u1", "api-calls")
    trace = only_trace(await newest(api), "entitlement")
    assert trace["considered"] == []
    assert trace["winner"] is None
    assert trace["rule"] == "no live package holds the feature"


async def test_record_usage_traces_the_period_and_the_count_before_and_after(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 10)
    await api.record("u1", "api-calls", -4)
    trace = only_trace(await newest(api), "recordUsage")
    assert (trace["action"], trace["delta"]) == ("ADD", -4)
    assert (trace["usedBefore"], trace["usedAfter"], trace["budget"]) == (10, 6, 50)
    assert trace["recorded"] is True
    assert trace["winner"]["packageId"] == "free"
    assert trace["period"]["start"] < trace["period"]["end"]


async def test_usage_that_is_not_recorded_says_why(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.record("u1", "api-calls", 3)
    trace = only_trace(await newest(api), "recordUsage")
    assert trace["recorded"] is False
    assert trace["reason"] == "The user does not have a subscription to a package with this feature."


async def test_feature_entitlement_reads_are_traced_per_feature(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.data('{ features { id entitlement(userId: "u1") { access } } }')
    entry = await newest(api)
    traces = [t for t in entry["traces"] if t["kind"] == "entitlement"]
    assert sorted(t["featureId"] for t in traces) == ["api-calls", "dashboard", "messages", "seats", "sso"]
    assert entry["users"] == ["u1"]
    by_feature = {t["featureId"]: t for t in traces}
    assert by_feature["api-calls"]["winner"]["packageId"] == "free"
    assert by_feature["sso"]["winner"] is None


async def test_errors_are_kept_as_the_client_saw_them(catalog_api: Api) -> None:
    api = catalog_api
    await api.error(RECORD, {"input": {"userId": "ghost", "featureId": "api-calls"}})
    entry = await newest(api)
    assert entry["result"] == {"recordUsage": None}
    assert [(e["code"], e["name"], e["path"]) for e in entry["errors"]] == [
        ("NOT_FOUND", "UserNotFoundError", ["recordUsage"])
    ]
    assert "ghost" in entry["errors"][0]["message"]
    assert entry["users"] == ["ghost"]


async def test_a_request_that_does_not_parse_is_kept_without_root_fields(api: Api) -> None:
    await api.error("{ features { id ")
    entry = await newest(api)
    assert entry["rootFields"] == []
    assert entry["operationType"] is None
    assert entry["errors"][0]["code"] == "BAD_USER_INPUT"


async def test_variables_sent_as_a_json_string_are_kept_as_an_object(api: Api) -> None:
    body = {"query": "query($u: String!) { users(id: $u) { id } }", "variables": '{"u": "u7"}'}
    response = await api.post(body)
    assert response.status_code == 200
    entry = await newest(api)
    assert entry["variables"] == {"u": "u7"}
    assert entry["users"] == ["u7"]


async def test_secrets_are_redacted_everywhere(api: Api) -> None:
    live_key = random_key("live")
    secrets = ["s3cr3t-value", "hunter2", "ghp_tokenvalue", live_key]
    await api.data(
        "mutation($input: CreateUserInput!) { createUser(input: $input) { id metadata } }",
        {
            "input": {
                "id": "u1",
                "metadata": {
                    "apiKey": "s3cr3t-value",
                    "password": "hunter2",
                    "nested": {"githubToken": "ghp_tokenvalue"},
                    "note": live_key,
                    "plan": "pro",
                },
            }
        },
    )
    await api.data(
        f'mutation {{ createUser(input: {{id: "u2", metadata: {{note: "{live_key}"}}}}) {{ id }} }}'
    )
    token = (await api.data('mutation { generateUserToken(userId: "u1") { token } }'))["generateUserToken"][
        "token"
    ]
    response = await api.control("GET", "/_kana/requests")
    text = response.text
    for secret in [*secrets, token, api.key]:
        assert secret not in text
    entries = response.json()["requests"]
    token_entry, literal_entry, metadata_entry = entries
    assert token_entry["result"] == {"generateUserToken": {"token": "[redacted]"}}
    assert token_entry["users"] == ["u1"]
    assert "[redacted]" in literal_entry["query"]
    metadata = metadata_entry["variables"]["input"]["metadata"]
    assert metadata == {
        "apiKey": "[redacted]",
        "password": "[redacted]",
        "nested": {"githubToken": "[redacted]"},
        "note": "[redacted]",
        "plan": "pro",
    }
    assert metadata_entry["result"]["createUser"]["metadata"] == metadata


async def test_operation_filter_matches_root_field_names(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls")
    await api.can_use("u1", "api-calls")
    await api.data(
        'mutation Both { a: recordUsage(input: {userId: "u1", featureId: "messages"}) { recorded } }'
    )
    recorded = await api.requests(operation="recordUsage")
    assert [e["operationName"] for e in recorded] == ["Both", None]
    assert [e["rootFields"] for e in await api.requests(operation="subscribe")] == [["subscribe"]]
    assert await api.requests(operation="recordusage") == []


async def test_user_filter_finds_a_user_id_wherever_it_is_given(api: Api) -> None:
    await api.create_user("u1")  # createUser(input: $input) with input.id
    await api.create_user("u2")
    calls = [
        ('{ user(id: "u1") { id } }', None),
        ("query($userId: String) { subscriptions(userId: $userId) { id } }", {"userId": "u1"}),
        ('{ subscriptions(userId: "u1") { id } }', None),
        (
            'query($u: String!) { showUsage(userId: $u, featureId: "f") { current { periodStart } } }',
            {"u": "u1"},
        ),
        ('mutation { recordUsage(input: {userId: "u1", featureId: "f"}) { recorded } }', None),
        (
            "mutation($i: CreateUsageEventInput!) { recordUsage(input: $i) { recorded } }",
            {"i": {"userId": "u1", "featureId": "f"}},
        ),
        ('mutation { updateUser(id: "u2", input: {id: "u2", name: "Two"}) { id } }', None),
    ]
    for query, variables in calls:
        await api.gql(query, variables)
    u1 = await api.requests(user="u1")
    assert len(u1) == len(calls) - 1 + 1  # every call but updateUser, plus createUser u1
    assert all("u1" in e["users"] for e in u1)
    assert [e["rootFields"] for e in await api.requests(user="u2")] == [["updateUser"], ["createUser"]]
    assert await api.requests(user="u3") == []


async def test_count_counts_requests_of_one_operation_for_one_user(catalog_api: Api) -> None:
    api = catalog_api
    catalog_calls = await api.request_count()
    for user in ("u1", "u2"):
        await api.create_user(user)
        await api.subscribe(user, "free")
    for _ in range(3):
        await api.record("u1", "api-calls")
    await api.record("u2", "api-calls")
    await api.can_use("u1", "api-calls")
    assert await api.request_count(operation="recordUsage", user="u1") == 3
    assert await api.request_count(operation="recordUsage") == 4
    assert await api.request_count(user="u1") == 6  # createUser, subscribe, 3 x recordUsage, canUseFeature
    assert await api.request_count() == catalog_calls + 9


async def test_limit_and_after_page_through_the_newest_first(api: Api) -> None:
    for n in range(5):
        await api.data(f'{{ users(id: "u{n}") {{ id }} }}')
    entries = await api.requests()
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert [e["users"] for e in await api.requests(limit=2)] == [["u4"], ["u3"]]
    assert [e["users"] for e in await api.requests(after=ids[2])] == [["u4"], ["u3"]]
    assert await api.requests(after=ids[0]) == []


async def test_bad_parameters_are_refused_with_a_clear_error(api: Api) -> None:
    for query, words in [
        ("limit=0", "limit must be between 1 and 10000"),
        ("limit=ten", "limit must be a whole number"),
        ("after=-1", "after must be between"),
        ("userId=u1", "Unknown parameters: userId"),
    ]:
        response = await api.control("GET", f"/_kana/requests?{query}")
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["code"] == "BAD_USER_INPUT"
        assert words in error["message"]
    response = await api.control("GET", "/_kana/requests/count?limit=3")
    assert response.status_code == 400


async def test_the_ledger_needs_the_project_key(api: Api) -> None:
    for path in ("/_kana/requests", "/_kana/requests/count"):
        response = await api.http.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        response = await api.http.get(path, headers={"Authorization": api.public_key})
        assert response.status_code == 401


async def test_other_projects_requests_are_not_visible(new_api: Callable[[], Api]) -> None:
    mine, theirs = new_api(), new_api()
    await mine.create_user("u1")
    await mine.data('{ user(id: "u1") { id } }')
    assert await theirs.requests() == []
    assert await theirs.request_count(user="u1") == 0
    assert await mine.request_count(user="u1") == 2


async def test_control_plane_and_inspector_calls_are_not_recorded(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    before = await api.request_count()
    await api.set_clock(advance=60)
    await api.control("GET", "/_kana/inspector/overview")
    await api.control("GET", "/_kana/inspector/user?id=u1")
    await api.requests()
    assert await api.request_count() == before
