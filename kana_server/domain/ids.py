"""Which strings are acceptable ids (users, features, packages): decision D9."""

from __future__ import annotations

import unicodedata

from kana_server.domain.errors import InvalidInput

MAX_ID_LENGTH = 255


def check_id(kind: str, value: str) -> str:
    """Return `value` if it is a usable id: 1–255 characters, no control characters or lone surrogates."""
    if not value:
        raise InvalidInput(f"{kind} id must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{kind} id must be at most {MAX_ID_LENGTH} characters (got {len(value)})")
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            raise InvalidInput(f"{kind} id must not contain control characters: {value!r}")
        if category == "Cs":
            raise InvalidInput(f"{kind} id must not contain lone surrogates: {value!r}")
    return value
