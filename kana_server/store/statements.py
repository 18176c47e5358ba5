"""The hot path's statements, built once (D103).

Building a SQLAlchemy statement and computing its cache key cost more than running it on SQLite. The
statements every request runs (the key's project, the user, its subscriptions, the catalog version, the
usage counter and event) are built here once, with bind parameters, so that a request only binds values:
on SQLite they run on the driver directly (store/prepared.py), elsewhere SQLAlchemy finds their
compiled form in its cache.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from kana_server.store.prepared import prepare
from kana_server.store.scoped import (
    PACKAGES,
    PROJECTS,
    SUBSCRIPTIONS,
    USAGE_COUNTERS,
    USAGE_EVENTS,
    USERS,
)

PROJECT_BY_PRIVATE_KEY = prepare(select(PROJECTS).where(PROJECTS.c.private_key == bindparam("key")))
PROJECT_BY_PUBLIC_KEY = prepare(select(PROJECTS).where(PROJECTS.c.public_key == bindparam("key")))

CATALOG_VERSION = prepare(select(PROJECTS.c.catalog_version).where(PROJECTS.c.id == bindparam("project_id")))

_USER = select(USERS).where(USERS.c.project_id == bindparam("project_id"), USERS.c.id == bindparam("user_id"))
USER = prepare(_USER)
USER_FOR_UPDATE = prepare(_USER.with_for_update())

SUBSCRIPTION_COLUMNS = (
    SUBSCRIPTIONS.c.pk,
    SUBSCRIPTIONS.c.id,
    SUBSCRIPTIONS.c.status,
    SUBSCRIPTIONS.c.started_at,
    SUBSCRIPTIONS.c.status_changed_at,
    SUBSCRIPTIONS.c.metadata,
    USERS.c.id.label("user_id"),
    PACKAGES.c.id.label("package_id"),
)

SUBSCRIPTIONS_OF_USER = prepare(
    select(*SUBSCRIPTION_COLUMNS)
    .join(USERS, USERS.c.pk == SUBSCRIPTIONS.c.user_pk)
    .join(PACKAGES, PACKAGES.c.pk == SUBSCRIPTIONS.c.package_pk)
    .where(
        SUBSCRIPTIONS.c.project_id == bindparam("project_id"), SUBSCRIPTIONS.c.user_pk == bindparam("user_pk")
    )
    .order_by(SUBSCRIPTIONS.c.pk)
)

USER_HOLDINGS = prepare(
    select(
        USERS.c.pk.label("user_pk"),
        USERS.c.billing_id.label("user_billing_id"),
        USERS.c.name.label("user_name"),
        USERS.c.email.label("user_email"),
        USERS.c.metadata.label("user_metadata"),
        PROJECTS.c.catalog_version,
        *SUBSCRIPTION_COLUMNS,
    )
    .select_from(
        USERS.join(PROJECTS, PROJECTS.c.id == USERS.c.project_id)
        .outerjoin(SUBSCRIPTIONS, SUBSCRIPTIONS.c.user_pk == USERS.c.pk)
        .outerjoin(PACKAGES, PACKAGES.c.pk == SUBSCRIPTIONS.c.package_pk)
    )
    .where(USERS.c.project_id == bindparam("project_id"), USERS.c.id == bindparam("user_id"))
    .order_by(SUBSCRIPTIONS.c.pk)
)
"""A user, its subscriptions (oldest first; one row each, or one row of NULLs without any) and the
project's catalog version, in one statement: what every entitlement read and usage write starts with."""

_COUNTER = select(USAGE_COUNTERS.c.used).where(
    USAGE_COUNTERS.c.user_pk == bindparam("user_pk"),
    USAGE_COUNTERS.c.feature_pk == bindparam("feature_pk"),
    USAGE_COUNTERS.c.subscription_pk == bindparam("subscription_pk"),
    USAGE_COUNTERS.c.period_index == bindparam("period_index"),
)
COUNTER_USED = prepare(_COUNTER)
COUNTER_USED_FOR_UPDATE = prepare(_COUNTER.with_for_update())

COUNTERS_OF_FEATURE = prepare(
    select(USAGE_COUNTERS.c.subscription_pk, USAGE_COUNTERS.c.period_index, USAGE_COUNTERS.c.used).where(
        USAGE_COUNTERS.c.user_pk == bindparam("user_pk"),
        USAGE_COUNTERS.c.feature_pk == bindparam("feature_pk"),
    )
)

COUNTER_KEY = ["user_pk", "feature_pk", "subscription_pk", "period_index"]


def _binds(*names: str) -> dict[str, Any]:
    """A bind parameter per column, named after it."""
    return {name: bindparam(name) for name in names}


def _counter_upserts(insert_of: Any) -> dict[bool, Any]:
    """The counter's upsert for ADD (used + delta) and SET (used = delta), returning the new value."""
    found = {}
    for is_set in (False, True):
        statement = insert_of(USAGE_COUNTERS).values(
            **_binds(*COUNTER_KEY, "project_id"), used=bindparam("delta")
        )
        new_used = statement.excluded.used if is_set else USAGE_COUNTERS.c.used + statement.excluded.used
        found[is_set] = statement.on_conflict_do_update(
            index_elements=COUNTER_KEY, set_={"used": new_used}
        ).returning(USAGE_COUNTERS.c.used)
    return found


COUNTER_UPSERT = {is_set: prepare(s) for is_set, s in _counter_upserts(sqlite.insert).items()}
"""SQLite's counter upsert per action (True: SET)."""
COUNTER_UPSERT_POSTGRESQL = _counter_upserts(postgresql.insert)
"""PostgreSQL's counter upsert per action (True: SET)."""

COUNTER_INSERT = prepare(insert(USAGE_COUNTERS).values(**_binds(*COUNTER_KEY, "project_id", "used")))

EVENT_INSERT = prepare(
    insert(USAGE_EVENTS).values(
        **_binds(*COUNTER_KEY, "project_id", "action", "delta", "used_after", "recorded_at")
    )
)
