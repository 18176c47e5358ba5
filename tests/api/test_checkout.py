"""The checkout behind subscription links over HTTP: the page, Pay and Cancel (form and JSON), expiry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from kana_server.app import create_app
from kana_server.settings import Settings
from tests.api.test_billing import LINK, link_variables
from tests.kana import Api, random_key

ADDON_WITHOUT_TIER = "Cannot subscribe to addon. Missing live tier subscription."
SUBSCRIPTIONS = "query($u: String) { subscriptions(userId: $u) { id userId status package { id } } }"


@pytest.fixture
async def billing_api(api: Api) -> Api:
    """A fresh project seeded with tests/fixtures/billing.yaml (user alice, no subscriptions)."""
    await api.seed("billing.yaml")
    return api


async def checkout_path(api: Api, template: str, user: str | None = "alice", **urls: str) -> str:
    """generateSubscriptionLink, as the path of its checkout page on this server."""
    data = await api.data(LINK, link_variables(template, user, **urls))
    return httpx.URL(data["generateSubscriptionLink"]["url"]).path


async def subscriptions(api: Api, user: str | None = None) -> list[dict[str, Any]]:
    """The project's subscriptions (or one user's)."""
    return list((await api.data(SUBSCRIPTIONS, {"u": user}))["subscriptions"])


def form(action: str, **fields: str) -> dict[str, str]:
    """The checkout form as the page submits it."""
    return {"action": action, **fields}


async def test_the_page_shows_package_price_and_user(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    page = await billing_api.http.get(path)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Subscribe to Starter</h1>" in text
    assert "50.00 GBP per month" in text
    assert "Alice &lt;alice@example.com&gt;" in text
    assert "API Calls: 1,000 API Calls per month" in text
    assert '<button type="submit" name="action" value="pay" class="pay">Pay 50.00 GBP</button>' in text
    assert 'value="cancel"' in text
    assert "<script" not in text  # works without JavaScript: there is none
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"


async def test_the_page_asks_a_new_customer_for_email_and_name(billing_api: Api) -> None:
    page = await billing_api.http.get(await checkout_path(billing_api, "extra-calls-once", user=None))
    assert "A new customer" in page.text
    assert 'name="email"' in page.text
    assert 'name="name"' in page.text
    assert "19.99 USD, once" in page.text


async def test_a_template_without_a_price_sells_the_package_alone(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "pro-no-price")
    page = await billing_api.http.get(path)
    assert "<dd>No price</dd>" in page.text
    assert ">Pay</button>" in page.text
    assert (await billing_api.http.post(path, data=form("pay"))).status_code == 303
    assert [s["package"]["id"] for s in await subscriptions(billing_api, "alice")] == ["pro"]


async def test_pay_subscribes_the_user_and_answers_json(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    paid = await billing_api.http.post(path + "/pay")
    assert paid.status_code == 200, paid.text
    assert paid.json() == {
        "session": path.rsplit("/", 1)[1],
        "status": "PAID",
        "userId": "alice",
        "subscriptions": [{"id": "1", "userId": "alice", "status": "ACTIVE", "package": {"id": "starter"}}],
        "redirectUrl": "https://app.example/success",
    }
    assert await subscriptions(billing_api) == paid.json()["subscriptions"]
    assert (await billing_api.can_use("alice", "api-calls"))["consumption"]["budget"] == 1000


async def test_pay_through_the_form_redirects_to_the_success_url(billing_api: Api) -> None:
    success = "https://app.example/done?session={CHECKOUT_SESSION_ID}"
    path = await checkout_path(billing_api, "starter-50gbp-month", success=success)
    response = await billing_api.http.post(path, data=form("pay"))
    assert response.status_code == 303
    session_id = path.rsplit("/", 1)[1]
    assert response.headers["location"] == f"https://app.example/done?session={session_id}"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert [s["package"]["id"] for s in await subscriptions(billing_api, "alice")] == ["starter"]


async def test_a_paid_session_cannot_be_used_again(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    assert (await billing_api.http.post(path + "/pay")).status_code == 200
    again = await billing_api.http.post(path + "/pay")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "CONFLICT",
        "message": f"Checkout session {path.rsplit('/', 1)[1]} was already paid",
    }
    assert (await billing_api.http.post(path + "/cancel")).status_code == 409
    form_again = await billing_api.http.post(path, data=form("pay"))
    assert form_again.status_code == 409
    assert "was already paid" in form_again.text
    page = await billing_api.http.get(path)
    assert page.status_code == 409
    assert "This checkout is already paid" in page.text
    assert 'href="https://app.example/success"' in page.text
    assert len(await subscriptions(billing_api)) == 1


async def test_concurrent_pays_of_one_session_subscribe_once(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month", user=None)
    answers = await asyncio.gather(*(billing_api.http.post(path + "/pay") for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409, 409]
    assert len(await subscriptions(billing_api)) == 1
    assert len((await billing_api.data("{ users { id } }"))["users"]) == 2  # alice and one new customer


async def test_pay_without_a_user_creates_one_like_the_billing_provider(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "pro-99gbp-month", user=None)
    paid = await billing_api.http.post(path + "/pay", json={"email": "new@example.com", "name": "New One"})
    assert paid.status_code == 200, paid.text
    user_id = paid.json()["userId"]
    assert re.fullmatch(r"cus_[A-Za-z0-9]{14}", user_id)
    user = await billing_api.data(
        "query($id: String!) { user(id: $id) { id billingId name email } }", {"id": user_id}
    )
    assert user["user"] == {
        "id": user_id,
        "billingId": user_id,
        "name": "New One",
        "email": "new@example.com",
    }
    assert [s["package"]["id"] for s in await subscriptions(billing_api, user_id)] == ["pro"]


async def test_the_form_creates_the_new_customer_with_what_was_typed(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "pro-99gbp-month", user=None)
    response = await billing_api.http.post(
        path, data=form("pay", email="  typed@example.com ", name="Typed Name")
    )
    assert response.status_code == 303
    users = (await billing_api.data("{ users { id email name } }"))["users"]
    assert [(u["email"], u["name"]) for u in users if u["id"] != "alice"] == [
        ("typed@example.com", "Typed Name")
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "not-an-email"}, "email must look like name@example.com; got 'not-an-email'"),
        ({"email": 12}, "email must be a string"),
        ({"name": "x" * 256}, "name must be at most 255 characters without control characters"),
        ({"nickname": "x"}, "Unknown fields: nickname (use email, name)"),
    ],
)
async def test_bad_pay_bodies_are_refused_and_the_session_stays_open(
    billing_api: Api, body: dict[str, Any], message: str
) -> None:
    path = await checkout_path(billing_api, "pro-99gbp-month", user=None)
    refused = await billing_api.http.post(path + "/pay", json=body)
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "BAD_USER_INPUT", "message": message}
    assert (await billing_api.data("{ users { id } }"))["users"] == [{"id": "alice"}]
    assert (await billing_api.http.post(path + "/pay")).status_code == 200


async def test_pay_body_must_be_a_json_object(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    response = await billing_api.http.post(path + "/pay", content=b"[1]")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The body must be a JSON object"


async def test_an_addon_without_a_base_fails_with_kanas_message(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "extra-calls-once")
    refused = await billing_api.http.post(path + "/pay")
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "BAD_USER_INPUT", "message": ADDON_WITHOUT_TIER}
    page = await billing_api.http.post(path, data=form("pay"))
    assert page.status_code == 400
    assert ADDON_WITHOUT_TIER in page.text
    assert f'href="{path}"' in page.text  # back to the checkout, which is still open
    assert await subscriptions(billing_api) == []
    # Nothing was used up: once alice has a base package, the same link works.
    await billing_api.subscribe("alice", "starter")
    paid = await billing_api.http.post(path + "/pay")
    assert paid.status_code == 200, paid.text
    assert [s["package"]["id"] for s in paid.json()["subscriptions"]] == ["extra-calls"]


async def test_an_addon_for_a_new_customer_creates_no_user(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "extra-calls-once", user=None)
    refused = await billing_api.http.post(path + "/pay", json={"email": "x@example.com"})
    assert refused.json()["error"]["message"] == ADDON_WITHOUT_TIER
    assert (await billing_api.data("{ users { id } }"))["users"] == [{"id": "alice"}]


async def test_a_second_tier_is_refused_as_subscribe_refuses_it(billing_api: Api) -> None:
    await billing_api.subscribe("alice", "starter")
    path = await checkout_path(billing_api, "pro-99gbp-month")
    refused = await billing_api.http.post(path + "/pay")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Cannot subscribe to multiple tiers"


async def test_paying_for_a_package_already_held_returns_the_subscription(billing_api: Api) -> None:
    held = await billing_api.subscribe("alice", "starter")
    path = await checkout_path(billing_api, "starter-50gbp-month")
    paid = await billing_api.http.post(path + "/pay")
    assert paid.status_code == 200
    assert paid.json()["subscriptions"] == held
    assert len(await subscriptions(billing_api)) == 1


async def test_the_session_follows_a_renamed_user(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    await billing_api.data('mutation { updateUser(id: "alice", input: {id: "alicia"}) { id } }')
    paid = await billing_api.http.post(path + "/pay")
    assert paid.json()["userId"] == "alicia"


async def test_a_package_archived_after_the_link_cannot_be_paid(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    archived = await billing_api.control("POST", "/_kana/packages/starter/archive")
    assert archived.status_code == 200
    refused = await billing_api.http.post(path + "/pay")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Package starter is not published"


async def test_cancel_redirects_to_the_cancel_url_and_closes_the_session(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    response = await billing_api.http.post(path, data=form("cancel"))
    assert response.status_code == 303
    assert response.headers["location"] == "https://app.example/cancelled"
    assert await subscriptions(billing_api) == []
    assert (await billing_api.http.post(path + "/pay")).status_code == 409
    page = await billing_api.http.get(path)
    assert page.status_code == 409
    assert "This checkout was cancelled" in page.text


async def test_cancel_as_json(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    cancelled = await billing_api.http.post(path + "/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json() == {
        "session": path.rsplit("/", 1)[1],
        "status": "CANCELLED",
        "redirectUrl": "https://app.example/cancelled",
    }
    again = await billing_api.http.post(path + "/cancel")
    assert again.json()["error"]["message"].endswith("was cancelled")
    fresh = await checkout_path(billing_api, "starter-50gbp-month")
    refused = await billing_api.http.post(fresh + "/cancel", json={"reason": "x"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "cancel takes no fields"


async def test_a_session_expires_after_a_day_on_the_project_clock(billing_api: Api) -> None:
    await billing_api.set_clock(freeze=True)
    paid_in_time = await checkout_path(billing_api, "starter-50gbp-month")
    expiring = await checkout_path(billing_api, "pro-99gbp-month", user=None)
    await billing_api.set_clock(advance=24 * 3600 - 1)
    assert (await billing_api.http.get(expiring)).status_code == 200
    assert (await billing_api.http.post(paid_in_time + "/pay")).status_code == 200
    await billing_api.set_clock(advance=1)
    page = await billing_api.http.get(expiring)
    assert page.status_code == 409
    assert "This checkout link has expired" in page.text
    for action in ("/pay", "/cancel"):
        refused = await billing_api.http.post(expiring + action)
        assert refused.status_code == 409
        assert "expired at" in refused.json()["error"]["message"]
    assert (await billing_api.http.post(expiring, data=form("pay"))).status_code == 409
    assert [s["package"]["id"] for s in await subscriptions(billing_api)] == ["starter"]


@asynccontextmanager
async def own_server(tmp_path: Path, **settings: Any) -> AsyncIterator[Api]:
    """A fresh project, seeded with tests/fixtures/billing.yaml, on an in-process server of its own."""
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'own.db'}", **settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kana.test") as http,
    ):
        api = Api(http, random_key())
        await api.seed("billing.yaml")
        yield api


async def test_the_lifetime_of_links_is_configurable(tmp_path: Path) -> None:
    async with own_server(tmp_path, checkout_ttl_seconds=60) as api:
        await api.set_clock(freeze=True)
        path = await checkout_path(api, "starter-50gbp-month")
        await api.set_clock(advance=59)
        assert (await api.http.get(path)).status_code == 200
        await api.set_clock(advance=1)
        assert (await api.http.get(path)).status_code == 409


async def test_public_url_setting_sets_the_links_base(tmp_path: Path) -> None:
    async with own_server(tmp_path, public_url="https://kana.example:8443/") as api:
        data = await api.data(LINK, link_variables("starter-50gbp-month"))
        assert data["generateSubscriptionLink"]["url"].startswith(
            "https://kana.example:8443/_kana/checkout/cs_test_"
        )


@pytest.mark.parametrize(
    "session_id",
    ["cs_test_" + "A" * 40, "cs_test_short", "<img src=x onerror=alert(1)>", "cs_live_" + "9" * 40],
)
async def test_an_unknown_session_is_not_found(http: httpx.AsyncClient, session_id: str) -> None:
    page = await http.get(f"/_kana/checkout/{session_id}")
    assert page.status_code == 404
    assert "This checkout link is not valid" in page.text
    assert "<img" not in page.text
    for action in ("/pay", "/cancel"):
        answer = await http.post(f"/_kana/checkout/{session_id}{action}")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"


async def test_the_form_must_be_a_form_with_an_action(billing_api: Api) -> None:
    path = await checkout_path(billing_api, "starter-50gbp-month")
    as_json = await billing_api.http.post(path, json={"action": "pay"})
    assert as_json.status_code == 400
    assert "application/x-www-form-urlencoded" in as_json.text
    no_action = await billing_api.http.post(path, data={"email": "a@example.com"})
    assert no_action.status_code == 400
    assert "action must be pay or cancel" in no_action.text
    too_big = await billing_api.http.post(path, data=form("pay", name="x" * 20_000))
    assert too_big.status_code == 400
    assert "too large" in too_big.text
    assert await subscriptions(billing_api) == []
    assert (await billing_api.http.post(path + "/pay")).status_code == 200


class PageReader(HTMLParser):
    """The tags and the visible text of a page, as a browser would parse them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[str] = []
        self.chunks: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


