"""The pytest plugin as a user's project sees it: each test here runs a small test suite with pytest's own
`pytester` (in this process, or in a subprocess for pytest-xdist); the plugin is loaded through its
`pytest11` entry point, exactly as in any project that installs kana-server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from kana_server.settings import Settings
from kana_server.testing.server import ThreadedServer

pytest_plugins = ["pytester"]

# Inner tests write what they saw here (one JSON file per test), for the outer test to compare.
RECORD = """
import json, os
from pathlib import Path

def record(name, **seen):
    out = Path(__file__).parent / "seen"
    out.mkdir(exist_ok=True)
    seen["worker"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (out / f"{name}.json").write_text(json.dumps(seen))
"""


@pytest.fixture
def suite(user_project: pytest.Pytester) -> pytest.Pytester:
    """A user's project with a helper that records what its tests saw."""
    user_project.makepyfile(record=RECORD)
    user_project.syspathinsert()
    return user_project


def seen(pytester: pytest.Pytester) -> dict[str, dict[str, str]]:
    """What the inner tests recorded, by name."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((pytester.path / "seen").glob("*.json"))
    }


@pytest.fixture
def other_server(tmp_path: Path) -> Iterator[ThreadedServer]:
    """A kana-server already running, as `--kana-url` expects."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", port=0)
    with ThreadedServer(settings) as server:
        yield server


def test_the_plugin_is_registered_through_the_pytest11_entry_point(suite: pytest.Pytester) -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "kana_server"]
    assert plugin.value == "kana_server.testing.pytest_plugin"

    help_text = suite.runpytest("--help").stdout.str()
    assert "--kana-url=URL" in help_text
    fixtures = suite.runpytest("--fixtures").stdout.str()
    for name in (
        "kana_server [session scope]",
        "kana_server_settings [session scope]",
        "kana_clock",
        "kana ",
    ):
        assert name in fixtures, fixtures


