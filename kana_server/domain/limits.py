"""Bounds on what a request may carry (D96)."""

from __future__ import annotations

from typing import Any

from kana_server.domain.errors import InvalidInput

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and lists in a JSON value (metadata)."""


def check_json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> Any:
    """The value, if its objects and lists nest at most `limit` levels; BAD_USER_INPUT otherwise."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
        if not level:
            return value
    raise InvalidInput(f"JSON values may nest at most {limit} levels of objects and lists")
