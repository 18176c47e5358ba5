"""A client that leaves before its request arrived whole gets nothing and leaves no error in the log."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.process import ServerProcess

pytestmark = pytest.mark.e2e


def test_a_request_cut_short_is_dropped_quietly(tmp_path: Path) -> None:
    with ServerProcess("--database", f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}") as server:
        parts = urlsplit(server.url)
        for _ in range(5):
            with socket.create_connection((parts.hostname, parts.port)) as raw:
                raw.sendall(
                    b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Authorization: prv_test_kana_server_local\r\nContent-Length: 500\r\n\r\n"
                    b'{"query": "{ features { id } }"'
                )
        time.sleep(0.5)  # let the server notice the closed connections
        answer = httpx.post(
            server.url + "/graphql",
            json={"query": "{ features { id } }"},
            headers={"Authorization": "prv_test_kana_server_local"},
        )
        assert answer.status_code == 200
        log = server.log()
    assert "Traceback" not in log, log
    assert "Exception in ASGI application" not in log, log