def test_the_fixtures_give_a_working_project_with_every_helper(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_flow="""
        from datetime import UTC, datetime, timedelta
        from pathlib import Path

        import httpx
        import pytest

        from kana_server.testing import KanaControlError, NotEntitled

        CATALOG = Path(__file__).parent / "catalog.yaml"

        def test_server_urls(kana_server):
            assert kana_server.url.startswith("http://127.0.0.1:")
            assert kana_server.admin_url == kana_server.url + "/graphql"
            assert kana_server.client_url == kana_server.url + "/client/graphql"
            assert kana_server.cli_url == kana_server.url + "/cli"
            assert not kana_server.external
            assert httpx.get(kana_server.url + "/_kana/health").json() == {"status": "ok"}

        def test_keys_and_seed(kana):
            assert kana.keys.private.startswith("prv_test_") and len(kana.keys.private) == 41
            assert kana.keys.public == "pub_" + kana.keys.private[4:]
            assert kana.headers == {"Authorization": kana.keys.private}
            report = kana.seed(CATALOG)
            assert report.applied and any("basic" in m for m in report.messages)
            assert not kana.seed(CATALOG).applied  # once per content
            assert kana.seed({"users": [{"id": "dora"}]}).applied
            assert kana.seed('''
                users:
                  - { id: erin, email: erin@example.com }
            ''').applied
            users = kana.gql("{ users { id email } }")["users"]
            assert sorted(u["id"] for u in users) == ["dora", "erin"]

        def test_users_subscriptions_and_usage(kana):
            kana.seed(CATALOG)
            user = kana.create_user("alice", name="Alice", email="a@example.com", metadata={"plan": "x"})
            assert (user.id, user.name, user.email, user.metadata) == ("alice", "Alice", "a@example.com", {"plan": "x"})
            (sub,) = kana.subscribe("alice", "basic")
            assert (sub.user_id, sub.status, sub.package_id) == ("alice", "ACTIVE", "basic")
            assert kana.usage("alice", "api-calls") == 0
            assert kana.record_usage("alice", "api-calls", 2).recorded
            assert kana.usage("alice", "api-calls") == 2
            access = kana.can_use("alice", "api-calls")
            assert access and access.consumption.used == 2 and access.consumption.budget == 3
            assert not kana.can_use("alice", "api-calls", delta=2)
            kana.record_usage("alice", "api-calls", 3, action="SET")
            assert not kana.can_use("alice", "api-calls")
            assert kana.can_use("alice", "sso")
            with pytest.raises(NotEntitled, match="binary feature"):
                kana.usage("alice", "sso")
            kana.set_subscription_status(sub.id, "CANCELLED")
            assert not kana.can_use("alice", "sso")
            assert not kana.record_usage("alice", "api-calls", check=False).recorded

        def test_clock(kana, kana_clock):
            assert kana_clock is kana.clock
            start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
            state = kana_clock.freeze(start)
            assert state.frozen and state.now == start and kana_clock.now() == start
            kana.seed(CATALOG)
            kana.create_user("alice")
            kana.subscribe("alice", "basic")
            kana.record_usage("alice", "api-calls", 3)
            assert kana_clock.advance(timedelta(days=27)).now == datetime(2026, 2, 27, 9, 0, tzinfo=UTC)
            assert kana.usage("alice", "api-calls") == 3
            assert kana_clock.advance("P1D").now == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
            assert kana.usage("alice", "api-calls") == 0  # 31 Jan + 1 month is 28 Feb
            assert kana_clock.advance(3600).now == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
            assert kana_clock.set("2026-03-31T09:00:00Z").now == datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
            with pytest.raises(KanaControlError, match="400"):
                kana_clock.set(start)  # back in time, once there is usage
            assert not kana_clock.unfreeze().frozen

        def test_requests_from_the_ledger(kana):
            kana.seed(CATALOG)
            kana.create_user("alice")
            kana.subscribe("alice", "basic")
            kana.record_usage("alice", "api-calls")
            assert kana.requests() == [] and kana.request_count() == 0  # only helpers so far
            assert kana.request_count(include_helpers=True) == 3
            assert [r["operationName"] for r in kana.requests(include_helpers=True, limit=2)] == [
                "KanaTestingRecordUsage", "KanaTestingSubscribe"
            ]
            record = 'mutation { recordUsage(input: {userId: "alice", featureId: "api-calls"}) { recorded } }'
            kana.gql(record)
            kana.gql(record)
            kana.gql("query Who { users { id } }")
            assert kana.request_count("recordUsage", user="alice") == 2
            assert kana.request_count("recordUsage", user="bob") == 0
            (newest,) = kana.requests(limit=1)
            assert newest["operationName"] == "Who" and newest["rootFields"] == ["users"]
            assert [r["rootFields"] for r in kana.requests()] == [["users"], ["recordUsage"], ["recordUsage"]]

        def test_pay_a_subscription_link(kana):
            kana.seed(CATALOG)
            kana.create_user("carol")
            link = kana.gql(
                'mutation { generateSubscriptionLink(userId: "carol", templateId: "pro-monthly", '
                'successUrl: "https://example.com/ok?s={CHECKOUT_SESSION_ID}", '
                'cancelUrl: "https://example.com/no") { url } }'
            )["generateSubscriptionLink"]["url"]
            payment = kana.pay(link)
            assert payment.user_id == "carol"
            assert [s.package_id for s in payment.subscriptions] == ["pro"]
            assert payment.redirect_url == "https://example.com/ok?s=" + payment.session
            assert kana.can_use("carol", "api-calls").consumption.budget == 100
            with pytest.raises(KanaControlError, match="409 CONFLICT"):
                kana.pay(payment.session)  # a link works once
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=6)


def test_every_test_gets_its_own_empty_project_on_one_server(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_isolation="""
        import pytest
        from record import record

        @pytest.mark.parametrize("n", range(4))
        def test_same_user_id_everywhere(kana, n):
            assert kana.gql("{ users { id } }")["users"] == []
            kana.create_user("alice")
            kana.seed({"users": [{"id": "bob"}]})
            assert sorted(u["id"] for u in kana.gql("{ users { id } }")["users"]) == ["alice", "bob"]
            record(f"t{n}", key=kana.keys.private, url=kana.url)

        def test_two_projects_in_one_test(kana, kana_server):
            other = kana_server.project()
            kana.create_user("alice")
            assert other.gql("{ users { id } }")["users"] == []
            assert other.keys != kana.keys
        """
    )
    suite.runpytest().assert_outcomes(passed=5)
    runs = seen(suite)
    assert len({run["key"] for run in runs.values()}) == 4
    assert len({run["url"] for run in runs.values()}) == 1


def test_kana_seed_marks_seed_the_project_module_first(suite: pytest.Pytester) -> None:
    suite.mkdir("data")
    suite.makefile(".yaml", **{"data/users": "users: [{ id: alice }, { id: bob }]"})
    suite.makepyfile(
        test_marks="""
        from pathlib import Path

        import pytest

        pytestmark = pytest.mark.kana_seed(Path("catalog.yaml"))

        def test_module_mark(kana):
            assert [p["id"] for p in kana.gql("{ packages { id } }")["packages"]] == ["basic", "pro"]
            assert kana.gql("{ users { id } }")["users"] == []

        class TestWithUsers:
            pytestmark = pytest.mark.kana_seed(Path("data/users.yaml"))

            @pytest.mark.kana_seed(
                {"subscriptions": [{"user": "alice", "package": "basic"}]},
                "usage: [{ user: alice, feature: api-calls, delta: 2 }]",
            )
            def test_layers(self, kana):
                assert kana.usage("alice", "api-calls") == 2

            def test_without_own_mark(self, kana):
                assert len(kana.gql("{ users { id } }")["users"]) == 2

        def test_no_kana_fixture_no_seed(kana_server):
            pass
        """
    )
    suite.runpytest("--strict-markers").assert_outcomes(passed=4)


def test_a_kana_seed_mark_that_fails_errors_the_test_in_one_line(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_marks="""
        from pathlib import Path

        import pytest

        @pytest.mark.kana_seed(Path("missing.yaml"))
        def test_missing_file(kana):
            pass

        @pytest.mark.kana_seed({"features": [{"id": "x", "type": "METERED"}]})
        def test_bad_seed(kana):
            pass
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            f"kana_seed mark ({suite.path / 'missing.yaml'}): *No such file or directory*",
            "kana_seed mark (a dict): POST /_kana/seed failed: 400 BAD_USER_INPUT: seed:3: features.0.type: *",
        ]
    )
    assert "def apply_seed_marks" not in result.stdout.str()


