"""The customer as journeys see it: what conditions and templates read, and what a run carries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

DEFAULT_STAGE = "reach"


def _iso_date(value: Any) -> Any:
    """A date as ``YYYY-MM-DD`` text (a sample in YAML may write it as a date)."""
    return value.isoformat() if isinstance(value, date) else value


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpiringPoints(_View):
    """Points that expire on one day: ``{points: 120, date: "2027-01-15"}``."""

    points: int
    date: Annotated[str, BeforeValidator(_iso_date)]


class LoyaltyView(_View):
    """``customer.loyalty``: the wallet and tier as conditions and templates read them
    (``store.loyalty_context``)."""

    available: int = 0  # points that can be spent now
    pending: int = 0  # earned, waiting out the returns window
    lifetime: int = 0
    expiring_soon: list[ExpiringPoints] = Field(default_factory=list)  # within the reminder window
    tier: str | None = None
    next_tier: str | None = None  # None at the top (or without a program)
    points_to_next: int = 0  # qualifying points still needed for next_tier
    perks: list[str] = Field(default_factory=list)  # of the current tier


class HistoryView(_View):
    """``customer.history``: what the customer bought and redeemed (``store.loyalty_context``)."""

    last_purchase_at: Annotated[str | None, BeforeValidator(_iso_date)] = None  # ISO 8601, UTC
    days_since_last_purchase: int | None = None
    purchase_count: int = 0
    purchase_total: float = 0
    top_categories: list[str] = Field(default_factory=list)  # most bought first, at most 3
    most_redeemed_reward: str | None = None


class CustomerSnapshot(BaseModel):
    """What a journey sees of a customer; ``exists=False`` for an id the store does not know."""

    id: str
    exists: bool = True
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    locale: str = "en"
    timezone: str = "UTC"
    stage: str = DEFAULT_STAGE
    subscribed: bool = True
    points: int = 0
    lifetime_points: int = 0
    tier: str | None = None
    badges: list[str] = Field(default_factory=list)
    traits: dict[str, Any] = Field(default_factory=dict)
    # Read with the customer (store.loyalty_context); None when not read: a snapshot made before
    # they existed, or by a path that does not read them. ``as_context`` then gives the defaults.
    loyalty: LoyaltyView | None = None
    history: HistoryView | None = None
    segments: list[str] = Field(default_factory=list)  # the segments they are in (store.segments)

    def as_context(self) -> dict[str, Any]:
        """The ``customer`` seen by conditions and templates."""
        values = self.model_dump()
        values["name"] = " ".join(p for p in (self.first_name, self.last_name) if p)
        if self.loyalty is None:
            values["loyalty"] = LoyaltyView(
                available=self.points, lifetime=self.lifetime_points, tier=self.tier
            ).model_dump()
        if self.history is None:
            values["history"] = HistoryView().model_dump()
        values["segments"] = dict.fromkeys(self.segments, True)  # customer.segments.vip
        return values
