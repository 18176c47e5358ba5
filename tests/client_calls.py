"""Client (frontend) API calls in tests, made the way @usekana/client-kana-js makes them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kana import FIXTURES, Api

CURRENT_USER = (FIXTURES / "current_user.graphql").read_text(encoding="utf-8")
"""The one operation the SDK sends, verbatim."""

CLIENT_PATH = "/client/graphql"


def simple_mode(public_key: str, user_id: str) -> dict[str, str]:
    """The SDK's headers with a public key ("simple mode")."""
    return {"X-API-Version": "0.1", "Authorization": public_key, "X-User-ID": user_id}


def secure_mode(token: str) -> dict[str, str]:
    """The SDK's headers with a user token ("secure mode")."""
    return {"X-API-Version": "0.1", "Authorization": f"Bearer {token}"}


async def client_post(
    http: httpx.AsyncClient, headers: dict[str, str], query: str = CURRENT_USER, **extra: Any
) -> dict[str, Any]:
    """POST /client/graphql; the JSON body of an HTTP 200 answer."""
    response = await http.post(CLIENT_PATH, json={"query": query, "variables": {}, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def current_user(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """`currentUser` for a call that must succeed."""
    body = await client_post(http, headers)
    assert "errors" not in body, body
    user = body["data"]["currentUser"]
    assert isinstance(user, dict)
    return user


async def user_token(api: Api, user_id: str) -> str:
    """A user token from the Admin API's generateUserToken."""
    data = await api.data("mutation($u: String!) { generateUserToken(userId: $u) { token } }", {"u": user_id})
    token = data["generateUserToken"]["token"]
    assert isinstance(token, str)
    return token


def unauthenticated(body: dict[str, Any]) -> str:
    """The message of the one `Unauthenticated` error of a refused call (no data)."""
    assert body.get("data") is None, body
    errors = body.get("errors")
    assert errors is not None, body
    assert len(errors) == 1, body
    error = errors[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert error["extensions"]["exception"]["name"] == "AuthenticationError", error
    message = error["message"]
    assert isinstance(message, str)
    assert message.startswith("Unauthenticated: "), error
    assert error["extensions"]["exception"]["message"] == message
    return message
