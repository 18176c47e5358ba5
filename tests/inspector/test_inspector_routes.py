"""The inspector's page and JSON routes over HTTP: what the page reads, and its errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.kana import Api


async def get_json(api: Api, path: str, status: int = 200) -> dict[str, Any]:
    response = await api.control("GET", path)
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body


async def test_overview_lists_the_catalog_the_users_and_the_clock(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1", name="Ann", email="ann@example.com")
    await api.set_clock(set="2030-01-01T00:00:00Z", freeze=True)
    found = await get_json(api, "/_kana/inspector/overview")
    assert found["project"]["now"] == "2030-01-01T00:00:00.000Z"
    assert (found["project"]["clock"]["virtual"], found["project"]["clock"]["frozen"]) == (True, True)
    assert [f["id"] for f in found["features"]] == ["api-calls", "messages", "seats", "dashboard", "sso"]
    pro = next(p for p in found["packages"] if p["id"] == "pro")
    assert pro["status"] == "PUBLISHED"
    assert pro["features"][1] == {
        "id": "messages",
        "limit": 100,
        "resetPeriod": "DAY",
        "overageEnabled": True,
    }
    assert next(p for p in found["packages"] if p["id"] == "draft-plan")["status"] == "DRAFT"
    assert found["users"] == [{"id": "u1", "name": "Ann", "email": "ann@example.com", "billingId": None}]
    assert found["usersTotal"] == 1
    assert found["ledger"] == {"capacity": 1000, "enabled": True}


async def test_a_user_shows_subscriptions_and_usage_per_feature(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "pro", "extra-calls")
    await api.record("u1", "api-calls", 42)
    found = await get_json(api, "/_kana/inspector/user?id=u1")
    assert [(s["packageId"], s["isAddon"], s["status"], s["live"]) for s in found["subscriptions"]] == [
        ("pro", False, "ACTIVE", True),
        ("extra-calls", True, "ACTIVE", True),
    ]
    features = {f["id"]: f for f in found["features"]}
    calls = features["api-calls"]
    assert (calls["used"], calls["budget"], calls["access"]) == (42, 5000, True)
    assert calls["winner"] == {"subscriptionId": "2", "packageId": "extra-calls"}
    assert calls["period"]["start"] < found["now"] < calls["period"]["end"]
    assert (features["seats"]["budget"], features["seats"]["used"]) == (None, 0)
    assert features["dashboard"]["type"] == "BINARY"
    assert features["dashboard"]["used"] is None
    assert (features["sso"]["access"], features["sso"]["winner"]) == (False, None)


async def test_usage_history_keeps_each_event_in_its_period(catalog_api: Api) -> None:
    api = catalog_api
    await api.set_clock(set="2030-01-31T10:00:00Z", freeze=True)
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    await api.record("u1", "api-calls", 10)
    await api.record("u1", "api-calls", 5)
    await api.set_clock(advance="P1M")
    await api.record("u1", "api-calls", 7, "SET")
    found = await get_json(api, "/_kana/inspector/usage?user=u1&feature=api-calls")
    assert [(p["action"], p["delta"], p["usedAfter"], p["budget"]) for p in found["points"]] == [
        ("ADD", 10, 10, 50),
        ("ADD", 5, 15, 50),
        ("SET", 7, 7, 50),
    ]
    periods = [p["period"] for p in found["points"]]
    assert (
        periods[0] == periods[1] == {"start": "2030-01-31T10:00:00.000Z", "end": "2030-02-28T10:00:00.000Z"}
    )
    assert periods[2] == {"start": "2030-02-28T10:00:00.000Z", "end": "2030-03-31T10:00:00.000Z"}
    assert found["points"][2]["at"] == "2030-02-28T10:00:00.000Z"
    assert (found["current"]["used"], found["current"]["period"]) == (7, periods[2])


async def test_usage_history_of_a_binary_feature_has_no_current_period(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    await api.subscribe("u1", "free")
    found = await get_json(api, "/_kana/inspector/usage?user=u1&feature=dashboard")
    assert (found["points"], found["current"]) == ([], None)


async def test_ids_with_any_characters_are_passed_as_query_parameters(catalog_api: Api) -> None:
    api = catalog_api
    odd = "ü/ser ?&#1"
    await api.create_user(odd)
    found = await get_json(api, f"/_kana/inspector/user?id={quote(odd, safe='')}")
    assert found["user"]["id"] == odd


async def test_unknown_users_and_features_and_bad_parameters_are_clear_errors(catalog_api: Api) -> None:
    api = catalog_api
    await api.create_user("u1")
    error = (await get_json(api, "/_kana/inspector/user?id=ghost", 404))["error"]
    assert error == {"code": "NOT_FOUND", "message": error["message"]}
    assert "ghost" in error["message"]
    error = (await get_json(api, "/_kana/inspector/usage?user=u1&feature=nope", 404))["error"]
    assert "nope" in error["message"]
    assert (await get_json(api, "/_kana/inspector/user", 400))["error"]["code"] == "BAD_USER_INPUT"
    error = (await get_json(api, "/_kana/inspector/user?user=u1", 400))["error"]
    assert "Unknown parameters: user" in error["message"]


async def test_the_json_routes_need_the_project_key(api: Api) -> None:
    for path in ("/_kana/inspector/overview", "/_kana/inspector/user?id=u", "/_kana/inspector/usage?user=u"):
        response = await api.http.get(path)
        assert response.status_code == 401, path


async def test_the_page_is_served_without_a_key_with_a_strict_content_policy(api: Api) -> None:
    response = await api.http.get("/_kana/ui")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert '<script src="/_kana/static/inspector.js" defer></script>' in page
    assert "prv_test_kana_server_local" in page  # the local default key is named as a hint
    assert "https://" not in page  # nothing is loaded from elsewhere
    assert "http://" not in page
    for path, kind in [
        ("/_kana/static/inspector.js", "javascript"),
        ("/_kana/static/inspector.css", "text/css"),
        ("/_kana/static/favicon.svg", "image/svg+xml"),
    ]:
        response = await api.http.get(path)
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"]
        assert "https://" not in response.text
