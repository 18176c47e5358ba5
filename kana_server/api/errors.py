"""Kana-shaped errors: the one place where exceptions become GraphQL errors.

Every error carries `extensions.code` and `extensions.exception {name, message}` (the shape Apollo
Server gives and Kana's SDKs read). Unexpected exceptions are logged and masked.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from kana_server.domain.errors import KanaError

log = logging.getLogger("kana_server.api")

VALIDATION_CODE = "BAD_USER_INPUT"
VALIDATION_NAME = "ValidationError"
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"
INTERNAL_NAME = "InternalError"
INTERNAL_MESSAGE = "Internal server error"


def classify(error: GraphQLError) -> tuple[str, str, str]:
    """(code, exception name, message) of a GraphQL error."""
    original = error.original_error
    if isinstance(original, KanaError):
        return original.code, original.name, original.message
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable coercion errors: the request itself is wrong (D20).
        return VALIDATION_CODE, VALIDATION_NAME, error.message
    return INTERNAL_CODE, INTERNAL_NAME, INTERNAL_MESSAGE


def is_unexpected(error: GraphQLError) -> bool:
    """Whether an error is a bug (logged with its traceback, masked for the client)."""
    original = error.original_error
    return original is not None and not isinstance(original, KanaError | GraphQLError)


def format_error(error: GraphQLError) -> dict[str, Any]:
    """A GraphQL error as Kana returns it."""
    code, name, message = classify(error)
    formatted: dict[str, Any] = {"message": message}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        formatted["path"] = error.path
    formatted["extensions"] = {"code": code, "exception": {"name": name, "message": message}}
    return formatted


def log_errors(errors: list[GraphQLError]) -> None:
    """Log the unexpected errors with their tracebacks; expected ones are the client's business."""
    for error in errors:
        if is_unexpected(error):
            log.error("Unexpected error in %s", error.path, exc_info=error.original_error)
