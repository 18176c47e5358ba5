"""Billing links ([X] emulation of Kana's Stripe payment links)."""

from __future__ import annotations

from kana_server.domain.errors import SubscriptionLinkError
from kana_server.domain.ids import check_id
from kana_server.services.base import ProjectService


class BillingService(ProjectService):
    """Subscription links for billing templates."""

    async def generate_subscription_link(
        self, user_id: str | None, template_id: str, success_url: str, cancel_url: str, base_url: str
    ) -> str:
        """A payment link for a billing template (the checkout emulation is not built yet)."""
        check_id("Billing template", template_id)
        async with self.reading() as store:
            templates = (await store.snapshot()).catalog.billing_templates
        if template_id not in templates:
            raise SubscriptionLinkError(f'Billing template "{template_id}" not found')
        raise SubscriptionLinkError("Subscription links are not supported by this kana-server yet")
