"""What the ledger reads from a GraphQL document: operation, root fields, and the users it names."""

from __future__ import annotations

from kana_server.api.recording import MAX_FIELDS, DocumentSummary, summarize_document


def summary(query: str, name: str | None = None) -> DocumentSummary:
    return summarize_document(query, name, 10_000)


def test_root_fields_in_order_once_each_through_fragments() -> None:
    found = summary(
        "query Q { a: features { id } ...F ... on Query { users { id } } features { name } }"
        " fragment F on Query { packages { id } }"
    )
    assert (found.operation_type, found.operation_name) == ("query", "Q")
    assert found.root_fields == ("features", "packages", "users")


def test_the_named_operation_is_chosen_among_several() -> None:
    text = 'query A { features { id } } mutation B { createUser(input: {id: "u"}) { id } }'
    assert summary(text, "B").root_fields == ("createUser",)
    assert summary(text, "B").operation_type == "mutation"
    assert summary(text).root_fields == ()  # ambiguous without a name
    assert summary(text, "C").root_fields == ()


def test_documents_that_do_not_parse_have_no_fields() -> None:
    assert summary("{ features { id ").root_fields == ()
    assert summary("").operation_type is None
    assert summarize_document("{ a b c d }", None, 3).root_fields == ()  # over the token limit


def test_user_ids_come_from_literals_variables_and_inputs_at_any_depth() -> None:
    found = summary(
        "query($u: String!, $i: CreateUsageEventInput!) {"
        ' canUseFeature(userId: $u, featureId: "f") { access }'
        ' features { entitlement(userId: "deep") { access } }'
        " other: recordUsage(input: $i) { recorded }"
        ' inline: recordUsage(input: {userId: "lit"}) { recorded } }'
    )
    assert found.user_ids({"u": "var", "i": {"userId": "inside", "featureId": "f"}}) == {
        "var",
        "deep",
        "inside",
        "lit",
    }
    assert found.user_ids(None) == {"deep", "lit"}
    assert found.user_ids(["not", "an", "object"]) == {"deep", "lit"}


def test_ids_that_name_users_count_only_on_user_fields() -> None:
    assert summary('{ user(id: "a") { id } users(id: "b") { id } feature(id: "c") { id } }').user_ids({}) == {
        "a",
        "b",
    }
    renamed = summary('mutation { updateUser(id: "old", input: {id: "new"}) { id } }')
    assert renamed.user_ids({}) == {"old", "new"}
    created = summary("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }")
    assert created.user_ids({"i": {"id": "made"}}) == {"made"}


def test_fragment_cycles_and_fan_out_stay_bounded() -> None:
    cycle = summary("{ ...A } fragment A on Query { features { ...A } ...A }")
    assert cycle.root_fields == ("features",)
    assert len(cycle.with_arguments) == 0
    fan = " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(60))
    assert summary("{ ...F0 } " + fan).root_fields == ()
    wide = "{ " + " ".join(f'a{n}: user(id: "u{n}") {{ id }}' for n in range(MAX_FIELDS + 10)) + " }"
    assert len(summarize_document(wide, None, 100_000).with_arguments) == MAX_FIELDS
