"""The floor's SQL: one sqlite3 connection, used only from the one thread that opened it.

The same rows as kana-server's durable work: an event row plus a counter row upserted in one
transaction per write; reads of the counter row and of the subscription and its entitlement.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Json = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT, email TEXT);
CREATE TABLE IF NOT EXISTS features (
  pk INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages (id TEXT PRIMARY KEY, name TEXT NOT NULL, is_addon INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entitlements (
  package TEXT NOT NULL, feature_pk INTEGER NOT NULL, lim INTEGER, reset_period TEXT,
  overage INTEGER NOT NULL, PRIMARY KEY (package, feature_pk));
CREATE TABLE IF NOT EXISTS subscriptions (
  pk INTEGER PRIMARY KEY, user_pk INTEGER NOT NULL, package TEXT NOT NULL, status TEXT NOT NULL,
  started_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS subscriptions_user ON subscriptions (user_pk);
CREATE TABLE IF NOT EXISTS counters (
  user_pk INTEGER NOT NULL, feature_pk INTEGER NOT NULL, subscription_pk INTEGER NOT NULL,
  period INTEGER NOT NULL, used INTEGER NOT NULL,
  PRIMARY KEY (user_pk, feature_pk, subscription_pk, period)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  pk INTEGER PRIMARY KEY, user_pk INTEGER NOT NULL, feature_pk INTEGER NOT NULL,
  subscription_pk INTEGER NOT NULL, period INTEGER NOT NULL, delta INTEGER NOT NULL,
  used_after INTEGER NOT NULL, at TEXT NOT NULL);
"""

