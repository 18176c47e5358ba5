"""For the tests that run a user's test suite with `pytester` (each such module declares
`pytest_plugins = ["pytester"]`)."""

from __future__ import annotations

import socket

import httpcore  # noqa: F401  (see below)
import pytest

from tests.kana import FIXTURES

# In-process runs drop the modules they imported when they end. httpx imports httpcore when its first
# client is made and keeps a map of httpcore's exception classes: were that to happen inside a run, the
# next run's fresh httpcore would raise classes the map does not know. Imported here, it stays.

# The inner runs leave out plugins of this repository's own environment that a user's project would
# configure itself (pytest-asyncio warns when it is not configured). In-process runs find kana_server
# already imported by the outer run, so pytest cannot rewrite its asserts and says so: not a warning a
# user's run would see.
INNER_INI = """
[pytest]
addopts = -p no:cacheprovider -p no:asyncio
filterwarnings =
    error
    ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project in pytester's folder: the settings above and the plugin tests' catalog.yaml; no
    `KANA_URL` or xdist variables from this run's environment."""
    for name in ("KANA_URL", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(INNER_INI)
    pytester.makefile(".yaml", catalog=(FIXTURES / "plugin_catalog.yaml").read_text(encoding="utf-8"))
    return pytester


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on now (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
