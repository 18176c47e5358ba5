"""GraphQL-over-HTTP conformance: graphql-http's own server audit (`shared/tools/gql-http-audit`, beside
the repository) reports no error for /graphql and /client/graphql of a real `kana-server serve`. The
remaining warnings are about `application/graphql-response+json`, which kana-server does not speak (D93).
Needs node and npm (the tool installs graphql-http into a cache on first use); skipped without them,
except in CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kana import Api, random_key
from tests.process import ServerProcess

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).parents[2]
SUMMARY = re.compile(r"graphql-http audit: (\d+) ok, (\d+) notice, (\d+) warn, (\d+) error")


def audit_tool() -> Path | None:
    """`gql-http-audit` from KANA_GQL_HTTP_AUDIT, or from a `shared/tools` folder beside the repository."""
    if configured := os.environ.get("KANA_GQL_HTTP_AUDIT"):
        return Path(configured)
    for folder in ROOT.parents:
        candidate = folder / "shared" / "tools" / "gql-http-audit"
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def tool() -> Path:
    found = audit_tool()
    missing = [name for name in ("node", "npm") if shutil.which(name) is None]
    if found is None:
        missing.append("shared/tools/gql-http-audit (or KANA_GQL_HTTP_AUDIT)")
    if missing:
        message = "the GraphQL-over-HTTP audit needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    database = tmp_path_factory.mktemp("audit") / "kana.db"
    with ServerProcess("--database", f"sqlite+aiosqlite:///{database}") as process:
        yield process


def audit(tool: Path, url: str, authorization: str) -> str:
    """Run the audit; its output (it fails the test unless it reports 0 errors)."""
    run = subprocess.run(
        ["bash", str(tool), url, authorization], capture_output=True, text=True, timeout=600, check=False
    )
    output = run.stdout + run.stderr
    summary = SUMMARY.search(output)
    assert summary is not None, output
    assert summary.group(4) == "0", output
    assert run.returncode == 0, output
    assert not [line for line in output.splitlines() if line.startswith("ERROR")], output
    return output


@pytest.mark.timeout(900)
def test_the_admin_api_passes_the_graphql_over_http_audit(tool: Path, server: ServerProcess) -> None:
    audit(tool, f"{server.url}/graphql", random_key())


@pytest.mark.timeout(900)
async def test_the_client_api_passes_the_graphql_over_http_audit(tool: Path, server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        api = Api(http, random_key())
        await api.create_user("audit")
        data = await api.data('mutation { generateUserToken(userId: "audit") { token } }')
    audit(tool, f"{server.url}/client/graphql", "Bearer " + data["generateUserToken"]["token"])
