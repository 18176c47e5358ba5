"""Subscription links ([X] emulation of Kana's Stripe payment links): checkout sessions on this server."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from kana_server.domain import checkout as rules
from kana_server.domain.checkout import CheckoutSession, CheckoutStatus
from kana_server.domain.errors import CheckoutSessionClosed, CheckoutSessionNotFound
from kana_server.domain.ids import check_id
from kana_server.domain.model import Catalog, Feature, Package, PackageFeature, Price, Subscription, User
from kana_server.services.base import ProjectService, require_user
from kana_server.services.subscriptions import subscribe_user
from kana_server.store.checkout import StoredCheckoutSession
from kana_server.store.people import StoredUser
from kana_server.store.repository import ProjectStore

ALPHANUMERIC = string.ascii_letters + string.digits
CHECKOUT_PATH = "/_kana/checkout/"


def _random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


@dataclass(frozen=True)
class CheckoutView:
    """What the checkout page shows: the session, its package and price, and who is paying."""

    session: CheckoutSession
    status: CheckoutStatus
    package: Package
    price: Price | None
    user: User | None
    features: list[tuple[Feature, PackageFeature]]


@dataclass(frozen=True)
class CheckoutResult:
    """A paid checkout: who was subscribed, their subscriptions, and where the browser goes next."""

    session: CheckoutSession
    user: User
    subscriptions: list[Subscription]
    redirect_url: str


async def _require_session(store: ProjectStore, session_id: str, *, lock: bool) -> StoredCheckoutSession:
    found = await store.get_checkout_session(session_id, lock=lock)
    if found is None:
        raise CheckoutSessionNotFound(session_id)
    return found


class BillingService(ProjectService):
    """Subscription links for billing templates, and the checkout sessions behind them."""

    async def generate_subscription_link(
        self,
        user_id: str | None,
        template_id: str,
        success_url: str,
        cancel_url: str,
        base_url: str,
        ttl: timedelta,
    ) -> str:
        """A link to this server's checkout page for a billing template (D70, D71)."""
        check_id("Billing template", template_id)
        if user_id is not None:
            check_id("User", user_id)
        rules.check_redirect_url("successUrl", success_url)
        rules.check_redirect_url("cancelUrl", cancel_url)
        now = self.clock.now()
        environment = "live" if self.project.private_key.startswith("prv_live_") else "test"

        async def work(store: ProjectStore) -> CheckoutSession:
            template, package = rules.link_template((await store.snapshot()).catalog, template_id)
            user_pk = None if user_id is None else (await require_user(store, user_id)).pk
            session = CheckoutSession(
                id=f"cs_{environment}_{_random_text(40)}",
                template_id=template.id,
                package_id=package.id,
                price_id=template.price_id,
                user_id=user_id,
                success_url=success_url,
                cancel_url=cancel_url,
                created_at=now,
                expires_at=now + ttl,
            )
            await store.insert_checkout_session(session, user_pk)
            return session

        session = await self.write(work)
        return base_url.rstrip("/") + CHECKOUT_PATH + session.id

    async def checkout(self, session_id: str) -> CheckoutView:
        """A checkout session as its page shows it (any status: the page says when it is closed)."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> tuple[CheckoutSession, Catalog, User | None]:
            session = (await _require_session(store, session_id, lock=False)).session
            catalog = (await store.snapshot()).catalog
            user = None if session.user_id is None else (await require_user(store, session.user_id)).user
            return session, catalog, user

        session, catalog, user = await self.read(work)
        package = catalog.packages[session.package_id]
        return CheckoutView(
            session=session,
            status=session.status_at(now),
            package=package,
            price=rules.price_of(package, session.price_id),
            user=user,
            features=[(catalog.features[f.feature_id], f) for f in package.features],
        )

    async def pay(self, session_id: str, email: object = None, name: object = None) -> CheckoutResult:
        """Pay: subscribe as `subscribe` does, creating the user if the link named none (D73, D74)."""
        email_text = rules.check_form_text("email", email)
        name_text = rules.check_form_text("name", name)
        now = self.clock.now()

        async def work(
            store: ProjectStore,
        ) -> tuple[CheckoutSession, StoredUser, list[Subscription], list[str]]:
            stored = await _require_session(store, session_id, lock=True)
            session = stored.session
            rules.require_open(session, now)
            if session.user_id is None:
                stored_user = await store.insert_user(
                    await self._new_customer(store, email_text, name_text), now
                )
            else:
                stored_user = await require_user(store, session.user_id, lock=True)
            subscriptions, created = await subscribe_user(store, stored_user, [session.package_id], now)
            if not await store.close_checkout_session(stored.pk, CheckoutStatus.PAID, now, stored_user.pk):
                raise CheckoutSessionClosed(f"Checkout session {session.id} was already used")
            return session, stored_user, subscriptions, created

        session, stored_user, subscriptions, created = await self.write(work)
        self.trace(
            "subscribe",
            {
                "userId": stored_user.user.id,
                "packageIds": [session.package_id],
                "created": created,
                "checkoutSession": session.id,
            },
        )
        return CheckoutResult(session, stored_user.user, subscriptions, session.success_redirect())

    async def cancel(self, session_id: str) -> CheckoutSession:
        """Cancel a checkout: nothing is subscribed, and the link cannot be used again (D72)."""
        now = self.clock.now()

        async def work(store: ProjectStore) -> CheckoutSession:
            stored = await _require_session(store, session_id, lock=True)
            rules.require_open(stored.session, now)
            if not await store.close_checkout_session(stored.pk, CheckoutStatus.CANCELLED, now, None):
                raise CheckoutSessionClosed(f"Checkout session {session_id} was already used")
            return stored.session

        return await self.write(work)

    async def _new_customer(self, store: ProjectStore, email: str | None, name: str | None) -> User:
        """The user a billing provider creates for a new customer: id and billingId `cus_...` (D74)."""
        while True:
            customer_id = "cus_" + _random_text(14)
            if await store.get_user(customer_id) is None:
                return User(id=customer_id, billing_id=customer_id, name=name, email=email)
