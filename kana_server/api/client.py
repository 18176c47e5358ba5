"""The Client (frontend) API: exactly the schema the `@usekana/client-kana-js` 0.2.2 SDK was built on.

One query, `currentUser`, answered by one service call (UsageService.current_user); the entitlement
rules are the Admin API's (domain/entitlements.py).
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.schema_directive import Location

import kana_server.api.enums  # noqa: F401  (registers the domain's FeatureType with Strawberry)
from kana_server.api.context import Info
from kana_server.domain import model
from kana_server.domain.current_user import CurrentUser
from kana_server.domain.entitlements import Decision
from kana_server.domain.errors import Unauthenticated

UNLIMITED_BUDGET = 2_147_483_647
"""D41: `Consumption.budget` is non-null here, so an unlimited budget is GraphQL's largest Int."""


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION], name="authenticatedUser")
class AuthenticatedUser:
    """Kana's client schema declares this directive (D40); it marks fields that need a user."""


@strawberry.enum(name="SubscriptionStatus")
class ClientSubscriptionStatus(Enum):
    """In Kana's client schema although no field uses it (D40)."""

    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


@strawberry.type(name="Consumption")
class ClientConsumption:
    """A consumable's budget and usage in the current period."""

    budget: int
    used: int


@strawberry.type(name="Entitlement")
class ClientEntitlement:
    """Whether the user may use the feature, and its consumption (null for binary features)."""

    access: bool
    consumption: ClientConsumption | None

    @classmethod
    def of(cls, decision: Decision) -> ClientEntitlement:
        """From an entitlement decision; an unlimited budget becomes UNLIMITED_BUDGET (D41)."""
        consumption = decision.consumption
        return cls(
            access=decision.access,
            consumption=None
            if consumption is None
            else ClientConsumption(
                budget=UNLIMITED_BUDGET if consumption.budget is None else consumption.budget,
                used=consumption.used,
            ),
        )


@strawberry.type(name="Feature")
class ClientFeature:
    """A feature of a package the user holds, with the user's winning entitlement."""

    id: str
    name: str
    type: model.FeatureType
    entitlement: ClientEntitlement


@strawberry.type(name="Package")
class ClientPackage:
    """A package the user is subscribed to."""

    id: str
    name: str
    is_addon: bool
    features: list[ClientFeature]


@strawberry.type(name="User")
class ClientUser:
    """The user the request speaks for."""

    id: str
    name: str | None
    email: str | None
    subscribed_packages: list[ClientPackage]

    @classmethod
    def of(cls, current: CurrentUser) -> ClientUser:
        """From the domain's view of the current user (every copy of a feature shows the winner, D42)."""
        return cls(
            id=current.user.id,
            name=current.user.name,
            email=current.user.email,
            subscribed_packages=[
                ClientPackage(
                    id=package.id,
                    name=package.name,
                    is_addon=package.is_addon,
                    features=[
                        ClientFeature(
                            id=feature.id,
                            name=feature.name,
                            type=feature.type,
                            entitlement=ClientEntitlement.of(decision),
                        )
                        for feature, decision in current.package_features(package)
                    ],
                )
                for package in current.packages
            ],
        )


def caller(info: Info) -> tuple[str, int | None]:
    """The user id (and a user token's internal user key) of an authenticated client request."""
    principal = info.context.principal
    if principal is None or principal.user_id is None:  # the auth extension stops these first
        raise info.context.auth_error or Unauthenticated("no credentials")
    return principal.user_id, principal.user_key


async def resolve_current_user(info: Info) -> ClientUser:
    """The user of the public key's X-User-ID, or of the user token."""
    user_id, user_key = caller(info)
    return ClientUser.of(await info.context.services.usage.current_user(user_id, user_key))


@strawberry.type(name="Query")
class ClientQuery:
    """Kana's Client API."""

    current_user: ClientUser = strawberry.field(
        resolver=resolve_current_user, directives=[AuthenticatedUser()]
    )


CLIENT_TYPES: list[type] = [ClientSubscriptionStatus]
"""Types of Kana's client schema that no field reaches (Strawberry would drop them)."""
