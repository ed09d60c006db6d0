"""Typed models of a journey file, as a marketer writes it (YAML), and its JSON Schema.

Durations stay text here (``3d``) and are checked on load; the compiler resolves them to seconds.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from contracts.customers import HistoryView, LoyaltyView
from engine.durations import parse_duration, parse_time_of_day
from engine.limits import MAX_EVENT_NAME_LENGTH, MAX_ID_LENGTH, MAX_POINTS, MAX_STEPS, TEMPLATE_NAME
from engine.stages import Stage

SLUG = r"^[a-z][a-z0-9_]*$"
EVENT = r"^[a-z][a-z0-9_.]*$"
SCHEDULE_DAYS = ("day", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STEP_KINDS = ("send", "wait", "wait_for", "branch", "split", "award", "set_stage", "exit")


# Scalars are checked before the type check, so `timeout: 3` gets the same helpful message as
# `timeout: 3 days`; mappings and lists fall through to the type check (a union may want them).
def _duration(value: Any) -> Any:
    if isinstance(value, str | int | float):
        parse_duration(value)
    return value


def _time_of_day(value: Any) -> Any:
    return parse_time_of_day(value) if isinstance(value, str | int | float) else value


# Length limits are checked after the pattern, by validators that leave the JSON Schema as it is.
def _id_length(value: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(
            f'"{value[:MAX_ID_LENGTH]}..." is too long: an id has at most {MAX_ID_LENGTH} characters'
        )
    return value


def _event_length(value: str) -> str:
    if len(value) > MAX_EVENT_NAME_LENGTH:
        shown = value[:MAX_ID_LENGTH]
        most = MAX_EVENT_NAME_LENGTH
        raise ValueError(f'"{shown}..." is too long: an event name has at most {most} characters')
    return value


def _step_count(value: Any) -> Any:
    """Checked before the steps themselves: a journey of ten thousand steps is not validated one by one."""
    if isinstance(value, list) and len(value) > MAX_STEPS:
        raise ValueError(f"a journey has at most {MAX_STEPS} steps; this one has {len(value)}")
    return value


def _template_name(value: str) -> str:
    if not TEMPLATE_NAME.match(value):
        shown = value if len(value) <= MAX_ID_LENGTH else value[:MAX_ID_LENGTH] + "..."
        raise ValueError(
            f'"{shown}" is not a template name: write the name of a folder in templates/ (lower case'
            f" letters, digits, _ and -, starting with a letter, at most {MAX_ID_LENGTH} characters)"
        )
    return value


Duration = Annotated[
    str,
    BeforeValidator(_duration),
    WithJsonSchema(
        {"type": "string", "pattern": r"^(\d+[smhdw])+$", "description": "e.g. 3d, 12h, 2w, 1d12h"}
    ),
]
TimeOfDay = Annotated[
    str,
    BeforeValidator(_time_of_day),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "description": "local time, HH:MM"}),
]
StepId = Annotated[
    str, Field(pattern=SLUG, description="step id: lower case, digits and _"), AfterValidator(_id_length)
]
EventName = Annotated[
    str,
    Field(pattern=EVENT, description="event name, e.g. purchase_completed"),
    AfterValidator(_event_length),
]
TemplateName = Annotated[str, AfterValidator(_template_name)]
Expression = Annotated[
    str,
    Field(
        min_length=1,
        description="a condition, e.g. customer.points >= 500 and event.properties.total > 50",
    ),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _schedule_day(value: Any) -> Any:
    """``every``: one of ``SCHEDULE_DAYS``, with a did-you-mean for a near miss."""
    if isinstance(value, str) and value.strip().lower() in SCHEDULE_DAYS:
        return value.strip().lower()
    shown = str(value)[:40]
    close = difflib.get_close_matches(str(value).lower(), SCHEDULE_DAYS, n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    raise ValueError(f'every is "{shown}"; write one of ' + ", ".join(SCHEDULE_DAYS) + hint)


ScheduleDay = Annotated[
    str,
    BeforeValidator(_schedule_day),
    WithJsonSchema({"type": "string", "enum": list(SCHEDULE_DAYS), "description": "day: every day"}),
]


class Schedule(Model):
    every: ScheduleDay = Field(description="day, or a day of the week (monday ... sunday)")
    at: TimeOfDay = Field(description="the time of day in each customer's time zone, e.g. 09:00")
    segment: StepId = Field(description="who enters: the members of this segment (journeys/segments/)")


class Trigger(Model):
    event: EventName | None = Field(None, description="the event that starts the journey")
    schedule: Schedule | None = Field(
        None, description="or: every member of a segment enters on a schedule, in their time zone"
    )
    where: Expression | None = Field(None, description="audience condition on customer and event")

    @model_validator(mode="after")
    def _one_start(self) -> Trigger:
        if (self.event is None) == (self.schedule is None):
            raise ValueError(
                "a trigger needs exactly one of: event (e.g. event: signed_up) or schedule"
                ' (e.g. schedule: {every: monday, at: "09:00", segment: vip})'
            )
        return self


class Cooldown(Model):
    cooldown: Duration = Field(description="a customer may re-enter this long after their last entry")


class Goal(Model):
    event: EventName
    within: Duration = Field(description="the goal counts only this long after entry")
    stage: Stage | None = Field(None, description="stage a converted customer moves to")
    where: Expression | None = None
    exit: bool = Field(False, description="end the journey when the goal is reached")


class SampleCustomer(BaseModel):
    """The sample customer: any key of a customer; ``loyalty`` and ``history`` are checked as the
    customer's loyalty and history are shaped (a key they lack is an error, with a did-you-mean)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    loyalty: LoyaltyView | None = Field(None, description="customer.loyalty: available, pending, tier, ...")
    history: HistoryView | None = Field(
        None, description="customer.history: purchase_count, top_categories, ..."
    )

    def laid_over(self) -> dict[str, Any]:
        """What the journey's sample says of the customer: only the keys it gives."""
        return self.model_dump(exclude_unset=True)


