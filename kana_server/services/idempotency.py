"""Idempotency-Key ([X]): look a key up (waiting for a concurrent first use), keep a request's answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from kana_server.domain.errors import IdempotencyKeyInUse
from kana_server.domain.idempotency import Claim, Verdict, verdict
from kana_server.services.base import ProjectService
from kana_server.store.repository import ProjectStore

WAIT_STEP_SECONDS = 0.02
WAIT_STEPS = 1500
"""A request whose key is claimed by one still running waits up to 1500 × 20 ms = 30 s for its answer."""


class IdempotencyService(ProjectService):
    """The keys of one project; retention on the project's clock (D91)."""

    async def prior_answer(self, key: str, fingerprint: str, retention: timedelta) -> bytes | None:
        """The stored answer to replay, or None after arming the claim: the request must run.

        A key whose first request is still running is polled until that answer is stored (D92);
        a different body under a live key is a ConflictError."""
        for _ in range(WAIT_STEPS):
            now = self.clock.now()
            stored = await self.read(lambda store: store.idempotency_key(key))
            found = verdict(stored, fingerprint, now)
            if found is Verdict.REPLAY and stored is not None and stored.response is not None:
                return stored.response
            if found is Verdict.EXECUTE:
                self.state.idempotency = Claim(key, fingerprint, now, now + retention)
                return None
            await asyncio.sleep(WAIT_STEP_SECONDS)
        raise IdempotencyKeyInUse()

    async def keep_answer(self, claim: Claim, response: bytes) -> bool:
        """Store the answer under the key; False when another request holds the key (replay its answer).

        A request that claimed the key with its writes updates its row; one that wrote nothing (an
        error before any write, a read-only mutation) takes the key now, with its answer (D92)."""

        async def work(store: ProjectStore) -> bool:
            await store.purge_idempotency_keys(claim.now)
            if claim.committed:
                await store.store_idempotent_response(claim.key, claim.fingerprint, response)
                return True
            return await store.take_idempotency_key(
                claim.key, claim.fingerprint, claim.now, claim.expires_at, response
            )

        return await self.repository.write(self.project, work)
