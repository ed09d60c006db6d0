"""Request and response models of the API: what the OpenAPI document shows a backend engineer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.events import DATA_MAX_BYTES, DATA_MAX_DEPTH, DATA_MAX_INT, DATA_MAX_KEYS, data_problems
from contracts.ids import Id
from engine.plan import Plan

# One line of text: no control characters (they break logs and headers; PostgreSQL refuses NUL).
NO_CONTROL = r"\x00-\x1f\x7f-\x9f"
TEXT_PATTERN = rf"^[^{NO_CONTROL}]*$"
EMAIL_PATTERN = rf"^[^@\s{NO_CONTROL}]+@[^@\s{NO_CONTROL}]+\.[^@\s{NO_CONTROL}]+$"
_TIMEZONES = available_timezones()
DATA_BOUNDS = (
    f"at most {DATA_MAX_DEPTH} levels deep, {DATA_MAX_KEYS} keys in any one object "
    f"and {DATA_MAX_BYTES} bytes as JSON"
)
# RFC 3339 (what JSON Schema's date-time means): a date, "T", a time and a time zone, digits in ASCII.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _raise_data_problems(value: dict[str, Any], title: str) -> None:
    """A ValidationError with one entry per bound broken, located inside ``value`` (pydantic prefixes
    the location of the field or model being validated)."""
    problems = data_problems(value)
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(
                    type=PydanticCustomError(kind, "{message}", {"message": message}), loc=loc, input=None
                )
                for loc, kind, message in problems
            ],
        )


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    _raise_data_problems(value, "data")
    return value


def _date_time_text(value: Any) -> Any:
    """Only an RFC 3339 string (with its time zone) is a timestamp: not a number, not a bare date."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "datetime_format", "must be an RFC 3339 date-time with a time zone, e.g. 2026-05-01T10:00:00Z"
        )
    return value


#: What a value inside event properties or traits may be, as the OpenAPI document states it (a
#: component of its own: it nests). Depth and size are bounds no JSON Schema keyword states; they are
#: in the descriptions, and ``data_problems`` checks them all.
DATA_VALUE_NAME = "DataValue"
DATA_VALUE_REF: dict[str, JsonValue] = {"$ref": f"#/components/schemas/{DATA_VALUE_NAME}"}
_NO_NUL = "^[^\\u0000]*$"
DATA_VALUE_SCHEMA: dict[str, Any] = {
    "description": "a JSON value: text without NUL (U+0000), an integer within 64 bits, any other "
    "finite number, true, false, null, or a list or object of such values",
    "anyOf": [
        {"type": "string", "pattern": _NO_NUL},
        {"type": "integer", "minimum": -DATA_MAX_INT, "maximum": DATA_MAX_INT},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": DATA_VALUE_REF},
        {
            "type": "object",
            "maxProperties": DATA_MAX_KEYS,
            "propertyNames": {"pattern": _NO_NUL},
            "additionalProperties": DATA_VALUE_REF,
        },
    ],
}

