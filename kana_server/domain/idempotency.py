"""Idempotency keys ([X]): which requests are the same, and what a repeated key gets (D90, D91)."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from kana_server.domain.errors import Conflict, InvalidInput

KEY_MAX_LENGTH = 255


def check_key(key: str) -> str:
    """An Idempotency-Key header value: 1–255 characters, none of them control characters."""
    if not key:
        raise InvalidInput("The Idempotency-Key header must not be empty")
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(f"The Idempotency-Key header is longer than {KEY_MAX_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" for c in key):
        raise InvalidInput("The Idempotency-Key header must not contain control characters")
    return key


def fingerprint(query: str | None, variables: Any, operation_name: str | None) -> str:
    """What makes two requests "the same body": the query text, the variables (as values: key order and
    `variables` sent as a JSON string do not matter) and the operation name (D90)."""
    canonical = json.dumps(
        [query, variables, operation_name], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key as stored: the request it was first used with and, once known, its answer."""

    fingerprint: str
    expires_at: datetime
    response: bytes | None


class Verdict(Enum):
    """What a request carrying a key does."""

    EXECUTE = "execute"  # first use (or the old use expired): run it, claiming the key
    REPLAY = "replay"  # answered before: send that answer again, run nothing
    WAIT = "wait"  # claimed by a request whose answer is not stored yet: wait for it


def verdict(stored: StoredKey | None, request_fingerprint: str, now: datetime) -> Verdict:
    """D91: within the retention window the same body replays, another body is a ConflictError."""
    if stored is None or stored.expires_at <= now:
        return Verdict.EXECUTE
    if stored.fingerprint != request_fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body; use a new key for "
            "a new request"
        )
    return Verdict.WAIT if stored.response is None else Verdict.REPLAY


@dataclass(slots=True)
class Claim:
    """A request's key, claimed in its first write transaction (so it commits with the writes)."""

    key: str
    fingerprint: str
    now: datetime
    expires_at: datetime
    committed: bool = False  # a write transaction holding the claim committed
    lost: bool = False  # another request holds the key: this one must replay its answer
