"""Which ids are accepted (D9)."""

from __future__ import annotations

import pytest

from kana_server.domain.errors import InvalidInput
from kana_server.domain.ids import MAX_ID_LENGTH, check_id


@pytest.mark.parametrize(
    "value", ["124", "api-calls", "ユーザー", "a" * MAX_ID_LENGTH, "emoji 🚀", "with space"]
)
def test_accepted_ids(value: str) -> None:
    assert check_id("User", value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "must not be empty"),
        ("a" * (MAX_ID_LENGTH + 1), "at most 255"),
        ("line\nbreak", "control characters"),
        ("nul\x00", "control characters"),
        ("lone\ud800", "lone surrogates"),
    ],
)
def test_refused_ids(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_id("User", value)