ENTITLEMENT = """
SELECT u.pk, s.pk, s.started_at, f.pk, f.type, e.lim, e.reset_period, e.overage
FROM users u
JOIN subscriptions s ON s.user_pk = u.pk AND s.status = 'ACTIVE'
JOIN entitlements e ON e.package = s.package
JOIN features f ON f.pk = e.feature_pk
WHERE u.id = ? AND f.id = ?
ORDER BY e.lim IS NOT NULL, e.lim DESC, s.pk
LIMIT 1
"""
USED = "SELECT used FROM counters WHERE user_pk = ? AND feature_pk = ? AND subscription_pk = ? AND period = ?"
UPSERT = """
INSERT INTO counters (user_pk, feature_pk, subscription_pk, period, used) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (user_pk, feature_pk, subscription_pk, period) DO UPDATE SET used = used + excluded.used
RETURNING used
"""
EVENT = (
    "INSERT INTO events (user_pk, feature_pk, subscription_pk, period, delta, used_after, at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
REASON_GRANTED = (
    "The user has a subcription to a package with this consumable feature and either has an "
    "allowance remaining or overage is enabled."
)
UNLIMITED = 2_147_483_647


class FloorError(Exception):
    """A request the floor answers with a GraphQL-style error on HTTP 200 (as kana-server does)."""


def month_index(started: datetime, now: datetime) -> int:
    """Whole months from `started` to `now` (the index of the MONTH period `now` is in)."""
    months = (now.year - started.year) * 12 + now.month - started.month
    if (now.day, now.time()) < (started.day, started.time()):
        months -= 1
    return max(months, 0)


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole months (the day clamped to the month's length)."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))


def instant(moment: datetime) -> str:
    """UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Grant:
    """Where one user's usage of one feature counts now."""

    user_pk: int
    subscription_pk: int
    feature_pk: int
    started: datetime
    period: int
    kind: str
    limit: int | None
    reset: str | None
    overage: bool

    @property
    def counter_key(self) -> tuple[int, int, int, int]:
        """The primary key of the current period's counter row."""
        return (self.user_pk, self.feature_pk, self.subscription_pk, self.period)

    def window(self, index: int) -> tuple[datetime, datetime]:
        """[start, end) of a MONTH period (a feature without a reset period has one endless period)."""
        if not self.reset:
            return self.started, self.started
        return add_months(self.started, index), add_months(self.started, index + 1)


class FloorStore:
    """The floor's SQLite file; every method runs on the one worker thread that opened it."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection."""
        assert self._conn is not None, "FloorStore.open() was not called"
        return self._conn

    def open(self, seed: Json | None) -> None:
        """Open the file (WAL, the given `synchronous`), create the tables, seed an empty database."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.executescript(SCHEMA)
        self._conn = conn
        if seed is not None and conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0:
            self._seed(seed)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _seed(self, document: Json) -> None:
        """Load the features, published packages, users and subscriptions of a kana-server seed."""
        conn = self.conn
        now = instant(datetime.now(UTC))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO features (id, name, type) VALUES (?, ?, ?)",
            [(f["id"], f.get("name") or f["id"], f["type"]) for f in document["features"]],
        )
        features = dict(conn.execute("SELECT id, pk FROM features").fetchall())
        for kind, is_addon in (("packages", 0), ("addons", 1)):
            for package in document.get(kind, {}).get("published", []):
                conn.execute(
                    "INSERT INTO packages (id, name, is_addon) VALUES (?, ?, ?)",
                    (package["id"], package.get("name") or package["id"], is_addon),
                )
                conn.executemany(
                    "INSERT INTO entitlements VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            package["id"],
                            features[f["id"]],
                            f.get("limit"),
                            f.get("reset_period"),
                            int(bool(f.get("overage_enabled"))),
                        )
                        for f in package["features"]
                    ],
                )
        conn.executemany(
            "INSERT INTO users (id, name, email) VALUES (?, ?, ?)",
            [(u["id"], u.get("name"), u.get("email")) for u in document.get("users", [])],
        )
        users = dict(conn.execute("SELECT id, pk FROM users").fetchall())
        conn.executemany(
            "INSERT INTO subscriptions (user_pk, package, status, started_at) VALUES (?, ?, ?, ?)",
            [
                (users[s["user"]], s["package"], s.get("status", "ACTIVE"), s.get("started_at") or now)
                for s in document.get("subscriptions", [])
            ],
        )
        conn.execute("COMMIT")

    def _grant(self, user: str, feature: str) -> Grant:
        """The subscription and entitlement a pair's usage counts in (the highest limit wins)."""
        row = self.conn.execute(ENTITLEMENT, (user, feature)).fetchone()
        if row is None:
            if self.conn.execute("SELECT 1 FROM users WHERE id = ?", (user,)).fetchone() is None:
                raise FloorError(f'User "{user}" not found')
            raise FloorError(f'Feature "{feature}" is not in a live package of user "{user}"')
        user_pk, subscription_pk, started, feature_pk, kind, limit, reset, overage = row
        start = datetime.fromisoformat(started)
        period = month_index(start, datetime.now(UTC)) if reset else 0
        return Grant(user_pk, subscription_pk, feature_pk, start, period, kind, limit, reset, bool(overage))

    def record(self, user: str, feature: str, delta: int) -> Json:
        """Append one event and move its period's counter, in one transaction (recordUsage)."""
        grant = self._grant(user, feature)
        if grant.kind != "CONSUMABLE":
            return {"data": {"recordUsage": {"recorded": False, "reason": "Binary features have no usage"}}}
        key = grant.counter_key
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if grant.limit is not None and not grant.overage:
                row = conn.execute(USED, key).fetchone()
                if (row[0] if row else 0) + delta > grant.limit:
                    conn.execute("ROLLBACK")
                    return {"data": {"recordUsage": {"recorded": False, "reason": "Over the limit"}}}
            used_after = conn.execute(UPSERT, (*key, delta)).fetchall()[0][0]
            conn.execute(EVENT, (*key, delta, used_after, instant(datetime.now(UTC))))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return {"data": {"recordUsage": {"recorded": True, "reason": None}}}

    def _consumption(self, grant: Grant) -> Json | None:
        """The counter row of a grant's current period (None for a binary feature)."""
        if grant.kind != "CONSUMABLE":
            return None
        row = self.conn.execute(USED, grant.counter_key).fetchone()
        return {"used": row[0] if row else 0, "budget": grant.limit, "overageEnabled": grant.overage}

    def can_use(self, user: str, feature: str) -> Json:
        """The counter row and the entitlement of a pair (canUseFeature)."""
        consumption = self._consumption(self._grant(user, feature))
        return {
            "data": {"canUseFeature": {"access": True, "reason": REASON_GRANTED, "consumption": consumption}}
        }

    def show_usage(self, user: str, feature: str) -> Json:
        """Every period's counter of a pair, the current one apart (showUsage)."""
        grant = self._grant(user, feature)
        consumption = self._consumption(grant)
        rows = self.conn.execute(
            "SELECT period, used FROM counters WHERE user_pk = ? AND feature_pk = ? AND subscription_pk = ? "
            "ORDER BY period",
            (grant.user_pk, grant.feature_pk, grant.subscription_pk),
        ).fetchall()

        def period(index: int, used: int) -> Json:
            start, end = grant.window(index)
            return {
                "periodStart": instant(start),
                "periodEnd": instant(end),
                "consumption": {"used": used, "budget": grant.limit, "overageEnabled": grant.overage},
            }

        past = [period(index, used) for index, used in rows if index < grant.period]
        current = period(grant.period, consumption["used"] if consumption else 0)
        return {"data": {"showUsage": {"current": current, "past": past}}}

    def features(self) -> Json:
        """Every feature (the `features` listing)."""
        rows = self.conn.execute("SELECT id, name, type FROM features ORDER BY pk").fetchall()
        return {
            "data": {
                "features": [
                    {"id": i, "name": n, "type": t, "unitLabel": None, "unitLabelPlural": None}
                    for i, n, t in rows
                ]
            }
        }

    def current_user(self, user: str) -> Json:
        """A user, its live packages and its entitlement to each of their features (currentUser)."""
        now = datetime.now(UTC)
        found = self.conn.execute("SELECT pk, name, email FROM users WHERE id = ?", (user,)).fetchone()
        if found is None:
            raise FloorError(f'User "{user}" not found')
        user_pk, name, email = found
        rows = self.conn.execute(
            "SELECT s.pk, s.started_at, p.id, p.name, p.is_addon, f.pk, f.id, f.name, f.type, e.lim, "
            "e.reset_period FROM subscriptions s JOIN packages p ON p.id = s.package "
            "JOIN entitlements e ON e.package = p.id JOIN features f ON f.pk = e.feature_pk "
            "WHERE s.user_pk = ? AND s.status = 'ACTIVE' ORDER BY s.pk, f.pk",
            (user_pk,),
        ).fetchall()
        counters = {
            (f, s, p): used
            for f, s, p, used in self.conn.execute(
                "SELECT feature_pk, subscription_pk, period, used FROM counters WHERE user_pk = ?", (user_pk,)
            )
        }
        packages: dict[int, Json] = {}
        for sub_pk, started, pid, pname, addon, f_pk, fid, fname, ftype, limit, reset in rows:
            package = packages.setdefault(
                sub_pk, {"id": pid, "name": pname, "isAddon": bool(addon), "features": []}
            )
            period = month_index(datetime.fromisoformat(started), now) if reset else 0
            consumption = (
                {
                    "budget": UNLIMITED if limit is None else limit,
                    "used": counters.get((f_pk, sub_pk, period), 0),
                }
                if ftype == "CONSUMABLE"
                else None
            )
            package["features"].append(
                {
                    "id": fid,
                    "name": fname,
                    "type": ftype,
                    "entitlement": {"access": True, "consumption": consumption},
                }
            )
        return {
            "data": {
                "currentUser": {
                    "id": user,
                    "name": name,
                    "email": email,
                    "subscribedPackages": list(packages.values()),
                }
            }
        }
