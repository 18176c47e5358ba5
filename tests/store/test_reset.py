"""Reset by registry: every project-scoped table is listed once, and a reset empties exactly those."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from kana_server.domain.config import parse_config
from kana_server.domain.model import Project
from kana_server.runtime import Runtime
from kana_server.settings import Settings
from kana_server.store.models import KEPT_ON_RESET, PROJECT_TABLES
from kana_server.store.scoped import table
from tests.kana import random_key
from tests.state_factory import generated_state

HOUR = timedelta(hours=1)


def project_tables() -> set[str]:
    """Every table that has a project_id column."""
    return {t.name for t in SQLModel.metadata.sorted_tables if "project_id" in t.c}


def test_every_table_with_a_project_id_is_in_exactly_one_registry() -> None:
    reset = {table(model).name for model in PROJECT_TABLES}
    kept = {table(model).name for model in KEPT_ON_RESET}
    assert reset.isdisjoint(kept)
    assert reset | kept == project_tables()
    assert len(PROJECT_TABLES) == len(reset)
    assert len(KEPT_ON_RESET) == len(kept)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = Runtime.create(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}"))
    await runtime.start()
    yield runtime
    await runtime.stop()


async def rows_per_table(runtime: Runtime, project: Project) -> dict[str, int]:

    async def work(conn: Any) -> dict[str, int]:
        counts = {}
        for name in sorted(project_tables()):
            target = SQLModel.metadata.tables[name]
            result = await conn.execute(
                select(func.count()).select_from(target).where(target.c.project_id == project.id)
            )
            counts[name] = int(result.scalar_one())
        return counts

    return await runtime.db.run_read(work)


async def test_a_reset_empties_every_registered_table_of_that_project_only(runtime: Runtime) -> None:
    document = generated_state(users=6, events=80)
    reset_project = await runtime.project(random_key())
    other_project = await runtime.project(random_key())
    for project in (reset_project, other_project):
        services = runtime.services(project)
        await services.project_state.import_state(parse_config(document, "test"))
        await services.billing.generate_subscription_link(
            "user-0000", "pro-monthly", "https://app.test/ok", "https://app.test/no", "http://kana.test", HOUR
        )
        await services.project_state.save_snapshot("saved")
        assert await services.idempotency.prior_answer("key-1", "0" * 64, HOUR) is None
        assert services.state.idempotency is not None
        assert await services.idempotency.keep_answer(services.state.idempotency, b"{}")
    before = await rows_per_table(runtime, reset_project)
    # The data fills every table, so an unregistered table would be caught below.
    assert all(count > 0 for count in before.values()), before
    other_before = await rows_per_table(runtime, other_project)

    await runtime.services(reset_project).project.reset()

    after = await rows_per_table(runtime, reset_project)
    reset_tables = {table(model).name for model in PROJECT_TABLES}
    assert {name: count for name, count in after.items() if name in reset_tables} == dict.fromkeys(
        reset_tables, 0
    )
    assert {name: after[name] for name in after if name not in reset_tables} == {"snapshots": 1}
    assert await rows_per_table(runtime, other_project) == other_before
