"""Traffic for the inspector's browser tests and README screenshot: the demo seed used for five weeks."""

from __future__ import annotations

import random

from tests.kana import Api

STEPS = 12
"""Steps of three (virtual) days each: more than a month, so alice's monthly allowance resets once."""


async def use_the_demo(api: Api, *, seed: int = 7) -> None:
    """Record usage and check access for the demo users, moving the project's clock forward as it goes."""
    rng = random.Random(seed)
    for _ in range(STEPS):
        await api.set_clock(advance="P3D")
        await api.record("alice", "api-calls", rng.randint(150, 650))
        await api.record("alice", "messages", rng.randint(50, 400))
        await api.record("124", "api-calls", rng.randint(10, 45))
        await api.can_use("alice", "api-calls", rng.randint(1, 50))
    await api.can_use("124", "api-calls", 60)  # more than the daily 50: denied
    await api.record("carol", "api-calls", 5)  # no subscription: not recorded
    await api.record("alice", "api-calls", 120)
    await api.can_use("alice", "api-calls")