async def test_the_page_escapes_everything_it_shows(api: Api) -> None:
    evil_package = '<script>alert("package")</script> & "Co"'
    evil_user = "<img src=x onerror=alert(1)>"
    evil_email = '"><svg onload=alert(2)>@x'
    seed = (
        "features: [{ id: f, name: '<b>bold feature</b>', type: BINARY }]\n"
        f"packages: {{ published: [{{ id: p, name: '{evil_package}', features: [{{ id: f }}] }}] }}\n"
        "prices: { p: [{ id: '<i>price</i>', amount: 100, displayAmount: '<u>1.00</u>',"
        " currency: '<s>x</s>' }] }\n"
        "billing_templates: [{ id: t, package: p, price: '<i>price</i>' }]\n"
        f"users: [{{ id: '<u>id</u>', name: '{evil_user}', email: '{evil_email}' }}]\n"
    )
    response = await api.http.post("/_kana/seed", content=seed, headers={"Authorization": api.key})
    assert response.status_code == 200, response.text
    path = await checkout_path(api, "t", user="<u>id</u>")
    page = PageReader((await api.http.get(path)).text)
    # Nothing the data holds became markup: no injected element or attribute...
    assert not page.tags & {"script", "img", "svg", "b", "i", "u", "s"}
    assert "onerror" not in page.attributes
    assert "onload" not in page.attributes
    # ...and every value is shown to the reader exactly as it was given.
    for shown in (evil_package, evil_user, evil_email, "<b>bold feature</b>", "<i>price</i>", "<u>1.00</u>"):
        assert shown in page.text
    assert "<S>X</S>" in page.text  # the currency, upper-cased
