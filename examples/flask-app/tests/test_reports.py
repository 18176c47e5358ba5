"""The app's tests: each gets a fresh Kana project from kana-server's pytest plugin (the `kana` fixture),
loads the catalog into it, and drives the app through Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from reports_app import create_app

from kana_server.testing import Kana, KanaClock

CATALOG = Path(__file__).parent / "kana.yaml"


@pytest.fixture
def client(kana: Kana) -> Iterator[FlaskClient]:
    """The app, talking to this test's own Kana project."""
    kana.seed(CATALOG)
    app = create_app({"KANA_GRAPHQL_URL": kana.admin_url, "KANA_PRIVATE_KEY": kana.keys.private})
    yield app.test_client()
    app.extensions["kana"].close()


@pytest.fixture
def alice(client: FlaskClient) -> dict[str, str]:
    """A user who signed up (free plan); the headers that make a request hers."""
    assert client.post("/signup", json={"id": "alice", "email": "alice@example.com"}).status_code == 201
    return {"X-User-ID": "alice"}


def test_signing_up_puts_the_user_on_the_free_plan(kana: Kana, alice: dict[str, str]) -> None:
    access = kana.can_use("alice", "reports")
    assert access
    assert access.consumption is not None
    assert access.consumption.budget == 2
    assert kana.usage("alice", "reports") == 0


def test_creating_a_report_records_one_unit_of_usage(
    kana: Kana, client: FlaskClient, alice: dict[str, str]
) -> None:
    response = client.post("/reports", headers=alice)
    assert response.status_code == 201
    assert response.get_json()["owner"] == "alice"
    assert kana.usage("alice", "reports") == 1


def test_a_used_up_allowance_is_refused_with_kanas_reason_and_nothing_recorded(
    kana: Kana, client: FlaskClient, alice: dict[str, str]
) -> None:
    kana.record_usage("alice", "reports", 2)

    response = client.post("/reports", headers=alice)

    assert response.status_code == 402
    assert response.get_json()["error"] == kana.can_use("alice", "reports").reason
    assert "no allowance remaining" in response.get_json()["error"]
    assert kana.usage("alice", "reports") == 2


def test_the_allowance_comes_back_a_month_later(
    kana: Kana, kana_clock: KanaClock, client: FlaskClient, alice: dict[str, str]
) -> None:
    kana.record_usage("alice", "reports", 2)
    assert client.post("/reports", headers=alice).status_code == 402

    kana_clock.advance("P1M")

    assert client.post("/reports", headers=alice).status_code == 201
    assert kana.usage("alice", "reports") == 1


def test_paying_the_upgrade_link_lifts_the_limit(
    kana: Kana, client: FlaskClient, alice: dict[str, str]
) -> None:
    kana.record_usage("alice", "reports", 2)
    link = client.post("/upgrade", headers=alice).get_json()["checkoutUrl"]

    payment = kana.pay(link)

    assert [s.package_id for s in payment.subscriptions] == ["more-reports"]
    assert payment.redirect_url == "http://localhost/welcome"
    assert client.post("/reports", headers=alice).status_code == 201
    consumption = kana.can_use("alice", "reports").consumption
    assert consumption is not None
    assert consumption.budget == 50


def test_a_user_kana_does_not_know_gets_404(client: FlaskClient) -> None:
    response = client.post("/reports", headers={"X-User-ID": "mallory"})
    assert response.status_code == 404
    assert "UserNotFoundError" in response.get_json()["error"]
