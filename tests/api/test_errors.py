"""Every error path of the spec: Kana's error code and SDK name, a message naming the culprit, and
nothing changed by the failed request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kana import Api

SNAPSHOT_QUERY = """{
  features { id name type unitLabel unitLabelPlural metadata }
  packages { id name status isAddon metadata updatedAt features { id limit } prices { id } }
  users { id billingId name email metadata }
  subscriptions { id userId status package { id } }
}"""
USAGE_QUERY = """query($u: String!) {
  calls: showUsage(userId: $u, featureId: "api-calls") { current { consumption { used } } past { consumption { used } } }
  messages: showUsage(userId: $u, featureId: "messages") { current { consumption { used } } }
}"""


async def state(api: Api) -> dict[str, Any]:
    """Everything the project holds, as the API shows it."""
    data = await api.data(SNAPSHOT_QUERY)
    for user in data["users"]:
        data[f"usage:{user['id']}"] = await api.data(USAGE_QUERY, {"u": user["id"]})
    return data


async def fails(
    api: Api, query: str, variables: dict[str, Any] | None, code: str, name: str, text: str
) -> None:
    """The call fails with this error, and the project is exactly as before."""
    before = await state(api)
    error = await api.error(query, variables)
    assert error["extensions"]["code"] == code, error
    assert error["extensions"]["exception"]["name"] == name, error
    assert text in error["message"], error
    assert error["extensions"]["exception"]["message"] == error["message"]
    assert "Traceback" not in str(error)
    assert await state(api) == before


@pytest.fixture
async def ready(catalog_api: Api) -> Api:
    """The catalog fixture plus user u1 on `free` with 5 api-calls used."""
    await catalog_api.create_user("u1", name="One", email="one@example.com")
    await catalog_api.subscribe("u1", "free")
    await catalog_api.record("u1", "api-calls", 5)
    return catalog_api


NOT_FOUND_QUERIES = [
    ('{ feature(id: "nope") { id } }', "FeatureNotFoundError"),
    ('{ package(id: "nope") { id } }', "PackageNotFoundError"),
    ('{ user(id: "nope") { id } }', "UserNotFoundError"),
    ('{ subscription(id: "999") { id } }', "SubscriptionNotFoundError"),
    ('{ canUseFeature(userId: "nope", featureId: "api-calls") { access } }', "UserNotFoundError"),
    ('{ canUseFeature(userId: "u1", featureId: "nope") { access } }', "FeatureNotFoundError"),
    ('{ showUsage(userId: "nope", featureId: "api-calls") { past { periodStart } } }', "UserNotFoundError"),
    ('{ showUsage(userId: "u1", featureId: "nope") { past { periodStart } } }', "FeatureNotFoundError"),
    ('{ subscriptions(userId: "nope") { id } }', "UserNotFoundError"),
    ('{ feature(id: "api-calls") { entitlement(userId: "nope") { access } } }', "UserNotFoundError"),
]


@pytest.mark.parametrize(("query", "name"), NOT_FOUND_QUERIES)
async def test_unknown_ids_in_queries(ready: Api, query: str, name: str) -> None:
    await fails(ready, query, None, "NOT_FOUND", name, '"nope"' if "999" not in query else '"999"')


NOT_FOUND_MUTATIONS = [
    ('mutation { updateFeature(id: "nope", input: {name: "x"}) { id } }', "FeatureNotFoundError"),
    ('mutation { updatePackage(id: "nope", input: {metadata: {}}) { id } }', "PackageNotFoundError"),
    ('mutation { updateUser(id: "nope", input: {id: "nope", name: "x"}) { id } }', "UserNotFoundError"),
    ('mutation { subscribe(userId: "nope", packageIds: ["free"]) { id } }', "UserNotFoundError"),
    (
        'mutation { recordUsage(input: {userId: "nope", featureId: "api-calls"}) { recorded } }',
        "UserNotFoundError",
    ),
    (
        'mutation { recordUsage(input: {userId: "u1", featureId: "nope"}) { recorded } }',
        "FeatureNotFoundError",
    ),
    ('mutation { createUsageEvent(input: {userId: "nope", featureId: "api-calls"}) }', "UserNotFoundError"),
    ('mutation { generateUserToken(userId: "nope") { token } }', "UserNotFoundError"),
    (
        'mutation { createPackage(input: {id: "p2", features: [{id: "nope"}]}) { id } }',
        "FeatureNotFoundError",
    ),
]


@pytest.mark.parametrize(("query", "name"), NOT_FOUND_MUTATIONS)
async def test_unknown_ids_in_mutations_write_nothing(ready: Api, query: str, name: str) -> None:
    await fails(ready, query, None, "NOT_FOUND", name, '"nope"')


async def test_subscribe_to_an_unknown_package_uses_kanas_message(ready: Api) -> None:
    await ready.create_user("u2")
    await fails(
        ready,
        'mutation { subscribe(userId: "u2", packageIds: ["free", "nope"]) { id } }',
        None,
        "BAD_USER_INPUT",
        "PackageNotFoundError",
        "Package Id not found for app",
    )


@pytest.mark.parametrize(
    ("held", "requested", "message"),
    [
        ([], ["draft-plan"], "Package draft-plan is not published"),
        ([], ["free", "pro"], "Cannot subscribe to multiple tiers"),
        (["free"], ["pro"], "Cannot subscribe to multiple tiers"),
        ([], ["extra-calls"], "Cannot subscribe to addon. Missing live tier subscription."),
        ([], ["sso-addon", "extra-calls"], "Cannot subscribe to addon. Missing live tier subscription."),
    ],
)
async def test_subscribe_rules_are_all_or_nothing(
    catalog_api: Api, held: list[str], requested: list[str], message: str
) -> None:
    await catalog_api.create_user("u2")
    if held:
        await catalog_api.subscribe("u2", *held)
    await fails(
        catalog_api,
        'mutation($p: [String!]!) { subscribe(userId: "u2", packageIds: $p) { id } }',
        {"p": requested},
        "BAD_USER_INPUT",
        "SubscriptionError",
        message,
    )


async def test_an_add_on_needs_a_live_not_a_cancelled_base(catalog_api: Api) -> None:
    await catalog_api.create_user("u2")
    [base] = await catalog_api.subscribe("u2", "free")
    await catalog_api.set_status(base["id"], "CANCELLED")
    await fails(
        catalog_api,
        'mutation { subscribe(userId: "u2", packageIds: ["extra-calls"]) { id } }',
        None,
        "BAD_USER_INPUT",
        "SubscriptionError",
        "Missing live tier subscription",
    )


async def test_a_revert_below_zero_is_refused_and_writes_nothing(ready: Api) -> None:
    await fails(
        ready,
        'mutation { recordUsage(input: {userId: "u1", featureId: "api-calls", delta: -6}) { recorded } }',
        None,
        "BAD_USER_INPUT",
        "ValidationError",
        "Cannot revert 6",
    )


async def test_a_negative_set_is_refused(ready: Api) -> None:
    await fails(
        ready,
        'mutation { recordUsage(input: {userId: "u1", featureId: "api-calls", delta: -1, action: SET}) { recorded } }',
        None,
        "BAD_USER_INPUT",
        "ValidationError",
        "SET",
    )


async def test_a_negative_delta_on_can_use_feature_is_refused(ready: Api) -> None:
    await fails(
        ready,
        '{ canUseFeature(userId: "u1", featureId: "api-calls", delta: -1) { access } }',
        None,
        "BAD_USER_INPUT",
        "ValidationError",
        "negative",
    )


async def test_usage_without_a_package_is_not_recorded_and_writes_nothing(ready: Api) -> None:
    await ready.create_user("u2")
    before = await state(ready)
    assert await ready.record("u2", "api-calls", 3) == {
        "recorded": False,
        "reason": "The user does not have a subscription to a package with this feature.",
    }
    assert await state(ready) == before


@pytest.mark.parametrize(
    ("query", "text"),
    [
        (
            'mutation { createFeature(input: {id: "api-calls", type: BINARY}) { id } }',
            '"api-calls" already exists',
        ),
        ('mutation { createUser(input: {id: "u1"}) { id } }', '"u1" already exists'),
        (
            'mutation { createPackage(input: {id: "free", features: [{id: "dashboard"}]}) { id } }',
            '"free" already exists',
        ),
    ],
)
async def test_creating_an_existing_id_is_a_conflict(ready: Api, query: str, text: str) -> None:
    await fails(ready, query, None, "CONFLICT", "ConflictError", text)


@pytest.mark.parametrize(
    ("query", "variables", "text"),
    [
        (
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"id": ""}},
            "must not be empty",
        ),
        (
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            {"i": {"id": "x" * 256}},
            "at most 255",
        ),
        ("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", {"i": {"id": "a\nb"}}, "control"),
        (
            "mutation($i: CreateFeatureInput!) { createFeature(input: $i) { id } }",
            {"i": {"id": "tab\there", "type": "BINARY"}},
            "control",
        ),
        (
            "mutation($i: CreatePackageInput!) { createPackage(input: $i) { id } }",
            {"i": {"id": "", "features": [{"id": "dashboard"}]}},
            "must not be empty",
        ),
        (
            "mutation($i: CreatePackageInput!) { createPackage(input: $i) { id } }",
            {"i": {"id": "empty", "features": []}},
            "at least one feature",
        ),
        (
            "mutation($i: CreatePackageInput!) { createPackage(input: $i) { id } }",
            {"i": {"id": "twice", "features": [{"id": "dashboard"}, {"id": "dashboard"}]}},
            "twice",
        ),
        ('{ packages(status: "SOLD") { id } }', None, '"SOLD" is not a package status'),
        ('{ user(id: "") { id } }', None, "must not be empty"),
        (
            'mutation { updateUser(id: "u1", input: {id: "u2"}) { id } }',
            None,
            "that id is taken",
        ),
    ],
)
async def test_bad_input_is_a_validation_error(
    ready: Api, query: str, variables: dict[str, Any] | None, text: str
) -> None:
    await ready.create_user("u2")
    await fails(ready, query, variables, "BAD_USER_INPUT", "ValidationError", text)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            '{ canUseFeature(userId: 124, featureId: "api-calls") { access } }',
            None,
        ),  # an Int where a String goes
        ("query($u: String!) { user(id: $u) { id } }", {"u": 124}),
        ('{ canUseFeature(userId: "u1", featureId: "api-calls", delta: 2147483648) { access } }', None),
        ('mutation { createFeature(input: {id: "x", type: SOMETIMES}) { id } }', None),
        ("{ features { id nope } }", None),
        ("{ features { id ", None),
        ('mutation { recordUsage(input: {featureId: "api-calls"}) { recorded } }', None),
    ],
)
async def test_invalid_graphql_is_a_validation_error(
    ready: Api, query: str, variables: dict[str, Any] | None
) -> None:
    before = await state(ready)
    error = await ready.error(query, variables)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "exception": {"name": "ValidationError", "message": error["message"]},
    }
    assert await state(ready) == before


async def test_subscription_links_for_an_unknown_template(ready: Api) -> None:
    await fails(
        ready,
        'mutation { generateSubscriptionLink(userId: "u1", templateId: "nope", successUrl: "http://127.0.0.1/ok", '
        'cancelUrl: "http://127.0.0.1/no") { url } }',
        None,
        "BAD_USER_INPUT",
        "SubscriptionLinkError",
        "nope",
    )