class Sample(Model):
    """Sample data templates are rendered against when the journey is validated."""

    customer: SampleCustomer = Field(default_factory=SampleCustomer)
    event: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class StepBase(Model):
    id: StepId
    description: str | None = None
    next: StepId | None = Field(None, description="step to go to next (default: the following step)")


class SendSpec(Model):
    email: TemplateName | None = Field(None, description="email template name (a folder in templates/)")
    webhook: str | None = Field(None, description="webhook message type, for SMS/push/social fan-out")
    payload: dict[str, Any] | None = Field(None, description="webhook payload; strings are templates")
    message_class: Literal["transactional", "marketing"] | None = Field(
        None,
        alias="class",
        description="transactional: never capped, held or withheld; marketing: under the channel"
        " policy (default: the policy file's default_class, else marketing)",
    )
    quiet_hours: Literal["hold", "skip"] | None = Field(
        None, description="in the channel's quiet hours: hold until they end, or skip (default: the policy's)"
    )

    @model_validator(mode="after")
    def _one_channel(self) -> SendSpec:
        if (self.email is None) == (self.webhook is None):
            raise ValueError("send needs exactly one channel: email or webhook")
        if self.payload is not None and self.webhook is None:
            raise ValueError("payload goes with webhook, not email")
        return self


class SendStep(StepBase):
    send: SendSpec


class WaitSpec(Model):
    duration: Duration | None = None
    until: TimeOfDay | None = Field(None, description="then wait until this local time of day")

    @model_validator(mode="after")
    def _something(self) -> WaitSpec:
        if self.duration is None and self.until is None:
            raise ValueError("wait needs a duration, an until time of day, or both")
        return self


class WaitStep(StepBase):
    wait: Duration | WaitSpec


class WaitForSpec(Model):
    event: EventName
    timeout: Duration
    where: Expression | None = Field(None, description="only events matching this condition count")


class WaitForStep(StepBase):
    wait_for: WaitForSpec
    on_event: StepId | None = Field(None, description="where to go when the event arrives")
    on_timeout: StepId | None = Field(None, description="where to go when the timeout passes")


class BranchCase(Model):
    when: Expression
    next: StepId


class BranchSpec(Model):
    cases: list[BranchCase] = Field(min_length=1)
    otherwise: StepId | None = Field(None, alias="else", description="when no case matches")


class BranchStep(StepBase):
    branch: BranchSpec


class SplitVariant(Model):
    name: StepId
    weight: int = Field(gt=0)
    next: StepId | None = None


class SplitSpec(Model):
    variants: list[SplitVariant] = Field(min_length=1)
    control: int = Field(0, ge=0, le=99, description="percent held out as a control group (they exit)")


class SplitStep(StepBase):
    split: SplitSpec


