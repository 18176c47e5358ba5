"""Prices, billing templates and generateSubscriptionLink through the Admin API and the seed route."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer
from tests.kana import FIXTURES, Api, random_key

PRICES = "{ id provider amount displayAmount currency interval }"
LINK = (
    "mutation($u: String, $t: String!, $s: String!, $c: String!) "
    "{ generateSubscriptionLink(userId: $u, templateId: $t, successUrl: $s, cancelUrl: $c) { url } }"
)
SUCCESS = "https://app.example/success"
CANCEL = "https://app.example/cancelled"


def link_variables(template: str, user: str | None = "alice", **urls: str) -> dict[str, str | None]:
    """generateSubscriptionLink's variables."""
    return {"u": user, "t": template, "s": urls.get("success", SUCCESS), "c": urls.get("cancel", CANCEL)}


@pytest.fixture
async def billing_api(api: Api) -> Api:
    """A fresh project seeded with tests/fixtures/billing.yaml."""
    await api.seed("billing.yaml")
    return api


async def test_package_prices_come_from_the_seed(billing_api: Api) -> None:
    data = await billing_api.data(f'{{ package(id: "starter") {{ id prices {PRICES} }} }}')
    assert data["package"] == {
        "id": "starter",
        "prices": [
            {
                "id": "price_starter_month",
                "provider": "STRIPE",
                "amount": 5000,
                "displayAmount": "50.00",
                "currency": "gbp",
                "interval": "month",
            },
            {  # provider defaults to STRIPE, displayAmount is derived from the amount
                "id": "price_starter_year",
                "provider": "STRIPE",
                "amount": 50000,
                "displayAmount": "500.00",
                "currency": "gbp",
                "interval": "year",
            },
        ],
    }


async def test_packages_list_every_package_with_its_prices(billing_api: Api) -> None:
    data = await billing_api.data(f"{{ packages {{ id prices {PRICES} }} }}")
    prices = {p["id"]: p["prices"] for p in data["packages"]}
    assert prices["extra-calls"] == [
        {
            "id": "price_extra_calls",
            "provider": "STRIPE",
            "amount": 1999,
            "displayAmount": "19.99",
            "currency": "usd",
            "interval": None,
        }
    ]
    assert [p["id"] for p in prices["pro"]] == ["price_pro_month"]
    assert [p["id"] for p in prices["beta-plan"]] == ["price_beta"]


async def test_a_package_without_prices_has_an_empty_list(api: Api) -> None:
    await api.create_feature("f", "BINARY")
    await api.create_package("plain", [{"id": "f"}])
    assert (await api.data('{ package(id: "plain") { prices { id } } }'))["package"]["prices"] == []


async def test_the_same_seed_applies_once(billing_api: Api) -> None:
    again = await billing_api.seed("billing.yaml")
    assert again == {"applied": False, "messages": ["seed already applied"]}
    assert len((await billing_api.data("{ users { id } }"))["users"]) == 1


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (
            "billing_templates: [{ id: t, package: starter, price: price_nope }]",
            "[ERROR] Billing template t refers to price price_nope, which package starter does not have",
        ),
        (
            "billing_templates: [{ id: t, package: nope, price: price_starter }]",
            "[ERROR] Billing template t refers to unknown package nope",
        ),
        (
            "billing_templates: [{ id: t, package: starter, price: price_starter },"
            " { id: t, package: starter, price: price_starter }]",
            "[ERROR] Duplicate billing template id t",
        ),
        (
            "prices: { starter: [{ id: price_starter, amount: 1, currency: gbp },"
            " { id: price_starter, amount: 2, currency: gbp }] }",
            "[ERROR] Package starter lists price price_starter twice",
        ),
        (
            "prices: { nope: [{ id: p, amount: 1, currency: gbp }] }",
            "[ERROR] Prices given for unknown package nope",
        ),
        ("prices: { starter: [{ id: p, amount: -1, currency: gbp }] }", "greater than or equal to 0"),
        ("prices: { starter: [{ id: p, currency: gbp }] }", "prices.starter.0.amount: Field required"),
    ],
)
async def test_a_bad_price_or_template_refuses_the_whole_seed(api: Api, seed: str, message: str) -> None:
    text = (
        "features: [{ id: f, type: BINARY }]\n"
        "packages: { published: [{ id: starter, features: [{ id: f }] }] }\n"
        "prices: { starter: [{ id: price_starter, amount: 100, currency: gbp, interval: month }] }\n"
        "users: [{ id: u1 }]\n"
    )
    response = await api.http.post("/_kana/seed", content=text + seed, headers={"Authorization": api.key})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BAD_USER_INPUT"
    assert message in response.json()["error"]["message"]
    assert (await api.data("{ features { id } users { id } }")) == {"features": [], "users": []}


async def test_prices_of_a_package_can_only_change_with_the_package(billing_api: Api) -> None:
    response = await billing_api.http.post(
        "/_kana/seed",
        content="prices: { starter: [{ id: price_other, amount: 1, currency: gbp }] }",
        headers={"Authorization": billing_api.key},
    )
    assert response.status_code == 400
    assert "Prices of package starter can only change with its entry in packages or addons" in response.text


async def test_a_template_may_use_a_price_the_same_file_adds_to_a_draft(api: Api) -> None:
    base = "features: [{ id: f, type: BINARY }]\npackages: { draft: [{ id: d, features: [{ id: f }] }] }\n"
    first = await api.http.post("/_kana/seed", content=base, headers={"Authorization": api.key})
    assert first.status_code == 200, first.text
    second = await api.http.post(
        "/_kana/seed",
        content=base
        + "prices: { d: [{ id: price_d, amount: 100, currency: eur }] }\n"
        + "billing_templates: [{ id: d-template, package: d, price: price_d }]\n",
        headers={"Authorization": api.key},
    )
    assert second.status_code == 200, second.text
    assert "Billing template d-template will be saved" in second.json()["messages"]


