"""Kana's GraphQL enums. The domain's enums are registered in place (so annotations use domain types);
this module must be imported before any type that uses them."""

from __future__ import annotations

from enum import Enum

import strawberry

from kana_server.domain import model

strawberry.enum(name="FeatureType")(model.FeatureType)
strawberry.enum(name="ResetPeriod")(model.ResetPeriod)
strawberry.enum(name="SubscriptionStatus")(model.SubscriptionStatus)
strawberry.enum(name="RecordUsageAction")(model.UsageAction)


@strawberry.enum(name="PackageStatus")
class PackageStatus(Enum):
    """A package's status; ALL is only for listing every package."""

    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ALL = "ALL"
