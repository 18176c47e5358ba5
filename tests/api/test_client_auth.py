"""Client API authentication: every way a call can be refused, each an `Unauthenticated` error."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from kana_server.settings import Settings
from tests.client_calls import (
    client_post,
    current_user,
    secure_mode,
    simple_mode,
    unauthenticated,
    user_token,
)
from tests.clocks import ShiftedClock
from tests.kana import Api, random_key
from tests.servers import serving


@pytest.fixture
async def alice(api: Api) -> Api:
    """A fresh project with the user "alice"."""
    await api.create_user("alice")
    return api


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, unverified."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def resign(claims: dict[str, Any], secret: str | None = None) -> str:
    """Claims signed with a secret that is not the project's."""
    return jwt.encode(claims, secret or secrets.token_hex(32), algorithm="HS256")


async def refused(http: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """The Unauthenticated message of a refused currentUser call."""
    return unauthenticated(await client_post(http, headers))


async def test_no_authorization_header(http: httpx.AsyncClient) -> None:
    assert "no API key or user token" in await refused(http, {"X-API-Version": "0.1", "X-User-ID": "alice"})


@pytest.mark.parametrize("value", ["", "Bearer", "bearer"])
async def test_an_empty_authorization_header(http: httpx.AsyncClient, value: str) -> None:
    assert "no API key or user token" in await refused(http, {"Authorization": value, "X-User-ID": "a"})


async def test_a_private_key_is_never_accepted(alice: Api) -> None:
    message = await refused(alice.http, simple_mode(alice.key, "alice"))
    assert "private key" in message
    message = await refused(alice.http, {"Authorization": f"Bearer {alice.key}"})
    assert "private key" in message


async def test_a_public_key_is_never_accepted_on_the_admin_api(alice: Api) -> None:
    body = await alice.gql("{ users { id } }", headers={"Authorization": alice.public_key})
    assert "public key" in unauthenticated(body)


async def test_a_user_token_is_not_accepted_on_the_admin_api(alice: Api) -> None:
    token = await user_token(alice, "alice")
    body = await alice.gql("{ users { id } }", headers={"Authorization": f"Bearer {token}"})
    assert "API key is not valid" in unauthenticated(body)


@pytest.mark.parametrize("key", ["pub_test_" + "x" * 32, "pub_test_unknown", "pub_"])
async def test_an_unknown_public_key(http: httpx.AsyncClient, key: str) -> None:
    assert "public key is not valid" in await refused(http, simple_mode(key, "alice"))


async def test_the_public_key_of_another_project_does_not_see_this_one(alice: Api, new_api) -> None:
    other: Api = new_api()
    await other.create_user("someone-else")
    assert "alice" in await refused(alice.http, simple_mode(other.public_key, "alice"))


async def test_a_public_key_without_x_user_id(alice: Api) -> None:
    headers = simple_mode(alice.public_key, "alice")
    del headers["X-User-ID"]
    assert "X-User-ID" in await refused(alice.http, headers)
    assert "X-User-ID" in await refused(alice.http, {**headers, "X-User-ID": ""})


async def test_an_unknown_user_is_an_authentication_error(alice: Api) -> None:
    assert 'user "bob" not found' in await refused(alice.http, simple_mode(alice.public_key, "bob"))
    long_id = "x" * 300  # not even a possible id: still just an unknown user
    assert "not found" in await refused(alice.http, simple_mode(alice.public_key, long_id))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
async def test_a_malformed_token(http: httpx.AsyncClient, token: str) -> None:
    assert "token is not valid" in await refused(http, secure_mode(token))


async def test_a_token_signed_with_another_secret(alice: Api) -> None:
    forged = resign(claims_of(await user_token(alice, "alice")))
    assert "token is not valid" in await refused(alice.http, secure_mode(forged))


async def test_a_token_whose_claims_were_changed(alice: Api) -> None:
    await alice.create_user("bob")
    header, _, signature = (await user_token(alice, "alice")).split(".")
    bob_claims = (await user_token(alice, "bob")).split(".")[1]
    assert "token is not valid" in await refused(
        alice.http, secure_mode(f"{header}.{bob_claims}.{signature}")
    )


async def test_an_unsigned_token(alice: Api) -> None:
    claims = claims_of(await user_token(alice, "alice"))
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert "token is not valid" in await refused(alice.http, secure_mode(unsigned))


async def test_a_token_for_another_project(alice: Api, new_api) -> None:
    other: Api = new_api()
    await other.create_user("alice")
    other_project = claims_of(await user_token(other, "alice"))["pid"]
    claims = claims_of(await user_token(alice, "alice"))
    assert claims["pid"] != other_project
    assert "token is not valid" in await refused(
        alice.http, secure_mode(resign({**claims, "pid": other_project}))
    )


async def test_a_token_for_a_project_that_does_not_exist(alice: Api) -> None:
    claims = claims_of(await user_token(alice, "alice"))
    assert "token is not valid" in await refused(alice.http, secure_mode(resign({**claims, "pid": 10**9})))


@pytest.mark.parametrize("claim", ["aud", "iss"])
async def test_a_token_for_another_audience_or_issuer(alice: Api, claim: str) -> None:
    claims = claims_of(await user_token(alice, "alice"))
    assert "token is not valid" in await refused(alice.http, secure_mode(resign({**claims, claim: "other"})))


async def test_a_token_stops_working_when_its_user_is_renamed(alice: Api) -> None:
    token = await user_token(alice, "alice")
    assert (await current_user(alice.http, secure_mode(token)))["id"] == "alice"
    await alice.data('mutation { updateUser(id: "alice", input: {id: "alice2"}) { id } }')
    assert 'user "alice" not found' in await refused(alice.http, secure_mode(token))
    # A new user taking the old id is someone else: the old token still does not work.
    await alice.create_user("alice")
    assert "renamed" in await refused(alice.http, secure_mode(token))
    fresh = await user_token(alice, "alice2")
    assert (await current_user(alice.http, secure_mode(fresh)))["id"] == "alice2"


async def test_a_token_carries_kanas_claims(alice: Api) -> None:
    claims = claims_of(await user_token(alice, "alice"))
    assert claims["userId"] == "alice"
    assert claims["aud"] == "kana-client"
    assert claims["iss"] == "usekana.com"
    assert claims["exp"] - claims["iat"] == 30 * 24 * 3600


@pytest.fixture
async def clocked(session_dir: Path) -> AsyncIterator[tuple[Api, ShiftedClock]]:
    """A project on a server of its own whose real clock the test moves; token lifetime one hour."""
    clock = ShiftedClock()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{session_dir / f'clocked-{secrets.token_hex(4)}.db'}",
        port=0,
        token_ttl_seconds=3600,
    )
    async with serving(settings, clock) as http:
        yield Api(http, random_key()), clock


async def test_a_token_expires_after_its_lifetime(clocked: tuple[Api, ShiftedClock]) -> None:
    api, clock = clocked
    await api.create_user("alice")
    token = await user_token(api, "alice")
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 3600
    clock.shift = timedelta(minutes=59)
    assert (await current_user(api.http, secure_mode(token)))["id"] == "alice"
    clock.shift = timedelta(minutes=60)
    assert "expired" in await refused(api.http, secure_mode(token))
    clock.shift = timedelta(days=400)
    assert "expired" in await refused(api.http, secure_mode(token))


async def test_an_expired_token_issued_long_ago(clocked: tuple[Api, ShiftedClock]) -> None:
    api, clock = clocked
    await api.create_user("alice")
    clock.shift = -timedelta(hours=2)
    token = await user_token(api, "alice")
    clock.shift = timedelta(0)
    assert "expired" in await refused(api.http, secure_mode(token))


async def test_the_virtual_clock_does_not_expire_tokens(alice: Api) -> None:
    token = await user_token(alice, "alice")
    await alice.set_clock(advance="P1Y")
    assert (await current_user(alice.http, secure_mode(token)))["id"] == "alice"
