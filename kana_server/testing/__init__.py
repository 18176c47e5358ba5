"""Test support for projects that call Kana: the helpers behind the pytest plugin's fixtures, and a real
kana-server in a thread (`kana_server.testing.server.ThreadedServer`).

Names are imported on first use (D119): pytest imports this package for the plugin in every test run.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kana_server.testing.clock import KanaClock
    from kana_server.testing.endpoint import KanaServer
    from kana_server.testing.errors import (
        KanaControlError,
        KanaGraphQLError,
        KanaTestError,
        KanaUnavailable,
        NotEntitled,
        UsageNotRecorded,
    )
    from kana_server.testing.project import Kana
    from kana_server.testing.results import (
        Access,
        ClockState,
        Consumption,
        Keys,
        Payment,
        RecordedUsage,
        SeedReport,
        Subscription,
        User,
        random_private_key,
    )

MODULE_OF = {
    "KanaClock": "clock",
    "KanaServer": "endpoint",
    "Kana": "project",
    **dict.fromkeys(
        (
            "KanaControlError",
            "KanaGraphQLError",
            "KanaTestError",
            "KanaUnavailable",
            "NotEntitled",
            "UsageNotRecorded",
        ),
        "errors",
    ),
    **dict.fromkeys(
        (
            "Access",
            "ClockState",
            "Consumption",
            "Keys",
            "Payment",
            "RecordedUsage",
            "SeedReport",
            "Subscription",
            "User",
            "random_private_key",
        ),
        "results",
    ),
}

__all__ = [
    "Access",
    "ClockState",
    "Consumption",
    "Kana",
    "KanaClock",
    "KanaControlError",
    "KanaGraphQLError",
    "KanaServer",
    "KanaTestError",
    "KanaUnavailable",
    "Keys",
    "NotEntitled",
    "Payment",
    "RecordedUsage",
    "SeedReport",
    "Subscription",
    "UsageNotRecorded",
    "User",
    "random_private_key",
]


def __getattr__(name: str) -> Any:
    """`from kana_server.testing import Kana` imports the module that defines it."""
    module = MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
