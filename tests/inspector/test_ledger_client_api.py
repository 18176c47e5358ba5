"""Client API requests in the ledger: kept in the project's ring with the user they speak for."""

from __future__ import annotations

from tests.client_calls import current_user, secure_mode, simple_mode, user_token
from tests.kana import Api


async def test_client_api_requests_are_kept_with_their_user_and_traces(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await current_user(api.http, simple_mode(api.public_key, "u1"))
    entry = (await api.requests(limit=1))[0]
    assert (entry["endpoint"], entry["keyKind"], entry["rootFields"]) == (
        "/client/graphql",
        "public",
        ["currentUser"],
    )
    assert entry["users"] == ["u1"]
    traced = {t["featureId"] for t in entry["traces"] if t["kind"] == "entitlement"}
    assert traced == {"api-calls", "messages", "dashboard"}


async def test_secure_mode_requests_are_kept_and_the_token_never_shows(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    token = await user_token(api, "u1")
    await current_user(api.http, secure_mode(token))
    entry = (await api.requests(limit=1))[0]
    assert (entry["keyKind"], entry["users"]) == ("user_token", ["u1"])
    assert await api.request_count(operation="currentUser", user="u1") == 1
    assert token not in (await api.control("GET", "/_kana/requests")).text
