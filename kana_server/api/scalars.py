"""Kana's scalars: JSON (any value) and DateTime (ISO-8601, UTC, milliseconds, `Z`)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from kana_server.domain.clock import format_instant, parse_instant

__all__ = ["JSON", "DateTime", "format_instant"]


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 instant in UTC, e.g. 2022-01-21T16:08:09.640Z.",
    serialize=format_instant,
    parse_value=parse_instant,
)
