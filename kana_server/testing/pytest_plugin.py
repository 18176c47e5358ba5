"""The pytest plugin, active in every project that installs kana-server (entry point `pytest11`,
name `kana_server`; `-p no:kana_server` turns it off).

Fixtures: `kana_server` (session: a real kana-server, or the one at `--kana-url`), `kana` (a fresh,
empty project per test, with helpers), `kana_clock` (that project's virtual clock) and
`kana_server_settings` (override it to change the started server's settings); the marker `kana_seed`;
the option `--kana-url` (or `KANA_URL`). Everything else is imported when a fixture is first used, so
the plugin costs nothing in test runs that do not use it (D119).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import PurePath
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kana_server.settings import Settings
    from kana_server.testing.clock import KanaClock
    from kana_server.testing.endpoint import KanaServer
    from kana_server.testing.project import Kana

URL_VARIABLE = "KANA_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--kana-url`."""
    group = parser.getgroup("kana-server", "kana-server (a local stand-in for Kana)")
    group.addoption(
        "--kana-url",
        default=None,
        metavar="URL",
        help=f"use the kana-server already running at URL (default: ${URL_VARIABLE}; "
        "else each test process starts its own on a free 127.0.0.1 port)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the `kana_seed` marker (so `--strict-markers` accepts it)."""
    config.addinivalue_line(
        "markers",
        "kana_seed(*seeds): seeds applied to the `kana` project before the test: YAML or JSON text, "
        "dicts, or Paths (relative ones from the test file's folder); module and class marks first",
    )


def external_url(config: pytest.Config) -> str | None:
    """The running server to use (D112): `--kana-url`, else `KANA_URL`, else none (start one)."""
    option = config.getoption("kana_url", default=None)
    return str(option) if option else os.environ.get(URL_VARIABLE) or None


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which kana-server the tests use when it is an external one."""
    url = external_url(config)
    return f"kana-server: {url} (--kana-url / {URL_VARIABLE})" if url else None


@pytest.fixture(scope="session")
def kana_server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings of the kana-server the plugin starts (D110): 127.0.0.1, a free port, a new SQLite file,
    any well-formed key accepted. Override this fixture in a conftest.py to change them."""
    from kana_server.settings import Settings

    database = tmp_path_factory.mktemp("kana-server") / "kana.db"
    return Settings(
        host="127.0.0.1",
        port=0,
        database_url=f"sqlite+aiosqlite:///{database}",
        seed=None,
        export_on_exit=None,
        strict_keys=False,
        public_url=None,
        workers=1,
        log_level="warning",
        access_log=False,
        sqlite_synchronous="OFF",  # a throwaway database: durability buys nothing
    )


@pytest.fixture(scope="session")
def kana_server(request: pytest.FixtureRequest) -> Iterator[KanaServer]:
    """A kana-server for the session: the one at `--kana-url` / `KANA_URL`, else a real server started in
    a background thread of this process (one per pytest-xdist worker) and stopped at the end."""
    from kana_server.testing.endpoint import KanaServer
    from kana_server.testing.errors import KanaUnavailable

    url = external_url(request.config)
    if url:
        with KanaServer(url, external=True) as server:
            try:
                server.check_health()
            except KanaUnavailable as exc:
                pytest.fail(str(exc), pytrace=False)
            yield server
        return
    from kana_server.testing.server import ThreadedServer

    settings: Settings = request.getfixturevalue("kana_server_settings")
    with ThreadedServer(settings) as threaded, KanaServer(threaded.url) as server:
        yield server


@pytest.fixture
def kana(kana_server: KanaServer, request: pytest.FixtureRequest) -> Kana:
    """A new, empty project on the session's kana-server (its own random private key, D111), with
    helpers: seed, create_user, subscribe, record_usage, usage, can_use, gql, pay, requests, clock."""
    project = kana_server.project()
    request.node.add_report_section("setup", "kana", failure_section(project))
    apply_seed_marks(project, request)
    return project


def apply_seed_marks(project: Kana, request: pytest.FixtureRequest) -> None:
    """Apply the test's `kana_seed` marks (D115): the module's first, then the class's, then its own."""
    from kana_server.testing.errors import KanaTestError

    for mark in reversed(list(request.node.iter_markers("kana_seed"))):
        for source in mark.args:
            if isinstance(source, PurePath) and not source.is_absolute():
                source = request.path.parent / source
            try:
                project.seed(source)
            except (KanaTestError, OSError, ValueError) as exc:
                what = source if isinstance(source, PurePath) else f"a {type(source).__name__}"
                pytest.fail(f"kana_seed mark ({what}): {exc}", pytrace=False)


@pytest.fixture
def kana_clock(kana: Kana) -> KanaClock:
    """The `kana` project's virtual clock: freeze, set, advance (no other project sees it)."""
    return kana.clock


def failure_section(project: Kana) -> str:
    """What a failed test's report shows about its project (D118)."""
    lines = [
        f"project: {project.keys.private} (public key {project.keys.public})",
        f"server:  {project.url} (Admin API {project.admin_url})",
    ]
    if project.server.external:
        lines.append(f"state:   curl -s {project.url}/_kana/state -H 'Authorization: {project.keys.private}'")
    return "\n".join(lines)
