"""Plain leaves (D121) and plain resolvers (D124).

A scalar or enum field that Strawberry resolves by reading an attribute is completed without
graphql-core's resolve info, resolver call and generic completion; a resolver whose arguments are all
plain scalars is called without Strawberry's argument conversion and wrapper. The answers must be the
ones Strawberry's and graphql-core's whole path gives: the same data and the same errors (message,
path, location), for good values and for every kind of bad one."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from kana_server.api.schema import KanaExecutionContext, install_plain_resolvers, plain_leaf


@strawberry.enum
class Color(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    count: int
    ratio: float
    color: Color
    made: datetime
    tags: list[str]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


GOOD = {
    "name": "a",
    "nickname": None,
    "count": 3,
    "ratio": 0.5,
    "color": Color.RED,
    "made": datetime(2026, 1, 2, tzinfo=UTC),
    "tags": ["x"],
}

BAD_VALUES: list[dict[str, Any]] = [
    {},
    {"nickname": "n"},
    {"name": None},  # null for a non-null field: the error, and null up to the nullable parent
    {"count": 2**40},  # not a 32-bit Int
    {"count": "3"},  # a string is not an Int
    {"ratio": float("nan")},
    {"color": "green"},  # not a member
    {"color": "red"},  # a value, not a member
    {"made": "yesterday"},
    {"name": ValueError("from the source")},  # an exception as a value is raised, located
    {"nickname": 7},  # String coerces an int
    {"count": True},  # Int coerces a bool
]


def source(**changes: Any) -> SimpleNamespace:
    values = GOOD | changes
    return SimpleNamespace(**{k: v for k, v in values.items() if v is not ...})


THINGS = [source(**changes) for changes in BAD_VALUES] + [source(nickname=...)]  # no attribute at all


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return THINGS  # type: ignore[return-value]

    @strawberry.field
    def one(self, index: int) -> Thing:
        return THINGS[index]  # type: ignore[return-value]


QUERY = "{ things { name nickname count ratio color made tags shout alias: name } }"


def schema(execution_context: type) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=execution_context)


async def answer(execution_context: type, query: str) -> dict[str, Any]:
    result = await schema(execution_context).execute(query)
    return {
        "data": result.data,
        "errors": [
            (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
            for e in result.errors or []
        ],
    }


@pytest.mark.parametrize(
    "query",
    [
        QUERY,
        *(f"{{ one(index: {i}) {{ name count color nickname }} }}" for i in range(len(THINGS))),
        "{ things { name @skip(if: true) count @include(if: false) color } }",
        "{ things { ...F } } fragment F on Thing { name color name }",
    ],
)
async def test_plain_leaves_answer_as_graphql_core_does(query: str) -> None:
    plain = await answer(StrawberryGraphQLCoreExecutionContext, query)
    fast = await answer(KanaExecutionContext, query)
    assert fast == plain


async def test_bad_values_give_errors_on_both_paths() -> None:
    """The comparison above is not vacuous: the bad values really produce errors."""
    result = await answer(KanaExecutionContext, QUERY)
    assert sorted(tuple(path) for _, path, _ in result["errors"]) == [
        ("things", 2, "name"),
        ("things", 3, "count"),
        ("things", 5, "ratio"),
        ("things", 6, "color"),
        ("things", 8, "made"),
        ("things", 9, "name"),
        ("things", 12, "nickname"),
    ]
    assert result["data"]["things"][0]["name"] == "a"
    assert result["data"]["things"][2] is None, "a null non-null name nulls its Thing"


def test_only_attribute_leaves_are_plain() -> None:
    graphql_schema = schema(KanaExecutionContext)._schema
    thing = graphql_schema.get_type("Thing")
    fields = thing.fields  # type: ignore[union-attr]
    assert plain_leaf(fields["name"]) == ("name", fields["name"].type.of_type.coerce_output_value, False)
    assert plain_leaf(fields["nickname"]) is not None
    assert plain_leaf(fields["color"]) is not None
    assert plain_leaf(fields["shout"]) is None, "a resolver runs as always"
    assert plain_leaf(fields["tags"]) is None, "lists take the whole path"
    query = graphql_schema.query_type
    assert plain_leaf(query.fields["things"]) is None  # type: ignore[union-attr]
    assert plain_leaf(query.fields["one"]) is None  # type: ignore[union-attr]


class Denied(strawberry.BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Resolvers:
    @strawberry.field
    def hello(self, name: str, times: int | None = 2, loud: bool = False, ratio: float = 0.5) -> str:
        text = f"{name}x{times}r{ratio}"
        return text.upper() if loud else text

    @strawberry.field
    async def greet(self, info: strawberry.Info, user_id: str) -> str:
        return f"{info.context['greeting']} {user_id} at {info.path.key}"

    @strawberry.field
    def fails(self, n: int) -> int:
        raise ValueError(f"bad {n}")

    @strawberry.field
    def paint(self, color: Color) -> str:
        return color.value

    @strawberry.field
    def total(self, numbers: list[int]) -> int:
        return sum(numbers)

    @strawberry.field(permission_classes=[Denied])  # type: ignore[untyped-decorator]
    def secret(self) -> str:
        return "s"

    @strawberry.field
    def thing(self) -> Thing:
        return THINGS[0]  # type: ignore[return-value]


RESOLVER_QUERIES = [
    '{ hello(name: "a") }',
    '{ hello(name: "a", times: null, loud: true, ratio: 2) }',
    "query Q($n: String!, $t: Int) { hello(name: $n, times: $t) }",
    'query Q($u: String!) { one: greet(userId: $u) two: greet(userId: "x") }',
    "{ fails(n: 3) }",
    "{ paint(color: BLUE) }",
    "{ total(numbers: [1, 2, 3]) }",
    "{ secret }",
    "{ thing { name shout } }",
    '{ hello(name: "a") fails(n: 1) secret }',
]


async def resolver_answer(plain: bool, query: str) -> dict[str, Any]:
    schema = strawberry.Schema(query=Resolvers, execution_context_class=KanaExecutionContext)
    if plain:
        install_plain_resolvers(schema)
    result = await schema.execute(
        query, variable_values={"n": "b", "t": 5, "u": "ann"}, context_value={"greeting": "hi"}
    )
    return {
        "data": result.data,
        "errors": [(e.message, e.path) for e in result.errors or []],
    }


@pytest.mark.parametrize("query", RESOLVER_QUERIES)
async def test_plain_resolvers_answer_as_strawberry_does(query: str) -> None:
    assert await resolver_answer(True, query) == await resolver_answer(False, query)


async def test_plain_resolvers_really_answer() -> None:
    """The comparison above is not vacuous."""
    answer = await resolver_answer(True, RESOLVER_QUERIES[-1])
    assert answer["data"] is None or answer["data"].get("hello") == "ax2r0.5"
    assert ("bad 1", ["fails"]) in answer["errors"]
    assert (await resolver_answer(True, "{ secret }"))["errors"] == [("no", ["secret"])]
    greet = await resolver_answer(True, RESOLVER_QUERIES[3])
    assert greet["data"] == {"one": "hi ann at one", "two": "hi x at two"}


def test_only_resolvers_with_plain_arguments_are_replaced() -> None:
    schema = strawberry.Schema(query=Resolvers)
    installed = install_plain_resolvers(schema)
    fields = schema._schema.query_type.fields  # type: ignore[union-attr]
    plain = {name for name, field in fields.items() if "_plain_resolver" in field.resolve.__qualname__}
    assert plain == {"hello", "greet", "fails", "thing", "shout"} - {"shout"}
    assert installed == len(plain) + 1, "Thing.shout (no argument) is plain too"