def test_kana_variables_meant_for_another_server_do_not_reach_the_plugins_server(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "KANA_STRICT_KEYS": "true",
        "KANA_SEED": "/nowhere/kana.yaml",
        "KANA_DATABASE_URL": "sqlite+aiosqlite:////nowhere/kana.db",
        "KANA_PORT": "1",
        "KANA_HOST": "0.0.0.0",
        "KANA_WORKERS": "4",
        "KANA_EXPORT_ON_EXIT": "/nowhere/state.yaml",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KANA_CHECKOUT_TTL_SECONDS", "60")  # the others still apply
    suite.makepyfile(
        test_env="""
        def test_a_fresh_project_on_a_local_server(kana, kana_server):
            assert kana_server.url.startswith("http://127.0.0.1:")
            kana.create_user("alice")
            assert kana.gql("{ users { id } }")["users"] == [{"id": "alice"}]

        def test_settings(kana_server_settings):
            assert kana_server_settings.checkout_ttl_seconds == 60
        """
    )
    suite.runpytest().assert_outcomes(passed=2)


def test_two_xdist_workers_each_serve_their_own_tests(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_parallel="""
        from pathlib import Path

        import pytest
        from record import record

        @pytest.mark.parametrize("n", range(8))
        def test_create_the_same_user(kana, n):
            kana.seed((Path(__file__).parent / "catalog.yaml").read_text())
            kana.create_user("alice")
            kana.subscribe("alice", "basic")
            kana.record_usage("alice", "api-calls", n % 3 + 1)
            assert kana.usage("alice", "api-calls") == n % 3 + 1
            record(f"t{n}", key=kana.keys.private, url=kana.url)
        """
    )
    result = suite.runpytest_subprocess("-n", "2", timeout=240)
    result.assert_outcomes(passed=8)
    runs = seen(suite).values()
    assert {run["worker"] for run in runs} == {"gw0", "gw1"}
    assert len({run["key"] for run in runs}) == 8
    servers = {worker: {run["url"] for run in runs if run["worker"] == worker} for worker in ("gw0", "gw1")}
    assert all(len(urls) == 1 for urls in servers.values()), servers
    assert servers["gw0"] != servers["gw1"]  # one server per worker process


KANA_URL_TEST = """
from record import record

def test_uses_the_running_server(kana_server, kana):
    assert kana_server.external
    kana.create_user("bob")
    record("external", url=kana_server.url, key=kana.keys.private)
"""


def user_ids(server: ThreadedServer, key: str) -> list[str]:
    response = httpx.post(
        server.url + "/graphql", json={"query": "{ users { id } }"}, headers={"Authorization": key}
    )
    return [user["id"] for user in response.json()["data"]["users"]]


def test_kana_url_uses_a_server_that_is_already_running(
    suite: pytest.Pytester, other_server: ThreadedServer
) -> None:
    suite.makepyfile(test_external=KANA_URL_TEST)
    result = suite.runpytest("--kana-url", other_server.url + "/")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"kana-server: {other_server.url}/ (--kana-url / KANA_URL)"])
    run = seen(suite)["external"]
    assert run["url"] == other_server.url
    assert user_ids(other_server, run["key"]) == ["bob"]


