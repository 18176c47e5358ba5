"""The benchmark's project: consumable features in one unlimited MONTH package, every user subscribed.

The same document seeds kana-server (`serve --seed`) and the floor, and, with usage events added, is
the export that `kana-server import` loads for the scaling curve, the import timing and the memory
measurement.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

CONSUMABLE = ("api-calls", "messages", "exports", "storage")
BINARY = ("dashboard",)
PACKAGE = "bench-plan"
PRIVATE_KEY = "prv_test_kana_server_local"
PUBLIC_KEY = "pub_test_kana_server_local"

Pair = tuple[str, str]
"""(user id, feature id)."""


def instant(moment: datetime) -> str:
    """An instant as kana-server writes it: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user_id(index: int) -> str:
    """The id of the benchmark's user number `index`."""
    return f"user-{index}"


@dataclass(frozen=True)
class BenchProject:
    """`users` users, each subscribed since `started_at` to the one package holding every feature."""

    users: int
    started_at: datetime

    @classmethod
    def started_yesterday(cls, users: int) -> BenchProject:
        """A project whose subscriptions began a day ago: every event of the last day is in period 0."""
        return cls(users, datetime.now(UTC) - timedelta(days=1))

    def user_ids(self) -> list[str]:
        """Every user id, in order."""
        return [user_id(i) for i in range(self.users)]

    def pairs(self) -> list[Pair]:
        """Every (user, consumable feature) pair."""
        return [(user, feature) for user in self.user_ids() for feature in CONSUMABLE]

    def seed_document(self) -> dict[str, Any]:
        """The project as a kana-server seed (a Kana CLI config plus users and subscriptions)."""
        started = instant(self.started_at)
        return {
            "version": "1.0.0",
            "app": "kana-server bench",
            "features": [
                *({"id": f, "name": f.title(), "type": "CONSUMABLE"} for f in CONSUMABLE),
                *({"id": f, "name": f.title(), "type": "BINARY"} for f in BINARY),
            ],
            "packages": {
                "draft": [],
                "published": [
                    {
                        "id": PACKAGE,
                        "name": "Bench plan",
                        "features": [
                            *({"id": f, "limit": None, "reset_period": "MONTH"} for f in CONSUMABLE),
                            *({"id": f} for f in BINARY),
                        ],
                    }
                ],
            },
            "users": [{"id": user, "name": user.title()} for user in self.user_ids()],
            "subscriptions": [
                {
                    "id": str(i + 1),
                    "user": user,
                    "package": PACKAGE,
                    "status": "ACTIVE",
                    "started_at": started,
                }
                for i, user in enumerate(self.user_ids())
            ],
        }

    def write_seed(self, path: Path) -> Path:
        """Write the seed as JSON (kana-server reads YAML or JSON) and return its path."""
        path.write_bytes(orjson.dumps(self.seed_document()))
        return path


@dataclass(frozen=True)
class EventLayout:
    """Where a populated database's usage events are: half on one pair, half spread over the rest."""

    events: int
    users: int
    hot_pair: Pair
    hot_events: int
    spread_events: int

    def spread_pairs(self, count: int, seed: int = 12) -> list[Pair]:
        """A fixed sample of pairs holding spread events (never the hot pair)."""
        chooser = random.Random(seed)
        return [(user_id(chooser.randrange(1, self.users)), chooser.choice(CONSUMABLE)) for _ in range(count)]

    def as_dict(self) -> dict[str, Any]:
        """For results.json."""
        return {
            "events": self.events,
            "users": self.users,
            "hot_pair": list(self.hot_pair),
            "hot_events": self.hot_events,
            "spread_events": self.spread_events,
        }


def users_for(events: int) -> int:
    """Users of a populated database: one per ten events, between 100 and 100 000."""
    return max(100, min(100_000, events // 10))


def _event_lines(project: BenchProject, layout: EventLayout) -> Iterator[bytes]:
    """The export's usage entries, each a JSON object (all in period 0 of their subscription)."""
    at = instant(project.started_at + timedelta(hours=1)).encode()
    hot_user, hot_feature = layout.hot_pair
    hot = b'{"user":"%s","feature":"%s","subscription":"1","period":0,"delta":1,"at":"%s"}' % (
        hot_user.encode(),
        hot_feature.encode(),
        at,
    )
    for _ in range(layout.hot_events):
        yield hot
    others = project.users - 1
    for j in range(layout.spread_events):
        index = 1 + j % others
        feature = CONSUMABLE[(j // others) % len(CONSUMABLE)]
        yield b'{"user":"user-%d","feature":"%s","subscription":"%d","period":0,"delta":1,"at":"%s"}' % (
            index,
            feature.encode(),
            index + 1,
            at,
        )


def write_export(path: Path, events: int) -> EventLayout:
    """Write an export (`kana-server import` format) holding `events` usage events; its layout."""
    project = BenchProject.started_yesterday(users_for(events))
    layout = EventLayout(
        events=events,
        users=project.users,
        hot_pair=(user_id(0), CONSUMABLE[0]),
        hot_events=events // 2,
        spread_events=events - events // 2,
    )
    head = orjson.dumps(project.seed_document())
    with path.open("wb") as out:
        out.write(head[:-1] + b',"usage":[')
        batch: list[bytes] = []
        first = True
        for line in _event_lines(project, layout):
            batch.append(line)
            if len(batch) == 10_000:
                out.write((b"" if first else b",") + b",".join(batch))
                first, batch = False, []
        if batch:
            out.write((b"" if first else b",") + b",".join(batch))
        out.write(b"]}")
    return layout