#: Event properties and custom traits: any JSON object within the bounds of ``contracts.events``.
Data = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    WithJsonSchema(
        {
            "type": "object",
            "description": f"any JSON object, {DATA_BOUNDS}",
            "maxProperties": DATA_MAX_KEYS,
            "propertyNames": {"pattern": _NO_NUL},
            "additionalProperties": DATA_VALUE_REF,
        }
    ),
]
#: When something happened: an RFC 3339 date-time string (JSON Schema ``format: date-time``).
Timestamp = Annotated[
    datetime,
    BeforeValidator(_date_time_text),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _known_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        message = "unknown time zone {value}; use an IANA name such as Europe/Paris"
        raise PydanticCustomError("timezone", message, {"value": repr(value)})
    return value


#: An IANA time zone name this server knows (the document lists them all, as the API accepts them).
Timezone = Annotated[
    str, AfterValidator(_known_timezone), WithJsonSchema({"type": "string", "enum": sorted(_TIMEZONES)})
]

# --------------------------------------------------------------------------- errors


class Problem(BaseModel):
    """An error: a sentence saying what went wrong (never which key was wrong, for 401)."""

    detail: str


class FieldProblem(BaseModel):
    path: str = Field(description="where in the request, e.g. body.events[3].name", examples=["body.name"])
    message: str
    type: str = Field(description="machine-readable kind of problem", examples=["string_pattern_mismatch"])


class BatchUnfinished(BaseModel):
    """A batch that spent its time budget: some events were delivered, the rest wait for the resend."""

    detail: str
    reason: Literal["batch_time_budget"]
    delivered: int = Field(description="events of the batch delivered (or found delivered before)")
    left: int = Field(description="events not tried: the resend delivers them")


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


# --------------------------------------------------------------------------- traits


class CustomerTraitsIn(BaseModel):
    """Traits to merge into the customer; keys not given keep their value. Extra keys are custom traits.

    The same model checks ``PUT /v1/customers/{customer_id}`` and the ``traits`` of an event."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": DATA_VALUE_REF,
            "propertyNames": {"pattern": _NO_NUL},
            "maxProperties": DATA_MAX_KEYS,
            "description": f"Traits to merge into the customer; extra keys are custom traits, {DATA_BOUNDS}.",
        },
    )

    email: str | None = Field(None, max_length=320, pattern=EMAIL_PATTERN, examples=["ada@example.com"])
    first_name: str | None = Field(None, max_length=200, pattern=TEXT_PATTERN)
    last_name: str | None = Field(None, max_length=200, pattern=TEXT_PATTERN)
    locale: str | None = Field(None, max_length=35, pattern=TEXT_PATTERN, examples=["en", "id"])
    timezone: Timezone | None = Field(None, examples=["Asia/Jakarta"])

    @model_validator(mode="after")
    def _within_bounds(self) -> Self:
        # Read the values as given: dumping an unchecked nested value could recurse without bound.
        fields = type(self).model_fields
        given = {name: getattr(self, name) for name in self.model_fields_set if name in fields}
        _raise_data_problems({**given, **(self.model_extra or {})}, "traits")
        return self

    def merged(self) -> dict[str, Any]:
        """The traits given (and only those), as the store merges them."""
        return self.model_dump(exclude_unset=True)


# --------------------------------------------------------------------------- events


class EventIn(BaseModel):
    """One thing a customer did. ``event_id`` makes delivery idempotent: send it again on any error."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[Id, Field(examples=["evt-7f3a"])]
    customer_id: Annotated[Id, Field(examples=["cust-42"])]
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$", examples=["signed_up"])
    properties: Data = Field(default_factory=dict)
    timestamp: Timestamp | None = Field(
        None,
        description="when it happened, RFC 3339 with a time zone; default: when it arrives. At most "
        "JOURNEYS_EVENT_TIMESTAMP_WINDOW_DAYS (default 365) days before the server's clock, one day after it",
    )
    traits: CustomerTraitsIn | None = Field(
        None, description="customer traits to merge before routing, checked as PUT /v1/customers checks them"
    )


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

    key: Annotated[Id, Field(description="client idempotency key: a repeat changes nothing")]
    points: int = Field(gt=0, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, examples=["Gift card"])


class AwardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[Id, Field(description="client idempotency key: a repeat changes nothing")]
    points: int = Field(gt=0, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN, examples=["Goodwill gesture"])


class AwardOut(BaseModel):
    customer_id: str
    key: str
    points: int
    balance: int = Field(description="balance after this award (as it was when first made)")
    tier: str | None = Field(description="the tier after this award")
    duplicate: bool = Field(description="true when this key was awarded before: nothing changed")


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
    retrying: int = Field(0, description="sends at this step failing now and being retried")


class JourneyStatsOut(BaseModel):
    journey: str
    entered: int
    exited: int
    active: int
    conversions: int
    conversion_rate: float
    retrying: int = Field(0, description="sends of this journey failing now and being retried")
    steps: list[StepStatsOut] = Field(description="per step, in plan order")


# --------------------------------------------------------------------------- health


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    # degraded: Temporal and the store answer (events are taken) but the SMTP server does not (mail waits)
    status: Literal["ready", "degraded", "unavailable"]
    checks: dict[str, str] = Field(examples=[{"temporal": "ok", "store": "ok", "smtp": "ok"}])
