"""Domain exceptions. Each carries Kana's error code and SDK error name; api/errors.py formats them."""

from __future__ import annotations

from typing import ClassVar


class KanaError(Exception):
    """Base of every error a Kana client may see; `code` and `name` are what the SDKs read."""

    code: ClassVar[str] = "BAD_USER_INPUT"
    name: ClassVar[str] = "ValidationError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(KanaError):
    """Missing, malformed or unknown key or token (the client SDK matches the message prefix)."""

    code = "UNAUTHENTICATED"
    name = "AuthenticationError"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Unauthenticated: {detail}")


class InvalidInput(KanaError):
    """Input that is well-typed GraphQL but breaks a rule (bad id, negative delta, ...)."""

    code = "BAD_USER_INPUT"
    name = "ValidationError"


class NotFound(KanaError):
    """Base for the `*NotFoundError` family."""

    code = "NOT_FOUND"
    kind: ClassVar[str] = "Object"

    def __init__(self, object_id: str) -> None:
        super().__init__(f'{self.kind} "{object_id}" not found')
        self.object_id = object_id


class UserNotFound(NotFound):
    """No user with that id in the project."""

    name = "UserNotFoundError"
    kind = "User"


class FeatureNotFound(NotFound):
    """No feature with that id in the project."""

    name = "FeatureNotFoundError"
    kind = "Feature"


class PackageNotFound(NotFound):
    """No package with that id in the project."""

    name = "PackageNotFoundError"
    kind = "Package"


class SubscriptionNotFound(NotFound):
    """No subscription with that id in the project."""

    name = "SubscriptionNotFoundError"
    kind = "Subscription"


class SnapshotNotFound(NotFound):
    """No saved snapshot with that name in the project ([X] control plane)."""

    name = "SnapshotNotFoundError"
    kind = "Snapshot"


class SubscriptionError(KanaError):
    """A subscribe call that breaks Kana's subscription rules (messages verbatim from Kana)."""

    code = "BAD_USER_INPUT"
    name = "SubscriptionError"


class UnknownPackageInSubscribe(SubscriptionError):
    """subscribe() named a package the project does not have (Kana's wording, decision D11)."""

    name = "PackageNotFoundError"

    def __init__(self, package_id: str) -> None:
        super().__init__("Package Id not found for app")
        self.package_id = package_id


class SubscriptionLinkError(KanaError):
    """generateSubscriptionLink with an unknown or unusable billing template."""

    code = "BAD_USER_INPUT"
    name = "SubscriptionLinkError"


class Conflict(KanaError):
    """The object exists already, or a request repeats an idempotency key with another body."""

    code = "CONFLICT"
    name = "ConflictError"


class IdempotencyKeyInUse(Conflict):
    """Another request with the same Idempotency-Key is still running, or its answer was lost (D92)."""

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still in progress, or the server stopped after "
            "applying it and before storing its answer: it will not be applied again"
        )


class CheckoutSessionNotFound(NotFound):
    """No checkout session with that id ([X] subscription links): unknown, or its project was reset."""

    name = "CheckoutSessionNotFoundError"
    kind = "Checkout session"


class CheckoutSessionClosed(Conflict):
    """A checkout session that was paid, cancelled or has expired: a subscription link works once."""


class PackageNotModifiable(InvalidInput):
    """Published and archived packages cannot change (Kana edits them only in its dashboard)."""


class ClockError(InvalidInput):
    """A virtual clock move that is not allowed (e.g. backwards once the project holds data)."""


ALL_ERRORS: tuple[type[KanaError], ...] = (
    Unauthenticated,
    InvalidInput,
    UserNotFound,
    FeatureNotFound,
    PackageNotFound,
    SubscriptionNotFound,
    SnapshotNotFound,
    SubscriptionError,
    UnknownPackageInSubscribe,
    SubscriptionLinkError,
    CheckoutSessionNotFound,
    CheckoutSessionClosed,
    Conflict,
    IdempotencyKeyInUse,
    PackageNotModifiable,
    ClockError,
)
"""Every concrete domain error; a test checks each has a Kana mapping."""
