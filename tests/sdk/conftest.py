"""Fixtures for the real @usekana/client-kana-js SDK: installed with `npm ci` into a cache folder
outside the repository, served with a test page from its own origin, run in headless Chromium against
a real kana-server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from playwright.async_api import Browser, Page

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.clocks import ShiftedClock
from tests.process import ServerProcess

HERE = Path(__file__).parent
SDK_PACKAGE = "@usekana/client-kana-js"
SDK_VERSION = "0.2.2"
NPM_TIMEOUT = 600


def in_ci() -> bool:
    """Whether this runs in CI, where a missing tool must fail the run instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what: str) -> NoReturn:
    """A tool the SDK tests need is missing: fail in CI, skip (with the reason) elsewhere."""
    message = f"{what} is needed to run the @usekana/client-kana-js SDK tests"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def cache_root() -> Path:
    """Where `npm ci` installs the SDK: KANA_SDK_CACHE, or ~/.cache/kana-server-sdk."""
    configured = os.environ.get("KANA_SDK_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kana-server-sdk"


def install_sdk() -> Path:
    """The SDK package folder, installed once per lockfile content (`npm ci`, no install scripts)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        missing("Node.js with npm (e.g. `apt-get install nodejs npm`)")
    manifests = [HERE / "package.json", HERE / "package-lock.json"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in manifests)).hexdigest()[:16]
    target = cache_root() / digest
    package = target / "node_modules" / SDK_PACKAGE
    if not (package / "package.json").exists():
        staging = cache_root() / f"{digest}.{os.getpid()}.{secrets.token_hex(4)}"
        staging.mkdir(parents=True)
        for manifest in manifests:
            shutil.copy(manifest, staging / manifest.name)
        try:
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=staging,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"`npm ci` for the SDK tests did not finish in {NPM_TIMEOUT} s")
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"`npm ci` for the SDK tests failed:\n{done.stdout}\n{done.stderr}")
        try:
            staging.rename(target)  # atomic: a parallel run that won the race keeps its copy
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    installed = json.loads((package / "package.json").read_text(encoding="utf-8"))
    assert installed["version"] == SDK_VERSION, installed["version"]
    return package


@pytest.fixture(scope="session")
def sdk_package() -> Path:
    """The installed @usekana/client-kana-js package folder."""
    return install_sdk()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence."""


@pytest.fixture(scope="session")
def site(sdk_package: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test page and the SDK's browser bundle, served from an origin of their own."""
    root = tmp_path_factory.mktemp("sdk-site")
    shutil.copy(HERE / "harness.html", root / "harness.html")
    shutil.copy(HERE / "harness.js", root / "harness.js")
    shutil.copy(sdk_package / "dist" / "index.esm.js", root / "client-kana-js.esm.js")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, name="sdk-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def database(session_dir: Path) -> str:
    """A SQLite file of its own for one kana-server of the SDK tests."""
    return f"sqlite+aiosqlite:///{session_dir / f'sdk-{secrets.token_hex(4)}.db'}"


@pytest.fixture(scope="session")
def sdk_server(session_dir: Path) -> Iterator[ServerProcess]:
    """A real `kana-server serve` process with the default CORS settings (any origin)."""
    with ServerProcess("--database", database(session_dir)) as server:
        yield server


@pytest.fixture(scope="session")
def sdk_clock() -> ShiftedClock:
    """The real clock of `clocked_server` (moved to issue tokens that have expired)."""
    return ShiftedClock()


@pytest.fixture(scope="session")
def clocked_server(session_dir: Path, sdk_clock: ShiftedClock) -> Iterator[ThreadedServer]:
    """A real kana-server (uvicorn in a thread, on a free port) whose clock the test moves."""
    settings = Settings(database_url=database(session_dir), port=0)
    with ThreadedServer(settings, clock=sdk_clock) as server:
        yield server


@pytest.fixture
async def admin(sdk_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to the SDK tests' kana-server process (for the Admin API)."""
    async with httpx.AsyncClient(base_url=sdk_server.url, timeout=30) as client:
        yield client


class SdkPage:
    """A browser page running the SDK; `call` runs one SDK method and returns `{data}` or `{error}`."""

    def __init__(self, page: Page, errors: list[str]) -> None:
        self.page = page
        self.errors = errors

    async def client(self, name: str, config: dict[str, Any]) -> None:
        """`new KanaUserClient(config)`, kept under `name`."""
        await self.page.evaluate("([name, config]) => window.kana.create(name, config)", [name, config])

    async def call(self, name: str, method: str, *args: Any) -> Any:
        """`await client[method](...args)`, as JSON."""
        return await self.page.evaluate(
            "([name, method, args]) => window.kana.call(name, method, args)", [name, method, list(args)]
        )


@pytest.fixture
async def sdk(browser: Browser, site: str) -> AsyncIterator[SdkPage]:
    """A fresh page (its own browser context) with the SDK loaded, on the test site's origin."""
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(f"{site}/harness.html")
        await page.wait_for_function("window.kanaReady === true", timeout=30_000)
        yield SdkPage(page, errors)
        assert not errors, errors
    finally:
        await context.close()