def test_the_kana_url_variable_does_the_same_and_the_option_wins(
    suite: pytest.Pytester, other_server: ThreadedServer, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    suite.makepyfile(test_external=KANA_URL_TEST)
    monkeypatch.setenv("KANA_URL", other_server.url)
    suite.runpytest().assert_outcomes(passed=1)
    assert seen(suite)["external"]["url"] == other_server.url

    monkeypatch.setenv("KANA_URL", f"http://127.0.0.1:{unused_port}")
    suite.runpytest("--kana-url", other_server.url).assert_outcomes(passed=1)


def test_an_unreachable_kana_url_fails_every_test_that_needs_it_with_one_clear_line(
    suite: pytest.Pytester, unused_port: int
) -> None:
    url = f"http://127.0.0.1:{unused_port}"
    suite.makepyfile(
        test_external="""
        def test_a(kana):
            pass

        def test_b(kana_server):
            pass

        def test_without_kana():
            pass
        """
    )
    result = suite.runpytest("--kana-url", url)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            f"kana-server at {url} is not reachable (ConnectError: *); start it first and wait on "
            "/_kana/health (docs/testing.md), or drop --kana-url / KANA_URL"
        ]
    )
    assert "def kana_server" not in result.stdout.str()  # no traceback through the plugin


def test_failures_show_the_call_and_kanas_answer(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_failures="""
        from pathlib import Path

        CATALOG = Path(__file__).parent / "catalog.yaml"

        def test_unknown_package(kana):
            kana.seed(CATALOG)
            kana.create_user("alice")
            kana.subscribe("alice", "gold")

        def test_bad_query(kana):
            kana.gql("query Totals { usage { total } }")

        def test_refused(kana):
            kana.seed(CATALOG)
            kana.create_user("alice")
            kana.subscribe("alice", "basic")
            kana.record_usage("alice", "api-calls", 3)
            assert kana.can_use("alice", "api-calls")

        def test_not_recorded(kana):
            kana.seed(CATALOG)
            kana.create_user("alice")
            kana.record_usage("alice", "api-calls")

        def test_bad_seed(kana):
            kana.seed({"features": [{"id": "x", "type": "METERED"}]})
        """
    )
    result = suite.runpytest()
    result.assert_outcomes(failed=5)
    output = result.stdout.str()
    for expected in (
        "KanaGraphQLError: subscribe failed: BAD_USER_INPUT PackageNotFoundError: "
        "Package Id not found for app (at subscribe)\n",
        'E         variables: {"userId": "alice", "packageIds": ["gold"]}\n',
        "KanaGraphQLError: Totals failed: BAD_USER_INPUT ValidationError: "
        "Cannot query field 'usage' on type 'Query'.",
        "E       AssertionError: assert Access(access=False, reason='The user has a subscription to a "
        "package with this consumable feature but has no allowance remaining and overage is not "
        "enabled.', consumption=Consumption(used=3, budget=3, overage_enabled=False))\n",
        "UsageNotRecorded: recordUsage did not record ADD 1 of 'api-calls' for 'alice': The user does "
        "not have a subscription to a package with this feature. (pass check=False to expect this)\n",
        "KanaControlError: POST /_kana/seed failed: 400 BAD_USER_INPUT: seed:3: features.0.type: "
        "Input should be 'BINARY' or 'CONSUMABLE'\n",
    ):
        assert expected in output, expected
    assert output.count("- Captured kana setup -") == 5
    result.stdout.fnmatch_lines(["project: prv_test_* (public key pub_test_*)"])
    assert "kana_server/testing/project.py" not in output  # the helpers' own frames are hidden
    assert "httpx" not in output


def test_the_server_settings_fixture_can_be_overridden(suite: pytest.Pytester) -> None:
    suite.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def kana_server_settings(kana_server_settings):
            return kana_server_settings.model_copy(update={"checkout_ttl_seconds": 60})
        """
    )
    suite.makepyfile(
        test_expiry="""
        import pytest
        from pathlib import Path
        from kana_server.testing import KanaControlError

        def test_a_link_expires_after_a_minute(kana, kana_clock):
            kana.seed(Path(__file__).parent / "catalog.yaml")
            kana.create_user("carol")
            link = kana.gql(
                'mutation { generateSubscriptionLink(userId: "carol", templateId: "pro-monthly", '
                'successUrl: "https://example.com/ok", cancelUrl: "https://example.com/no") { url } }'
            )["generateSubscriptionLink"]["url"]
            kana_clock.advance(61)
            with pytest.raises(KanaControlError, match="409 CONFLICT: .*expired"):
                kana.pay(link)
        """
    )
    suite.runpytest().assert_outcomes(passed=1)


def test_the_helpers_work_inside_async_tests(user_project: pytest.Pytester) -> None:
    pytester = user_project
    pytester.makeini(
        """
        [pytest]
        addopts = -p no:cacheprovider
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        filterwarnings =
            error
            ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
        """
    )
    pytester.makepyfile(
        test_async="""
        import asyncio
        import httpx

        async def test_async(kana):
            kana.create_user("alice")
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    kana.admin_url, json={"query": "{ users { id } }"}, headers=kana.headers
                )
            await asyncio.sleep(0)
            assert response.json()["data"]["users"] == [{"id": "alice"}]
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
