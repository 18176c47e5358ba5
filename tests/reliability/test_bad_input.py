"""Bad input gets a clear Kana-shaped error and writes nothing: GraphQL errors ride on HTTP 200 with
`extensions.code` and `exception.name`; requests that are not GraphQL at all get 400/405/413/415 with
the same error shape (D93). Never a 500, never a stack trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.kana import Api
from tests.reliability.checks import load_project, state

CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
RECORD = "mutation($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded } }"


@dataclass(frozen=True)
class Case:
    """One bad request and the error it must get."""

    status: int
    code: str
    message: str  # a part of the error message
    body: Any = None  # sent as JSON unless `raw` is given
    raw: bytes | None = None
    method: str = "POST"
    params: dict[str, str] | None = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    name: str = "ValidationError"


def create_user(user_id: Any, **extra: Any) -> dict[str, Any]:
    return {"query": CREATE_USER, "variables": {"input": {"id": user_id, **extra}}}


def record(**input_: Any) -> dict[str, Any]:
    return {"query": RECORD, "variables": {"input": {"userId": "alice", "featureId": "api-calls", **input_}}}


def unauthenticated(authorization: str | bytes) -> Case:
    """A mutation sent with a bad Authorization header."""
    headers: dict[str, str | bytes] = {"Authorization": authorization}
    return Case(
        200,
        "UNAUTHENTICATED",
        "Unauthenticated",
        body=create_user("g"),
        headers=headers,
        name="AuthenticationError",
    )


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


MUTATION_TEXT = 'mutation { createUser(input: {id: "sneaky"}) { id } }'
BAD = "BAD_USER_INPUT"
CASES: dict[str, Case] = {
    # requests that are not GraphQL at all
    "malformed JSON": Case(
        400, BAD, "Unable to parse request body as JSON", raw=b'{"query": "mutation { createUser('
    ),
    "JSON null": Case(400, BAD, "must be a JSON object", raw=b"null"),
    "JSON string": Case(400, BAD, "must be a JSON object", raw=b'"mutation { createUser }"'),
    "JSON number": Case(400, BAD, "must be a JSON object", raw=b"42"),
    "lone surrogate": Case(
        400,
        BAD,
        "Unable to parse",
        raw=b'{"query": "' + CREATE_USER.encode() + b'", "variables": {"input": {"id": "\\ud800"}}}',
    ),
    "invalid UTF-8": Case(400, BAD, "Unable to parse", raw=b'{"query": "\xff\xfe"}'),
    "JSON nested 5000 deep": Case(
        400,
        BAD,
        "Unable to parse",
        raw=b'{"query": "'
        + CREATE_USER.encode()
        + b'", "variables": {"input": {"id": "d", "metadata": '
        + b'{"a":' * 5000
        + b"1"
        + b"}" * 5000
        + b"}}}",
    ),
    "text/plain": Case(
        415,
        BAD,
        "Content-Type: application/json",
        raw=orjson.dumps(create_user("ct")),
        headers={"Content-Type": "text/plain"},
    ),
    "form encoded": Case(
        415,
        BAD,
        "Content-Type: application/json",
        raw=b"query=mutation",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "no content type": Case(
        415,
        BAD,
        "Content-Type: application/json",
        raw=orjson.dumps(create_user("ct")),
        headers={"Content-Type": ""},
    ),
    "GET for a mutation": Case(
        405, BAD, "Mutations are not allowed with GET", method="GET", params={"query": MUTATION_TEXT}
    ),
    "PUT": Case(405, BAD, "only supports GET and POST", method="PUT", raw=orjson.dumps(create_user("put"))),
    "DELETE": Case(405, BAD, "only supports GET and POST", method="DELETE"),
    "missing query": Case(400, BAD, "No GraphQL query found", body={"variables": {}}),
    "null query": Case(400, BAD, "No GraphQL query found", body={"query": None}),
    "query not a string": Case(400, BAD, "`query` must be a string", body={"query": 5}),
    "variables not an object": Case(
        400, BAD, "`variables` must be an object", body={"query": CREATE_USER, "variables": [1]}
    ),
    "variables string not JSON": Case(
        400, BAD, "`variables` string is not valid JSON", body={"query": CREATE_USER, "variables": "{bad"}
    ),
    "unknown operation name": Case(
        400, BAD, 'Unknown operation named "Other"', body={"query": MUTATION_TEXT, "operationName": "Other"}
    ),
    "operation name not a string": Case(
        400, BAD, "`operationName` must be a string", body={"query": MUTATION_TEXT, "operationName": ["A"]}
    ),
    "operation name an object": Case(
        400, BAD, "`operationName` must be a string", body={"query": MUTATION_TEXT, "operationName": {"a": 1}}
    ),
    "a batch": Case(400, BAD, "Batched requests", body=[create_user("b1"), create_user("b2")]),
    # GraphQL errors (HTTP 200)
    "two operations, no name": Case(
        200,
        BAD,
        "Must provide operation name",
        body={
            "query": 'mutation A { createUser(input: {id: "a"}) { id } } mutation B { createUser(input: {id: "b"}) { id } }'
        },
    ),
    "syntax error": Case(
        200, BAD, "Syntax Error", body={"query": 'mutation { createUser(input: {id: "x"} { id } }'}
    ),
    "unknown field": Case(
        200, BAD, "Cannot query field", body={"query": 'mutation { deleteUser(id: "alice") }'}
    ),
    "wrong variable type": Case(200, BAD, "Int cannot represent non-integer value", body=record(delta="ten")),
    "float delta": Case(200, BAD, "Int cannot represent non-integer value: 1.5", body=record(delta=1.5)),
    "string id given a number": Case(
        200, BAD, "String cannot represent a non string value", body=create_user(42)
    ),
    "missing required variable": Case(200, BAD, "to be provided", body={"query": CREATE_USER}),
    "Int overflow (variable)": Case(200, BAD, "non 32-bit signed integer", body=record(delta=2**31)),
    "Int overflow (huge variable)": Case(
        200,
        BAD,
        "non 32-bit signed integer",
        raw=b'{"query": "'
        + RECORD.encode()
        + b'", "variables": {"input": {"userId": "alice", "featureId": "api-calls", "delta": 1000000000000000000000000000000}}}',
    ),
    "Int overflow (literal)": Case(
        200,
        BAD,
        "non 32-bit signed integer",
        body={
            "query": 'mutation { recordUsage(input: {userId: "alice", featureId: "api-calls", delta: 99999999999}) { recorded } }'
        },
    ),
    "Int underflow (literal)": Case(
        200,
        BAD,
        "non 32-bit signed integer",
        body={
            "query": 'mutation { recordUsage(input: {userId: "alice", featureId: "api-calls", delta: -2147483649}) { recorded } }'
        },
    ),
    "empty id": Case(200, BAD, "must not be empty", body=create_user("")),
    "huge id": Case(200, BAD, "at most 255 characters", body=create_user("x" * 100_000)),
    "id with a control character": Case(200, BAD, "control characters", body=create_user("a\u0007b")),
    "id with NUL": Case(200, BAD, "control characters", body=create_user("a\u0000b")),
    "empty feature id in recordUsage": Case(200, BAD, "must not be empty", body=record(featureId="")),
    "metadata with NUL in a name": Case(200, BAD, "NUL", body=create_user("nul", name="a\u0000b")),
    "metadata nested 33 deep": Case(
        200, BAD, "nest at most 32 levels", body=create_user("deep", metadata=nested(33))
    ),
    "metadata literal nested 400 deep": Case(
        200,
        BAD,
        "nested too deeply",
        body={
            "query": 'mutation { createUser(input: {id: "lit", metadata: '
            + "{a: " * 400
            + "1"
            + "}" * 400
            + "}) { id } }"
        },
    ),
    "unknown enum (literal)": Case(
        200,
        BAD,
        "does not exist in 'FeatureType' enum",
        body={"query": 'mutation { createFeature(input: {id: "f", type: SOMETIMES}) { id } }'},
    ),
    "unknown enum (variable)": Case(
        200, BAD, "does not exist in 'RecordUsageAction' enum", body=record(action="MULTIPLY")
    ),
    "enum as a string literal": Case(
        200,
        BAD,
        "Enum 'FeatureType' cannot represent non-enum value",
        body={"query": 'mutation { createFeature(input: {id: "f", type: "BINARY"}) { id } }'},
    ),
    "duplicate user id": Case(
        200, "CONFLICT", 'User "alice"', body=create_user("alice"), name="ConflictError"
    ),
    "duplicate feature id": Case(
        200,
        "CONFLICT",
        "api-calls",
        body={"query": 'mutation { createFeature(input: {id: "api-calls", type: BINARY}) { id } }'},
        name="ConflictError",
    ),
    "a feature twice in a package": Case(
        200,
        BAD,
        "lists feature dashboard twice",
        body={
            "query": 'mutation { createPackage(input: {id: "twice", features: [{id: "dashboard"}, {id: "dashboard"}]}) { id } }'
        },
    ),
    "an input field twice": Case(
        200,
        BAD,
        "only one input field named 'id'",
        body={"query": 'mutation { createUser(input: {id: "x", id: "y"}) { id } }'},
    ),
    "a revert below zero": Case(200, BAD, "Cannot revert", body=record(delta=-5)),
    "a negative SET": Case(
        200, BAD, "must not be negative with action SET", body=record(delta=-5, action="SET")
    ),
    "renaming onto a taken id": Case(
        200,
        BAD,
        "that id is taken",
        body={"query": 'mutation { updateUser(id: "bob", input: {id: "alice"}) { id } }'},
    ),
    "garbage Authorization": unauthenticated("garbage !@#$%^&*() {}"),
    "non-ASCII Authorization": unauthenticated(b"prv_test_\xe9\xff\xfe"),
    "bare Bearer": unauthenticated("Bearer"),
    "a public key on the Admin API": unauthenticated("pub_test_" + "a" * 32),
    "an 8 KB Authorization": unauthenticated("prv_test_" + "a" * 8000),
    "a JWT on the Admin API": unauthenticated("Bearer eyJhbGciOiJub25lIn0.eyJ1c2VySWQiOiJhbGljZSJ9."),
}


@pytest.fixture
async def project(api: Api) -> Api:
    await load_project(api)
    await api.record("alice", "api-calls", 3)
    return api


@pytest.mark.parametrize("case_name", list(CASES))
async def test_bad_input_gets_a_clear_error_and_writes_nothing(project: Api, case_name: str) -> None:
    case = CASES[case_name]
    before = await state(project)
    headers: dict[str, str | bytes] = {"Authorization": project.key, **case.headers}
    content = case.raw if case.raw is not None else (None if case.body is None else orjson.dumps(case.body))
    if content is not None and "Content-Type" not in case.headers:
        headers["Content-Type"] = "application/json"
    headers = {k: v for k, v in headers.items() if v}

    response = await project.http.request(
        case.method,
        "/graphql",
        content=content,
        params=case.params,
        headers=[(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()],
    )

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "Traceback" not in response.text
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert case.message in error["message"]
    assert error["extensions"] == {
        "code": case.code,
        "exception": {"name": case.name, "message": error["message"]},
    }
    if case.status == 200:
        assert not any(body.get("data", {}).values()) if body.get("data") else True
    else:
        assert "data" not in body
    assert await state(project) == before


async def test_unicode_ids_are_ids_like_any_other(project: Api) -> None:
    user_id = "用户-🙂-\u202emirror-é"
    await project.create_user(user_id)
    await project.subscribe(user_id, "starter")
    await project.record(user_id, "api-calls", 2)
    assert await project.used(user_id, "api-calls") == 2
    data = await project.data("query($id: String!) { user(id: $id) { id } }", {"id": user_id})
    assert data == {"user": {"id": user_id}}
