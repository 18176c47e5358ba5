"""Generated project states (export documents) for the state tests: a catalog from
tests/fixtures/state/catalog.yaml, users on every kind of package, and many usage events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from kana_server.domain.clock import format_instant
from tests.kana import fixture

FROZEN_AT = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
"""The generated projects' clock (frozen)."""

CONSUMABLES = {
    "free": ["api-calls", "messages"],
    "pro": ["api-calls", "messages", "seats"],
    "legacy": ["api-calls"],
    "extra-calls": ["api-calls"],
    "more-messages": ["messages"],
}


def generated_state(*, users: int, events: int, seed: int = 7) -> dict[str, Any]:
    """A document with `users` users (base packages, some add-ons) and `events` usage events in the
    past periods of their subscriptions, in time order; the clock frozen at FROZEN_AT."""
    rng = random.Random(seed)
    document = fixture("state/catalog.yaml")
    document["clock"] = {"offset_ms": 0, "frozen_at": format_instant(FROZEN_AT)}
    document["users"] = []
    document["subscriptions"] = []
    holdings: list[tuple[str, datetime, list[str]]] = []
    for index in range(users):
        user_id = f"user-{index:04d}"
        document["users"].append({"id": user_id, "name": f"User {index}", "email": f"{user_id}@example.com"})
        base = rng.choice(["free", "pro", "legacy"])
        packages = [base]
        if base == "pro" and rng.random() < 0.5:
            packages.append("extra-calls")
        if rng.random() < 0.3:
            packages.append("more-messages")
        started = FROZEN_AT - timedelta(days=rng.randint(20, 500), seconds=rng.randint(0, 86_399))
        for package in packages:
            document["subscriptions"].append(
                {"user": user_id, "package": package, "started_at": format_instant(started)}
            )
        features = sorted({f for p in packages for f in CONSUMABLES[p]})
        holdings.append((user_id, started, features))
    usage = []
    for _ in range(events):
        user_id, started, features = rng.choice(holdings)
        span = (FROZEN_AT - started).total_seconds()
        at = started + timedelta(milliseconds=rng.randint(0, int(span * 1000)))
        entry: dict[str, Any] = {"user": user_id, "feature": rng.choice(features), "at": at}
        if rng.random() < 0.05:
            entry |= {"action": "SET", "delta": rng.randint(0, 30)}
        else:
            entry["delta"] = rng.randint(1, 50)
        usage.append(entry)
    usage.sort(key=lambda e: e["at"])
    document["usage"] = [e | {"at": format_instant(e["at"])} for e in usage]
    return document
