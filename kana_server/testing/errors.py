"""The exceptions the test helpers raise: each message says what was called and what kana-server answered
(D113), so a failing test reads without a debugger."""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN = 2000


def shown(value: Any) -> str:
    """A value as compact JSON for a message, cut when long."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


class KanaTestError(Exception):
    """Base class of the errors raised by `kana_server.testing`."""


class KanaUnavailable(KanaTestError):
    """kana-server could not be reached (not started, wrong `--kana-url`, or it stopped)."""


class KanaGraphQLError(KanaTestError):
    """A GraphQL call answered with errors; `errors` holds them as Kana sent them."""

    def __init__(
        self, operation: str, errors: list[dict[str, Any]], variables: dict[str, Any] | None
    ) -> None:
        self.operation = operation
        self.errors = errors
        self.variables = variables or {}
        first = errors[0] if errors else {}
        extensions = first.get("extensions") or {}
        self.code: str | None = extensions.get("code")
        self.name: str | None = (extensions.get("exception") or {}).get("name")
        self.message = str(first.get("message", ""))
        lines = [f"{operation} failed: {describe(error)}" for error in errors[:1]]
        lines += [f"  and: {describe(error)}" for error in errors[1:]]
        if self.variables:
            lines.append(f"  variables: {shown(self.variables)}")
        if self.code == "UNAUTHENTICATED":
            lines.append(
                "  hint: the kana fixture uses a new random key per test; a server started with "
                "--strict-keys refuses it"
            )
        super().__init__("\n".join(lines))


def describe(error: dict[str, Any]) -> str:
    """One GraphQL error as `CODE ExceptionName: message (at path)`."""
    extensions = error.get("extensions") or {}
    name = (extensions.get("exception") or {}).get("name")
    label = " ".join(str(part) for part in (extensions.get("code"), name) if part)
    path = ".".join(str(part) for part in error.get("path") or [])
    text = f"{label}: {error.get('message')}" if label else str(error.get("message"))
    return f"{text} (at {path})" if path else text


class KanaControlError(KanaTestError):
    """A control-plane or checkout route (`/_kana/...`) answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        self.code: str | None = error.get("code") if isinstance(error, dict) else None
        self.message = str(error.get("message")) if isinstance(error, dict) else shown(body)
        label = f"{status} {self.code}" if self.code else str(status)
        text = f"{method} {path} failed: {label}: {self.message}"
        if status in (404, 405) and self.code is None:
            text += " (this kana-server has no such route: is it older than this plugin?)"
        super().__init__(text)


class NotEntitled(KanaTestError):
    """`usage()` was asked for a feature the user has no usage of (no live package with it, or BINARY)."""


class UsageNotRecorded(KanaTestError):
    """recordUsage answered `recorded: false` (raised by `record_usage` unless `check=False`)."""
