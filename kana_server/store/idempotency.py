"""SQL for idempotency keys: claim a key inside a write transaction, store and read its answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from kana_server.domain.idempotency import StoredKey
from kana_server.store.scoped import IDEMPOTENCY_KEYS, Scoped


class IdempotencyStore(Scoped):
    """Idempotency keys of one project, inside one transaction."""

    async def idempotency_key(self, key: str) -> StoredKey | None:
        """A key as stored (expired or not)."""
        row = (
            await self.conn.execute(
                select(
                    IDEMPOTENCY_KEYS.c.fingerprint, IDEMPOTENCY_KEYS.c.expires_at, IDEMPOTENCY_KEYS.c.response
                ).where(IDEMPOTENCY_KEYS.c.project_id == self.project_id, IDEMPOTENCY_KEYS.c.key == key)
            )
        ).first()
        return None if row is None else StoredKey(row.fingerprint, row.expires_at, row.response)

    async def take_idempotency_key(
        self, key: str, fingerprint: str, now: datetime, expires_at: datetime, response: bytes | None = None
    ) -> bool:
        """Insert the key (or take over an expired one); False when another request holds it.

        On PostgreSQL a concurrent uncommitted claim of the same key makes this wait for that
        transaction's end (unique index), then see its row: concurrent duplicates claim once."""
        statement = self.upsert(IDEMPOTENCY_KEYS).values(
            project_id=self.project_id,
            key=key,
            fingerprint=fingerprint,
            created_at=now,
            expires_at=expires_at,
            response=response,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[IDEMPOTENCY_KEYS.c.project_id, IDEMPOTENCY_KEYS.c.key],
            set_={
                "fingerprint": statement.excluded.fingerprint,
                "created_at": statement.excluded.created_at,
                "expires_at": statement.excluded.expires_at,
                "response": statement.excluded.response,
            },
            where=IDEMPOTENCY_KEYS.c.expires_at <= now,
        ).returning(IDEMPOTENCY_KEYS.c.pk)
        return (await self.conn.execute(statement)).first() is not None

    async def store_idempotent_response(self, key: str, fingerprint: str, response: bytes) -> None:
        """Keep the answer of the request that claimed the key."""
        await self.conn.execute(
            update(IDEMPOTENCY_KEYS)
            .where(
                IDEMPOTENCY_KEYS.c.project_id == self.project_id,
                IDEMPOTENCY_KEYS.c.key == key,
                IDEMPOTENCY_KEYS.c.fingerprint == fingerprint,
            )
            .values(response=response)
        )

    async def purge_idempotency_keys(self, now: datetime) -> None:
        """Forget the project's expired keys."""
        await self.conn.execute(
            delete(IDEMPOTENCY_KEYS).where(
                IDEMPOTENCY_KEYS.c.project_id == self.project_id, IDEMPOTENCY_KEYS.c.expires_at <= now
            )
        )
