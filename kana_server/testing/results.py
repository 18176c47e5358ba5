"""What the test helpers return: small frozen dataclasses read from kana-server's answers."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

KEY_ALPHABET = string.ascii_lowercase + string.digits


def random_private_key(environment: str = "test") -> str:
    """A new well-formed private key (`prv_test_` + 32 letters and digits): a fresh, empty project."""
    return f"prv_{environment}_" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(32))


@dataclass(frozen=True)
class Keys:
    """A project's keys: `private` for the Admin API and the control plane, `public` for the Client API."""

    private: str
    public: str

    @classmethod
    def for_private(cls, private: str) -> Keys:
        """The keys of the project a private key belongs to (its public key: `prv_` → `pub_`)."""
        return cls(private, "pub_" + private.removeprefix("prv_"))


@dataclass(frozen=True)
class Consumption:
    """A consumable feature's usage in the current period; `budget` None means unlimited."""

    used: int
    budget: int | None
    overage_enabled: bool


@dataclass(frozen=True)
class Access:
    """canUseFeature's answer; true in a boolean context when access is granted (D114), so
    `assert kana.can_use("alice", "api-calls")` fails showing the reason and the consumption."""

    access: bool
    reason: str
    consumption: Consumption | None

    def __bool__(self) -> bool:
        return self.access

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Access:
        """From `{access reason consumption {used budget overageEnabled}}`."""
        consumption = data.get("consumption")
        return cls(
            access=bool(data["access"]),
            reason=str(data["reason"]),
            consumption=None
            if consumption is None
            else Consumption(
                used=int(consumption["used"]),
                budget=None if consumption["budget"] is None else int(consumption["budget"]),
                overage_enabled=bool(consumption["overageEnabled"]),
            ),
        )


@dataclass(frozen=True)
class User:
    """A user as the Admin API returns it."""

    id: str
    name: str | None
    email: str | None
    billing_id: str | None
    metadata: Any

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """From `{id name email billingId metadata}`."""
        return cls(
            data["id"], data.get("name"), data.get("email"), data.get("billingId"), data.get("metadata")
        )


@dataclass(frozen=True)
class Subscription:
    """A package subscription: Kana's id, the user, the status and the package's id."""

    id: str
    user_id: str
    status: str
    package_id: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Subscription:
        """From `{id userId status package {id}}`."""
        return cls(str(data["id"]), data["userId"], data["status"], data["package"]["id"])


@dataclass(frozen=True)
class RecordedUsage:
    """recordUsage's answer: `reason` says why nothing was recorded."""

    recorded: bool
    reason: str | None


@dataclass(frozen=True)
class SeedReport:
    """What `/_kana/seed` did: `applied` is false when the same content was applied before."""

    applied: bool
    messages: tuple[str, ...]


@dataclass(frozen=True)
class Payment:
    """A paid subscription link: the user it subscribed and where the browser would go next."""

    session: str
    user_id: str
    subscriptions: tuple[Subscription, ...]
    redirect_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payment:
        """From `POST /_kana/checkout/{session}/pay`'s answer."""
        return cls(
            data["session"],
            data["userId"],
            tuple(Subscription.from_json(s) for s in data["subscriptions"]),
            data["redirectUrl"],
        )


@dataclass(frozen=True)
class ClockState:
    """A project's virtual clock: its time now, whether it is frozen, and how far it is from real time."""

    now: datetime
    frozen: bool
    offset: timedelta
    virtual: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClockState:
        """From `GET /_kana/clock`'s answer."""
        return cls(
            now=datetime.fromisoformat(data["now"]),
            frozen=bool(data["frozen"]),
            offset=timedelta(seconds=float(data["offsetSeconds"])),
            virtual=bool(data["virtual"]),
        )
