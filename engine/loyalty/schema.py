"""Typed models of the loyalty program file, as a marketer writes it (YAML), and its JSON Schema.

Durations stay text here (``14d``) and are checked on load; ``engine.loyalty.program`` resolves them.
Every list is bounded, every number has a range, every expression is checked by
``engine.expressions`` when the file is loaded (``engine.loyalty.loader``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from engine.limits import MAX_POINTS
from engine.schema import SLUG, Duration, EventName, Expression, Model, StepId

MAX_TIERS = 12
MAX_RULES = 100
MAX_REWARDS = 500
MAX_BOARDS = 20
MAX_CHALLENGES = 100
MAX_PERKS = 50

Points = Annotated[int, Field(ge=0, le=MAX_POINTS)]
Multiplier = Annotated[float, Field(gt=0, le=100, description="e.g. 1.5 for half as many points again")]
PropertyName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]


class Tier(Model):
    name: StepId = Field(description="the tier's id, e.g. gold")
    threshold: Points = Field(description="points needed to qualify (lifetime or in the window)")
    multiplier: Multiplier = Field(1.0, description="earning multiplier for members of this tier")
    perks: list[StepId] = Field(default_factory=list, max_length=MAX_PERKS, description="named benefits")


class Tiers(Model):
    qualify_on: Literal["lifetime", "window"] = Field(
        "lifetime", description="lifetime points, or points earned in the rolling window"
    )
    window_months: int = Field(12, ge=1, le=60, description="the rolling window, when qualify_on is window")
    review_every: Duration = Field("30d", description="how often a member's tier is re-evaluated")
    grace: Duration = Field("30d", description="how long a member keeps a tier they no longer qualify for")
    warn_before: Duration = Field("14d", description="tier_downgrade_warning this long before a downgrade")
    levels: list[Tier] = Field(min_length=1, max_length=MAX_TIERS)

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        names = [tier.name for tier in self.levels]
        if len(set(names)) != len(names):
            raise ValueError("each tier needs its own name")
        thresholds = [tier.threshold for tier in self.levels]
        if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
            raise ValueError("tiers go from the lowest threshold to the highest, each higher than the last")
        return self


class Caps(Model):
    per_event: Points | None = Field(None, description="at most this many points from one event")
    per_day: Points | None = Field(None, description="at most this many points per customer per day (UTC)")


class EarningRule(Model):
    id: StepId = Field(description="the rule's id; its awards name it in the ledger")
    event: EventName = Field(description="the event that earns, e.g. purchase_completed")
    where: Expression | None = Field(None, description="a condition on customer and event")
    points: Points | Expression = Field(
        description="a number, or an expression, e.g. event.properties.total // 10000"
    )
    reason: str = Field("", max_length=200, description="shown in the ledger; the rule id when empty")
    caps: Caps = Field(default_factory=Caps)
    pending: bool = Field(True, description="whether points wait out the returns window first")
    tier_multiplier: bool = Field(True, description="whether the member's tier multiplier applies")


class Campaign(Model):
    id: StepId
    multiplier: Multiplier
    starts: date = Field(description="first day, e.g. 2026-12-01 (UTC)")
    ends: date = Field(description="last day, included")
    rules: list[StepId] = Field(default_factory=list, description="rules it applies to; all when empty")

    @model_validator(mode="after")
    def _window(self) -> Campaign:
        if self.ends < self.starts:
            raise ValueError(f"campaign {self.id} ends ({self.ends}) before it starts ({self.starts})")
        return self


class Pending(Model):
    days: int = Field(14, ge=0, le=365, description="the returns window: points wait this many days")
    refund_event: EventName | None = Field(
        "order_refunded", description="an event that cancels the pending points of its order"
    )
    match_on: PropertyName = Field(
        "order_id", description="the event property that ties a refund to the purchase that earned"
    )


class Expiry(Model):
    after_months: int = Field(12, ge=1, le=120, description="points expire this long after available")
    remind_before: Duration = Field("30d", description="points_expiring is emitted this long ahead")


class Reward(Model):
    id: StepId
    name: str = Field(min_length=1, max_length=200)
    cost: Annotated[int, Field(ge=1, le=MAX_POINTS)]
    tier: StepId | None = Field(None, description="the lowest tier that may redeem it")
    stock: int | None = Field(None, ge=0, le=10_000_000, description="how many there are; none: unlimited")
    per_customer: int | None = Field(None, ge=1, le=10_000, description="at most this many per customer")
    valid_for: Duration = Field("30d", description="a voucher is valid this long after redemption")
    vouchers: Literal["generated", "pool"] = Field(
        "generated", description="codes generated at redemption, or taken from an uploaded pool"
    )
    prefix: Annotated[str, Field(pattern=r"^[A-Z0-9]{0,12}$")] = Field(
        "", description="generated codes start with this, e.g. COFFEE"
    )


class ReferralReward(Model):
    points: Points = 0
    badge: StepId | None = None


class Referrals(Model):
    code_property: PropertyName = Field(
        "referral_code", description="the sign-up event property that carries the referrer's code"
    )
    signup_event: EventName = Field("signed_up", description="the event that links a referee")
    qualify_event: EventName = Field("purchase_completed", description="the referee's qualifying event")
    where: Expression | None = Field(None, description="a condition the qualifying event must meet")
    referrer: ReferralReward = Field(default_factory=lambda: ReferralReward(points=500))
    referee: ReferralReward = Field(default_factory=ReferralReward)
    max_per_referrer: int = Field(10, ge=1, le=100_000, description="rewarded referrals per period")
    period: Duration = Field("30d", description="the period of max_per_referrer")


class Leaderboard(Model):
    id: StepId
    name: str = Field("", max_length=200)
    period: Literal["week", "month"]
    top: int = Field(10, ge=1, le=1000)


class ChallengeReward(Model):
    points: Points = 0
    badge: StepId | None = None

    @model_validator(mode="after")
    def _something(self) -> ChallengeReward:
        if self.points == 0 and self.badge is None:
            raise ValueError("a challenge reward needs points, a badge, or both")
        return self


class Challenge(Model):
    id: StepId
    name: str = Field("", max_length=200)
    event: EventName
    where: Expression | None = None
    count: int = Field(ge=1, le=1000, description="how many qualifying events")
    within: Duration = Field(description="all of them within this long of the first")
    reward: ChallengeReward
    repeatable: bool = Field(False, description="whether a customer may complete it again")


class LoyaltyProgram(Model):
    """The loyalty program file."""

    program: Annotated[str, Field(pattern=SLUG, max_length=100, description="the program's id")]
    description: str = Field("", max_length=2000)
    tiers: Tiers
    earning: list[EarningRule] = Field(default_factory=list, max_length=MAX_RULES)
    campaigns: list[Campaign] = Field(default_factory=list, max_length=MAX_RULES)
    pending: Pending = Field(default_factory=Pending)
    expiry: Expiry = Field(default_factory=Expiry)
    rewards: list[Reward] = Field(default_factory=list, max_length=MAX_REWARDS)
    referrals: Referrals | None = None
    leaderboards: list[Leaderboard] = Field(default_factory=list, max_length=MAX_BOARDS)
    challenges: list[Challenge] = Field(default_factory=list, max_length=MAX_CHALLENGES)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the loyalty program file, for editors (yaml-language-server)."""
    schema = LoyaltyProgram.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Journeys loyalty program file"
    return schema
