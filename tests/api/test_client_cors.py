"""CORS on the Client API: browsers on another origin can call it (preflight included), D45."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from kana_server.settings import Settings
from tests.client_calls import CLIENT_PATH, current_user, simple_mode
from tests.kana import Api, random_key
from tests.servers import serving

ORIGIN = "http://app.example"
SDK_HEADERS = "authorization,content-type,x-api-version,x-user-id"


def preflight(origin: str = ORIGIN) -> dict[str, str]:
    """What a browser sends before the SDK's POST."""
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": SDK_HEADERS,
    }


async def test_preflight_allows_the_sdks_request_from_any_origin(http: httpx.AsyncClient) -> None:
    response = await http.options(CLIENT_PATH, headers=preflight())
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(SDK_HEADERS.split(",")) <= allowed


async def test_responses_carry_the_allow_origin_header(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    response = await api.http.post(
        CLIENT_PATH,
        json={"query": "{ currentUser { id } }"},
        headers={**simple_mode(api.public_key, "u1"), "Origin": ORIGIN},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {"data": {"currentUser": {"id": "u1"}}}


async def test_the_admin_api_has_no_cors(http: httpx.AsyncClient) -> None:
    response = await http.options("/graphql", headers=preflight())
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 405


async def test_an_options_request_that_is_not_a_preflight_is_405(http: httpx.AsyncClient) -> None:
    response = await http.options(CLIENT_PATH)
    assert response.status_code == 405


async def test_configured_origins_only(session_dir: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{session_dir / f'cors-{secrets.token_hex(4)}.db'}",
        port=0,
        cors_origins=[ORIGIN, "http://other.example"],
    )
    async with serving(settings) as http:
        allowed = await http.options(CLIENT_PATH, headers=preflight())
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        refused = await http.options(CLIENT_PATH, headers=preflight("http://evil.example"))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        # The API itself still answers servers (no Origin) and names no other origin in its answer.
        api = Api(http, random_key())
        await api.create_user("u1")
        assert (await current_user(http, simple_mode(api.public_key, "u1")))["id"] == "u1"
        response = await http.post(
            CLIENT_PATH,
            json={"query": "{ currentUser { id } }"},
            headers={**simple_mode(api.public_key, "u1"), "Origin": "http://evil.example"},
        )
        assert "access-control-allow-origin" not in response.headers


def test_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANA_CORS_ORIGINS", "http://a.example, http://b.example")
    assert Settings().cors_origins == ["http://a.example", "http://b.example"]
    monkeypatch.setenv("KANA_CORS_ORIGINS", '["http://c.example"]')
    assert Settings().cors_origins == ["http://c.example"]
    monkeypatch.delenv("KANA_CORS_ORIGINS")
    assert Settings().cors_origins == ["*"]
