"""Kana's documented request/response examples, replayed in JSON.

Each test rebuilds the data its example assumes, sends the documented request (minus the doc errors of
D32: no `data { ... }` wrapper, Int limits) and compares the whole response with the documented one.
Instants that depend on when the test runs are compared by shape.
"""

from __future__ import annotations

import re
from typing import Any

from tests.kana import Api

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
REASON_OK = (
    "The user has a subcription to a package with this consumable feature and either has an allowance "
    "remaining or overage is enabled."
)


def without_instants(value: Any, key: str = "updatedAt") -> Any:
    """The response with every `updatedAt` checked for Kana's format and replaced by a marker."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == key:
                assert isinstance(v, str)
                assert ISO_MS.match(v), v
                out[k] = "<instant>"
            else:
                out[k] = without_instants(v, key)
        return out
    if isinstance(value, list):
        return [without_instants(v, key) for v in value]
    return value


async def test_create_feature(api: Api) -> None:
    response = await api.gql(
        """mutation createFeature($input: CreateFeatureInput!) {
          createFeature(input: $input) { id name type unitLabel unitLabelPlural metadata }
        }""",
        {
            "input": {
                "id": "api-calls",
                "name": "API Calls",
                "type": "CONSUMABLE",
                "unitLabel": "API Call",
                "unitLabelPlural": "API Calls",
                "metadata": {},
            }
        },
    )
    assert response == {
        "data": {
            "createFeature": {
                "id": "api-calls",
                "name": "API Calls",
                "type": "CONSUMABLE",
                "unitLabel": "API Call",
                "unitLabelPlural": "API Calls",
                "metadata": {},
            }
        }
    }


async def test_create_user(api: Api) -> None:
    response = await api.gql(
        """mutation createUser($input: CreateUserInput!) {
          createUser(input: $input) { id billingId name email metadata }
        }""",
        {
            "input": {
                "id": "124",
                "billingId": "cus_883y74hdjjdjdnd",
                "name": "Test User",
                "email": "test@usekana.com",
                "metadata": {},
            }
        },
    )
    assert response == {
        "data": {
            "createUser": {
                "id": "124",
                "billingId": "cus_883y74hdjjdjdnd",
                "name": "Test User",
                "email": "test@usekana.com",
                "metadata": {},
            }
        }
    }


async def test_retrieve_user(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    response = await api.gql(
        "query retrieveUser($id: String!) { user(id: $id) { id billingId name email metadata } }",
        {"id": "124"},
    )
    assert response == {
        "data": {
            "user": {
                "id": "124",
                "billingId": "cus_Lp1bSKob4laHDD",
                "name": "Test User",
                "email": "test@usekana.com",
                "metadata": {},
            }
        }
    }


async def test_list_users_with_the_documented_id_argument(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    await api.create_user("someone-else")
    response = await api.gql(
        "query listUsers($id: String!) { users(id: $id) { id billingId name email metadata } }", {"id": "124"}
    )
    assert response == {
        "data": {
            "users": [
                {
                    "id": "124",
                    "billingId": "cus_Lp1bSKob4laHDD",
                    "name": "Test User",
                    "email": "test@usekana.com",
                    "metadata": {},
                }
            ]
        }
    }


async def test_can_use_feature(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    await api.subscribe("124", "pro-plan")
    # The documented request selects an extra `data { ... }` level: a doc error (D32); the response has none.
    response = await api.post(
        {
            "query": "query canUseFeature($userId: String!, $featureId: String!, $delta: Int) "
            "{ canUseFeature(userId: $userId, featureId: $featureId, delta: $delta) "
            "{ access reason consumption { budget used overageEnabled } } }",
            # As in Kana's curl example: variables as a JSON-encoded string.
            "variables": '{ "userId": "124", "featureId": "api-calls", "delta": 1 }',
        }
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "canUseFeature": {
                "access": True,
                "reason": REASON_OK,
                "consumption": {"used": 0, "budget": 50, "overageEnabled": False},
            }
        }
    }


async def test_record_usage_with_set(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    await api.subscribe("124", "free-trial")
    response = await api.gql(
        "mutation recordUsage($input: CreateUsageEventInput!) { recordUsage(input: $input) { recorded reason } }",
        {"input": {"userId": "124", "featureId": "api-calls", "delta": 100, "action": "SET"}},
    )
    assert response == {"data": {"recordUsage": {"recorded": True, "reason": None}}}
    assert await api.used("124", "api-calls") == 100


async def test_list_features(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    response = await api.gql(
        """query listFeatures { features { id name type unitLabel unitLabelPlural metadata
             packages { id name status metadata isAddon updatedAt } } }"""
    )
    documented_shape = {
        "id": "messages",
        "name": "Messages",
        "type": "CONSUMABLE",
        "unitLabel": "Message",
        "unitLabelPlural": "Messages",
        "metadata": {},
        "packages": [
            {
                "id": "free-plan",
                "name": "Free Plan",
                "status": "PUBLISHED",
                "metadata": {},
                "isAddon": False,
                "updatedAt": "<instant>",
            }
        ],
    }
    features = without_instants(response)["data"]["features"]
    assert [f["id"] for f in features] == ["api-calls", "messages"]
    assert features[1] == documented_shape


async def test_retrieve_and_list_subscriptions(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    await api.create_user("first")
    await api.subscribe("first", "pro-plan")  # subscription "1": the documented one is "2"
    assert [s["id"] for s in await api.subscribe("124", "free-trial", "extra-500-api-calls")] == ["2", "3"]
    await api.set_status("3", "CANCELLED")
    selection = """id userId status package { id name status metadata
        features { id name limit type unitLabel unitLabelPlural metadata }
        prices { id provider amount displayAmount currency interval } isAddon updatedAt }"""
    one = await api.gql(
        f"query retrieveSubscription($id: String!) {{ subscription(id: $id) {{ {selection} }} }}", {"id": "2"}
    )
    listed = await api.gql(
        f"query listSubscriptions($userId: String!) {{ subscriptions(userId: $userId) {{ {selection} }} }}",
        {"userId": "124"},
    )
    free_trial = {
        "id": "2",
        "userId": "124",
        "status": "ACTIVE",
        "package": {
            "id": "free-trial",
            "name": "Free Trial",
            "status": "PUBLISHED",
            "metadata": {},
            "features": [
                {
                    "id": "api-calls",
                    "name": "API Calls",
                    "limit": 1000,  # documented as "1000": a doc error (D32)
                    "type": "CONSUMABLE",
                    "unitLabel": "API Call",
                    "unitLabelPlural": "API Calls",
                    "metadata": {},
                }
            ],
            "prices": [
                {
                    "id": "price_1L7NHvIiEnRX8aivoxbSWREF",
                    "provider": "STRIPE",
                    "amount": 5000,
                    "displayAmount": "50.00",
                    "currency": "gbp",
                    "interval": "month",
                }
            ],
            "isAddon": False,
            "updatedAt": "<instant>",
        },
    }
    extra = {
        "id": "3",
        "userId": "124",
        "status": "CANCELLED",
        "package": {
            "id": "extra-500-api-calls",
            "name": "Extra 500 API Calls",
            "status": "PUBLISHED",
            "metadata": {},
            "features": [
                {
                    "id": "api-calls",
                    "name": "API Calls",
                    "limit": 500,
                    "type": "CONSUMABLE",
                    "unitLabel": "API Call",
                    "unitLabelPlural": "API Calls",
                    "metadata": {},
                }
            ],
            "prices": [
                {
                    "id": "price_6378hdsjhshgsu4w8AJNSGL",
                    "provider": "STRIPE",
                    "amount": 3500,
                    "displayAmount": "35.00",
                    "currency": "gbp",
                    "interval": None,
                }
            ],
            "isAddon": True,
            "updatedAt": "<instant>",
        },
    }
    assert without_instants(one) == {"data": {"subscription": free_trial}}
    assert without_instants(listed) == {"data": {"subscriptions": [free_trial, extra]}}


async def test_show_usage(api: Api) -> None:
    await api.seed("documented_examples.yaml")
    await api.set_clock(set="2022-07-10T15:07:01.803Z", freeze=True)
    await api.subscribe("124", "pro-plan")
    await api.record("124", "api-calls", 48)
    await api.set_clock(advance="P1M")
    response = await api.gql(
        """query showUsage($userId: String!, $featureId: String!) {
          showUsage(userId: $userId, featureId: $featureId) {
            current { periodStart periodEnd consumption { used budget overageEnabled } }
            past { periodStart periodEnd consumption { used budget overageEnabled } }
          }
        }""",
        {"userId": "124", "featureId": "api-calls"},
    )
    assert response == {
        "data": {
            "showUsage": {
                "current": {
                    "periodStart": "2022-08-10T15:07:01.803Z",
                    "periodEnd": "2022-09-10T15:07:01.803Z",
                    "consumption": {"used": 0, "budget": 50, "overageEnabled": False},
                },
                "past": [
                    {
                        "periodStart": "2022-07-10T15:07:01.803Z",
                        "periodEnd": "2022-08-10T15:07:01.803Z",
                        "consumption": {"used": 48, "budget": 50, "overageEnabled": False},
                    }
                ],
            }
        }
    }