def _points(value: Any) -> Any:
    """A whole number of points (0 or more), or an expression that computes one when the step runs.

    Text that is a whole number (``"100"``) is that number; other text is an expression, checked
    like a condition (``engine.checks``).
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        shown = str(value)[:40]
        raise ValueError(
            f"points is a whole number (0 or more) or an expression, not {shown!r}; e.g. points: 100"
            ' or points: "event.properties.total // 1000"'
        )
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(
                'points is empty; write a whole number or an expression ("event.properties.total // 1000")'
            )
        if text.isdigit() and text.isascii():
            value = int(text)
        else:
            return text
    if value < 0:
        raise ValueError(f"points is {value}: an award gives 0 points or more")
    if value > MAX_POINTS:
        # Never str() of a huge number: past 4,300 digits Python refuses to write it.
        shown = (
            str(value)
            if value < 10**30
            else f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        )
        raise ValueError(f"points is {shown}: an award gives at most {MAX_POINTS:,} points")
    return value


Points = Annotated[
    int | str,
    BeforeValidator(_points),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_POINTS},
                {"type": "string", "minLength": 1, "description": "e.g. event.properties.total // 1000"},
            ],
            "description": "points: a whole number, or an expression computed when the step runs"
            f" (rounded down, at most {MAX_POINTS:,}; 0 or less, or an expression that fails, gives"
            " no points)",
        }
    ),
]
RECIPIENTS = ("customer", "referrer")


class AwardSpec(Model):
    points: Points = 0
    reason: str = Field(min_length=1)
    badge: StepId | None = None
    to: Literal["customer", "referrer"] = Field(
        "customer",
        description="who receives it: the journey's customer (default) or the customer's referrer",
    )

    @model_validator(mode="after")
    def _something(self) -> AwardSpec:
        if self.points == 0 and self.badge is None:
            raise ValueError("award needs points, a badge, or both")
        return self


class AwardStep(StepBase):
    award: AwardSpec


class SetStageStep(StepBase):
    set_stage: Stage


class ExitStep(StepBase):
    exit: str | None = Field(None, description="reason recorded for leaving here")


def step_kind(value: Any) -> str | None:
    """The step kind a raw mapping names (or a model is), or None when it names none or several."""
    if isinstance(value, dict):
        kinds = [k for k in STEP_KINDS if k in value]
        return kinds[0] if len(kinds) == 1 else None
    for kind, model in STEP_MODELS.items():
        if isinstance(value, model):
            return kind
    return None


Step = Annotated[
    Annotated[SendStep, Tag("send")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[BranchStep, Tag("branch")]
    | Annotated[SplitStep, Tag("split")]
    | Annotated[AwardStep, Tag("award")]
    | Annotated[SetStageStep, Tag("set_stage")]
    | Annotated[ExitStep, Tag("exit")],
    Discriminator(
        step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS),
    ),
]

STEP_MODELS: dict[str, type[StepBase]] = {
    "send": SendStep,
    "wait": WaitStep,
    "wait_for": WaitForStep,
    "branch": BranchStep,
    "split": SplitStep,
    "award": AwardStep,
    "set_stage": SetStageStep,
    "exit": ExitStep,
}


class Journey(Model):
    """One journey file."""

    journey: Annotated[str, AfterValidator(_id_length)] = Field(
        pattern=SLUG, description="the journey's id, e.g. onboarding"
    )
    description: str = ""
    stage: Stage = Field(description="the lifecycle stage this journey serves")
    trigger: Trigger
    entry: Literal["once", "always"] | Cooldown = Field(
        "once", description="once, always, or {cooldown: 30d}"
    )
    exit_on: list[EventName] = Field(default_factory=list, description="events that end the journey")
    goal: Goal | None = None
    tracking: bool = Field(
        True, description="count opens and clicks of its emails (false: no open pixel, links as written)"
    )
    steps: Annotated[list[Step], BeforeValidator(_step_count)] = Field(min_length=1)
    sample: Sample = Field(default_factory=Sample)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a journey file, for editors (yaml-language-server)."""
    schema = Journey.model_json_schema(by_alias=True)
    # A step is known by its kind's key, even where that key may be empty (``exit:``).
    for kind, model in STEP_MODELS.items():
        required = schema["$defs"][model.__name__].setdefault("required", [])
        if kind not in required:
            required.append(kind)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Journeys journey file"
    return schema


def vocabulary() -> list[str]:
    """Every key the language knows, for did-you-mean suggestions."""
    words: set[str] = set()
    models: list[type[BaseModel]] = [Journey, Trigger, Schedule, Cooldown, Goal, Sample, SendSpec, WaitSpec]
    models += [SampleCustomer, LoyaltyView, HistoryView]
    models += [WaitForSpec, BranchCase, BranchSpec, SplitVariant, SplitSpec, AwardSpec]
    models += list(STEP_MODELS.values())
    for model in models:
        for name, info in model.model_fields.items():
            words.add(info.alias or name)
    return sorted(words)
