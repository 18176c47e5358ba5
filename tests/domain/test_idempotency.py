"""Idempotency keys and JSON depth: the pure rules (D90, D91, D96)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kana_server.domain.errors import Conflict, InvalidInput
from kana_server.domain.idempotency import StoredKey, Verdict, check_key, fingerprint, verdict
from kana_server.domain.limits import MAX_JSON_DEPTH, check_json_depth

NOW = datetime(2026, 1, 1, tzinfo=UTC)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def test_a_first_use_or_an_expired_key_runs() -> None:
    assert verdict(None, "f", NOW) is Verdict.EXECUTE
    assert verdict(StoredKey("f", NOW, b"{}"), "f", NOW) is Verdict.EXECUTE
    assert verdict(StoredKey("other", NOW - timedelta(seconds=1), None), "f", NOW) is Verdict.EXECUTE


def test_a_live_key_replays_or_waits_for_its_answer() -> None:
    later = NOW + timedelta(seconds=1)
    assert verdict(StoredKey("f", later, b"{}"), "f", NOW) is Verdict.REPLAY
    assert verdict(StoredKey("f", later, None), "f", NOW) is Verdict.WAIT


def test_a_live_key_with_another_body_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="different request body"):
        verdict(StoredKey("f", NOW + timedelta(hours=1), b"{}"), "g", NOW)


@pytest.mark.parametrize(("key", "message"), [("", "empty"), ("k" * 256, "255"), ("a\nb", "control")])
def test_malformed_keys_are_refused(key: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_key(key)


def test_a_key_may_be_any_printable_text_up_to_255_characters() -> None:
    assert check_key("k" * 255) == "k" * 255
    assert check_key("order 12/€ ✓") == "order 12/€ ✓"


@given(st.dictionaries(st.text(), json_values))
def test_the_fingerprint_ignores_key_order(variables: dict[str, Any]) -> None:
    reordered = dict(reversed(list(variables.items())))
    assert fingerprint("q", variables, None) == fingerprint("q", reordered, None)


def test_the_fingerprint_tells_query_variables_and_operation_apart() -> None:
    prints = {
        fingerprint("q", {"a": 1}, None),
        fingerprint("q2", {"a": 1}, None),
        fingerprint("q", {"a": 2}, None),
        fingerprint("q", {"a": 1}, "Op"),
        fingerprint("q", None, None),
    }
    assert len(prints) == 5


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for index in range(levels):
        value = {"a": value} if index % 2 else [value]
    return value


def test_json_may_nest_up_to_the_limit() -> None:
    value = nested(MAX_JSON_DEPTH)
    assert check_json_depth(value) is value
    assert check_json_depth("flat") == "flat"
    assert check_json_depth({"a": [], "b": {}}) == {"a": [], "b": {}}


def test_json_nested_deeper_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 32 levels"):
        check_json_depth(nested(MAX_JSON_DEPTH + 1))