async def test_seed_route_needs_a_private_key_and_a_mapping(api: Api) -> None:
    response = await api.http.post("/_kana/seed", content="features: []")
    assert response.status_code == 401
    response = await api.http.post("/_kana/seed", content="- a list", headers={"Authorization": api.key})
    assert response.status_code == 400
    assert "must be a mapping" in response.json()["error"]["message"]
    response = await api.http.post("/_kana/seed", content=b"\xff\xfe", headers={"Authorization": api.key})
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]["message"]


async def test_a_link_points_at_a_checkout_page_on_this_server(billing_api: Api) -> None:
    first = (await billing_api.data(LINK, link_variables("starter-50gbp-month")))["generateSubscriptionLink"]
    second = (await billing_api.data(LINK, link_variables("starter-50gbp-month", user=None)))[
        "generateSubscriptionLink"
    ]
    base = str(billing_api.http.base_url).rstrip("/")
    for link in (first, second):
        assert re.fullmatch(re.escape(base) + r"/_kana/checkout/cs_test_[A-Za-z0-9]{40}", link["url"])
    assert first["url"] != second["url"]
    page = await billing_api.http.get(httpx.URL(first["url"]).path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_a_live_key_makes_live_sessions(http: httpx.AsyncClient) -> None:
    api = Api(http, random_key("live"))
    await api.seed("billing.yaml")
    url = (await api.data(LINK, link_variables("starter-50gbp-month")))["generateSubscriptionLink"]["url"]
    assert "/_kana/checkout/cs_live_" in url


async def test_unknown_template_is_a_subscription_link_error(billing_api: Api) -> None:
    error = await billing_api.error(LINK, link_variables("no-such-template"))
    assert error["message"] == 'Billing template "no-such-template" not found'
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "exception": {"name": "SubscriptionLinkError", "message": error["message"]},
    }
    assert error["path"] == ["generateSubscriptionLink"]


async def test_a_template_of_an_unpublished_package_is_refused(billing_api: Api) -> None:
    error = await billing_api.error(LINK, link_variables("beta-monthly"))
    assert error["extensions"]["exception"]["name"] == "SubscriptionLinkError"
    assert error["message"] == (
        'Billing template "beta-monthly" sells package "beta-plan", which is DRAFT: '
        "only PUBLISHED packages can be subscribed to"
    )


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/success",
        "app.example/success",
        "ftp://app.example/success",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "https://app.example/with space",
        "https://app.example/\nline",
        "http://app.example:99999/",
        "https://app.example/" + "x" * 2048,
    ],
)
@pytest.mark.parametrize("argument", ["successUrl", "cancelUrl"])
async def test_redirect_urls_must_be_absolute_http_urls(billing_api: Api, argument: str, url: str) -> None:
    urls = {"success": url} if argument == "successUrl" else {"cancel": url}
    error = await billing_api.error(LINK, link_variables("starter-50gbp-month", **urls))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["exception"]["name"] == "SubscriptionLinkError"
    assert error["message"].startswith(f"{argument} must be an absolute http(s) URL")


async def test_plain_http_and_ports_and_queries_are_accepted(billing_api: Api) -> None:
    variables = link_variables(
        "starter-50gbp-month",
        success="http://127.0.0.1:8080/done?session={CHECKOUT_SESSION_ID}&x=1",
        cancel="HTTPS://App.Example/back#top",
    )
    assert (await billing_api.data(LINK, variables))["generateSubscriptionLink"]["url"]


async def test_an_unknown_user_is_user_not_found(billing_api: Api) -> None:
    error = await billing_api.error(LINK, link_variables("starter-50gbp-month", user="nobody"))
    assert error["message"] == 'User "nobody" not found'
    assert error["extensions"]["exception"]["name"] == "UserNotFoundError"


async def test_an_empty_template_id_is_a_validation_error(billing_api: Api) -> None:
    error = await billing_api.error(LINK, link_variables(""))
    assert error["message"] == "Billing template id must not be empty"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_documented_example_works_with_the_demo_seed(tmp_path: Path) -> None:
    """Kana's generateSubscriptionLink example (user "124", template "pro-50gbp-month") against a server
    started with the demo seed: the seed's prices show in Package.prices and the link is this server's."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", port=0, seed="demo")
    with ThreadedServer(settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            api = Api(http, settings.private_key)
            package = await api.data(f'{{ package(id: "pro-plan") {{ prices {PRICES} }} }}')
            assert package["package"]["prices"] == [
                {
                    "id": "price_pro_month",
                    "provider": "STRIPE",
                    "amount": 5000,
                    "displayAmount": "50.00",
                    "currency": "gbp",
                    "interval": "month",
                }
            ]
            variables = {
                "userId": "124",
                "templateId": "pro-50gbp-month",
                "successUrl": "https://usekana.com/pricing/success",
                "cancelUrl": "https://usekana.com/pricing/cancelled",
            }
            query = (FIXTURES / "generate_subscription_link.graphql").read_text(encoding="utf-8")
            url = (await api.data(query, variables))["generateSubscriptionLink"]["url"]
            assert url.startswith(f"{server.url}/_kana/checkout/cs_test_")
            # User 124 holds the Free Plan, so paying for Pro breaks the one-tier rule, as subscribe would.
            paid = await http.post(url + "/pay")
            assert paid.status_code == 400
            assert paid.json()["error"] == {
                "code": "BAD_USER_INPUT",
                "message": "Cannot subscribe to multiple tiers",
            }
