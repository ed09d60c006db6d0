"""Request and response models of the API: what the OpenAPI document shows a backend engineer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.plan import Plan

ID_FIELD = Field(min_length=1, max_length=200, examples=["cust-42"])
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_TIMEZONES = available_timezones()

# --------------------------------------------------------------------------- errors


class Problem(BaseModel):
    """An error: a sentence saying what went wrong (never which key was wrong, for 401)."""

    detail: str


class FieldProblem(BaseModel):
    path: str = Field(description="where in the request, e.g. body.events[3].name", examples=["body.name"])
    message: str
    type: str = Field(description="machine-readable kind of problem", examples=["string_pattern_mismatch"])


class ValidationProblem(BaseModel):
    """A request that does not match its schema: every problem with its field path."""

    detail: str
    errors: list[FieldProblem]


class JourneyProblemItem(BaseModel):
    file: str
    line: int
    column: int
    path: str = Field(
        description="step path such as steps[3].wait_for.timeout", examples=["steps[3].wait_for"]
    )
    message: str


class JourneyProblem(BaseModel):
    """A journey that failed validation: every problem, positioned as an editor shows it."""

    detail: str
    errors: list[JourneyProblemItem]


class Overdrawn(BaseModel):
    detail: str
    balance: int
    requested: int


# --------------------------------------------------------------------------- events


class EventIn(BaseModel):
    """One thing a customer did. ``event_id`` makes delivery idempotent: send it again on any error."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=200, examples=["evt-7f3a"])
    customer_id: str = ID_FIELD
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$", examples=["signed_up"])
    properties: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime | None = Field(None, description="when it happened; default: when it arrives")
    traits: dict[str, Any] | None = Field(None, description="customer traits to merge before routing")


class EventBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=1000)


class SkippedJourney(BaseModel):
    journey: str
    reason: str


class EventAccepted(BaseModel):
    """What an accepted event did. A repeat of a known ``event_id`` is ``duplicate`` and did nothing."""

    event_id: str
    duplicate: bool
    started: list[str] = Field(description="journeys this event started for the customer")
    signalled: list[str] = Field(description="journeys in flight that received the event")
    skipped: list[SkippedJourney] = Field(description="journeys it would have started, and why not")


class EventBatchAccepted(BaseModel):
    accepted: int
    duplicates: int
    results: list[EventAccepted] = Field(description="one per event, in request order")


# --------------------------------------------------------------------------- customers


class CustomerTraitsIn(BaseModel):
    """Traits to merge into the customer; keys not given keep their value. Extra keys are custom traits."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    email: str | None = Field(None, max_length=320, pattern=EMAIL_PATTERN, examples=["ada@example.com"])
    first_name: str | None = Field(None, max_length=200)
    last_name: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, max_length=35, examples=["en", "id"])
    timezone: str | None = Field(None, max_length=64, examples=["Asia/Jakarta"])

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in _TIMEZONES:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris")
        return value


class StepTakenOut(BaseModel):
    step: str
    kind: str
    at: datetime
    outcome: str


class JourneyInFlight(BaseModel):
    journey: str
    version: str
    workflow_id: str
    current_step: str | None
    points_awarded: int
    goal_reached: bool
    steps: list[StepTakenOut]


class CustomerOut(BaseModel):
    id: str
    email: str | None
    first_name: str
    last_name: str
    locale: str
    timezone: str
    stage: str
    subscribed: bool
    unsubscribed_at: datetime | None
    traits: dict[str, Any]
    tier: str | None
    badges: list[str]
    points: int
    lifetime_points: int
    created_at: datetime
    updated_at: datetime
    journeys: list[JourneyInFlight] = Field(description="journeys running for this customer now")


class CustomerForgotten(BaseModel):
    customer_id: str
    journeys_ended: list[str]


# --------------------------------------------------------------------------- points


class LedgerEntryOut(BaseModel):
    key: str
    delta: int
    reason: str
    journey: str | None
    step: str | None
    balance_after: int
    created_at: datetime


class PointsOut(BaseModel):
    customer_id: str
    balance: int
    lifetime_points: int
    tier: str | None
    ledger: list[LedgerEntryOut] = Field(description="every change, oldest first")


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        min_length=1, max_length=200, description="client idempotency key: a repeat changes nothing"
    )
    points: int = Field(gt=0, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500, examples=["Gift card"])


class RedeemOut(BaseModel):
    customer_id: str
    key: str
    points: int
    balance: int = Field(description="balance after this redemption (as it was when first made)")


# --------------------------------------------------------------------------- journeys


class JourneyVersionOut(BaseModel):
    version: str
    deployed_at: datetime
    is_current: bool


class JourneySummary(BaseModel):
    name: str
    version: str
    description: str
    stage: str
    trigger: str
    paused: bool
    deployed_at: datetime


class JourneyDetail(JourneySummary):
    versions: list[JourneyVersionOut] = Field(description="every deployed version, newest first")
    plan: Plan
    diagram: str = Field(description="Mermaid flowchart with the number of customers who entered each step")
    source: str = Field(description="the YAML of the current version")


class JourneyDeployed(BaseModel):
    name: str
    version: str
    new_version: bool = Field(description="false when this exact version was deployed before")
    versions: list[JourneyVersionOut]


class JourneyValid(BaseModel):
    valid: Literal[True] = True
    journey: str
    version: str
    steps: int
    diagram: str


class JourneyState(BaseModel):
    name: str
    paused: bool


class StepStatsOut(BaseModel):
    step: str
    entered: int
    waiting: int = Field(description="customers at this step now")
    completed: int
    sends: int
    skips: int
    conversions: int
    conversion_rate: float = Field(description="conversions / entered (0 when nobody entered)")
    points_awarded: int


class JourneyStatsOut(BaseModel):
    journey: str
    entered: int
    exited: int
    active: int
    conversions: int
    conversion_rate: float
    steps: list[StepStatsOut] = Field(description="per step, in plan order")


# --------------------------------------------------------------------------- health


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    # degraded: Temporal and the store answer (events are taken) but the SMTP server does not (mail waits)
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, str] = Field(examples=[{"temporal": "ok", "store": "ok", "smtp": "ok"}])
