"""Kana's scalars: JSON (any value) and DateTime (ISO-8601, UTC, milliseconds, `Z`)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from kana_server.domain.clock import format_instant, parse_instant
from kana_server.domain.limits import check_json_depth

__all__ = ["JSON", "DateTime", "JSONValue", "format_instant"]

ECMA_404 = "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"


def _identity(value: Any) -> Any:
    return value


JSONValue = strawberry.scalar(
    name="JSON",
    description=f"The `JSON` scalar type represents JSON values as specified by [ECMA-404]({ECMA_404}).",
    specified_by_url=ECMA_404,
    serialize=_identity,
    parse_value=check_json_depth,
)
"""Strawberry's JSON scalar, refusing values nested too deep to store and answer (D96)."""


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 instant in UTC, e.g. 2022-01-21T16:08:09.640Z.",
    serialize=format_instant,
    parse_value=parse_instant,
)
