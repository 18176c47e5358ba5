"""SQL for checkout sessions (the subscription links' state, shared by every worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from kana_server.domain.checkout import CheckoutSession, CheckoutStatus
from kana_server.store.scoped import CHECKOUT_SESSIONS, USERS, Scoped


@dataclass(frozen=True, slots=True)
class StoredCheckoutSession:
    """A checkout session with its surrogate key."""

    pk: int
    session: CheckoutSession


def _session(r: Row[Any]) -> StoredCheckoutSession:
    return StoredCheckoutSession(
        pk=r.pk,
        session=CheckoutSession(
            id=r.id,
            template_id=r.template_id,
            package_id=r.package_id,
            price_id=r.price_id,
            user_id=r.user_id,
            success_url=r.success_url,
            cancel_url=r.cancel_url,
            created_at=r.created_at,
            expires_at=r.expires_at,
            status=CheckoutStatus(r.status),
            completed_at=r.completed_at,
        ),
    )


class CheckoutStore(Scoped):
    """Checkout session reads and writes inside one transaction."""

    async def insert_checkout_session(self, session: CheckoutSession, user_pk: int | None) -> None:
        """Store a new (open) checkout session."""
        await self.conn.execute(
            insert(CHECKOUT_SESSIONS).values(
                project_id=self.project_id,
                id=session.id,
                template_id=session.template_id,
                package_id=session.package_id,
                price_id=session.price_id,
                user_pk=user_pk,
                success_url=session.success_url,
                cancel_url=session.cancel_url,
                status=session.status.value,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )

    async def get_checkout_session(
        self, session_id: str, *, lock: bool = False
    ) -> StoredCheckoutSession | None:
        """A session by id, with its user's current id (it follows renames); `lock` holds the row."""
        query = (
            select(CHECKOUT_SESSIONS, USERS.c.id.label("user_id"))
            .select_from(CHECKOUT_SESSIONS.outerjoin(USERS, USERS.c.pk == CHECKOUT_SESSIONS.c.user_pk))
            .where(CHECKOUT_SESSIONS.c.project_id == self.project_id, CHECKOUT_SESSIONS.c.id == session_id)
        )
        if lock:
            query = query.with_for_update(of=CHECKOUT_SESSIONS)
        row = (await self.conn.execute(query)).first()
        return None if row is None else _session(row)

    async def close_checkout_session(
        self, pk: int, status: CheckoutStatus, now: datetime, user_pk: int | None
    ) -> bool:
        """Mark an open session paid or cancelled (and by whom); False when it was no longer open."""
        values: dict[str, Any] = {"status": status.value, "completed_at": now}
        if user_pk is not None:
            values["user_pk"] = user_pk
        result = await self.conn.execute(
            update(CHECKOUT_SESSIONS)
            .where(CHECKOUT_SESSIONS.c.pk == pk, CHECKOUT_SESSIONS.c.status == CheckoutStatus.OPEN.value)
            .values(**values)
        )
        return bool(result.rowcount == 1)
