"""The preview's contract: what the page asks for (a story, a forecast) and what a run answers (the
timeline, the path on the diagram, each email as rendered; per-step numbers of a forecast).

The API checks requests against these models; the runner (``simulate.preview``, in a process of its
own) reads a ``RunJob`` and answers a ``RunAnswer``. Both sides import this module (``simulate`` sits
above ``api`` in the layers), so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.ui.live import LiveCounts
from engine.channels.policy import ChannelPolicy
from engine.durations import DurationError, parse_duration
from engine.loyalty.program import Program
from engine.plan import Plan

# Bounds of one run: every request over one of them is refused (422) before anything starts.
MAX_EVENTS = 50
MAX_TRAITS = 20
MAX_CHANCES = 20
MAX_VARIANTS = 20
MAX_LINE = 200
MAX_NAME = 100
MAX_CUSTOMERS = 1000
MAX_HORIZON = "365d"
MAX_HORIZON_SECONDS = parse_duration(MAX_HORIZON)
MAX_SOURCE = 256_000  # characters of unsaved YAML; the engine's own limits apply within it
DEFAULT_HORIZON = "90d"
_ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
_ID = r"^[a-z][a-z0-9_]*$"


def _horizon(value: str) -> str:
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    if seconds > MAX_HORIZON_SECONDS:
        raise ValueError(f"{value} is longer than a preview may run ({MAX_HORIZON}); give a shorter horizon")
    return value


Line = Annotated[str, Field(max_length=MAX_LINE, pattern=_ONE_LINE)]
Horizon = Annotated[str, Field(max_length=20), AfterValidator(_horizon)]
StepName = Annotated[str, Field(max_length=64, pattern=_ID)]
VariantName = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
SourceText = Annotated[str, Field(max_length=MAX_SOURCE)]
VersionName = Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]


# --------------------------------------------------------------------------- requests


class StoryIn(BaseModel):
    """A customer story as ``journeys simulate`` takes it on its command line."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "preview story", min_length=1, max_length=MAX_NAME, pattern=_ONE_LINE, description="the story's name"
    )
    events: list[Line] = Field(
        default_factory=list,
        max_length=MAX_EVENTS,
        description="events at offsets, one each, as `journeys simulate -e` takes them: "
        '"2d profile_completed", "5d 10:00 purchase_completed total=42"',
    )
    traits: list[Line] = Field(
        default_factory=list,
        max_length=MAX_TRAITS,
        description='customer traits as `-t` takes them: "timezone=Asia/Jakarta", "first_name=Budi"',
    )
    variants: dict[StepName, VariantName] = Field(
        default_factory=dict,
        max_length=MAX_VARIANTS,
        description="split step -> the variant to put the customer in (or control), as `--variant`",
    )
    horizon: Horizon = Field(DEFAULT_HORIZON, description="how long to let time run (at most 365d)")


class Target(BaseModel):
    """Which journey: the version deployed (the current one unless ``version`` names another), or
    the editor's unsaved ``source``, validated as ``POST /v1/journeys/validate`` validates."""

    model_config = ConfigDict(extra="forbid")

    source: SourceText | None = Field(None, description="YAML of the journey, not deployed")
    version: VersionName | None = Field(None, description="a deployed version (default: the current one)")


class StoryRequest(Target):
    story: StoryIn = Field(default_factory=StoryIn)


class ForecastRequest(Target):
    customers: int = Field(ge=1, le=MAX_CUSTOMERS, description="how many generated customers")
    p: list[Line] = Field(
        default_factory=list,
        max_length=MAX_CHANCES,
        description='chances as `--p` takes them: "profile_completed=0.4" (the rest: the simulator defaults)',
    )
    seed: int = Field(1, ge=0, le=2**31 - 1, description="seed of the generated customers")
    traits: list[Line] = Field(default_factory=list, max_length=MAX_TRAITS)
    horizon: Horizon = Field(DEFAULT_HORIZON)


class SaveTestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        None, min_length=1, max_length=MAX_NAME, pattern=_ONE_LINE, description="default: the story's name"
    )


# --------------------------------------------------------------------------- the runner's job


class RunJob(BaseModel):
    """What the API hands the runner process (one JSON line on its stdin)."""

    kind: Literal["story", "forecast"]
    plan: Plan
    story: StoryIn
    customers: int = 0
    p: list[str] = Field(default_factory=list)
    seed: int = 1
    program: Program | None = None  # the deployed loyalty program, played beside the journey
    policy: ChannelPolicy | None = None  # the deployed channel policy, applied to its sends


# --------------------------------------------------------------------------- answers


class TimelineEntry(BaseModel):
    day: int
    time: str  # HH:MM on the customer's clock
    at: datetime  # simulated
    step: str | None
    kind: str  # event | enter | end | goal | a step kind
    text: str


class PathTaken(BaseModel):
    steps: list[str] = Field(description="the steps entered, in order (as `journeys simulate` lists them)")
    nodes: list[str] = Field(
        description="diagram nodes visited: the entry, each step once, the end if reached"
    )
    edges: list[str] = Field(description="diagram edges taken (the journey page's edge ids)")


class RenderedEmail(BaseModel):
    index: int  # its place in the story's emails: GET /ui/preview/{job}/emails/{index}
    step: str
    name: str  # the template
    day: int
    time: str
    status: str  # sent | skipped | failed ...
    reason: str | None = None
    recipient: str | None = None
    subject: str | None = None
    html: str | None = None
    text: str | None = None


class RunOutcome(BaseModel):
    entered_day: int
    ended_day: int | None
    outcome: str  # completed | exited | goal | control | running | failed
    reason: str
    goal_reached: bool
    goal_day: int | None


class StoryEventOut(BaseModel):
    at: str | int
    event: str
    properties: dict[str, Any] = Field(default_factory=dict)


class StoryPlayed(BaseModel):
    """The story as the simulator read it: what a journey test of it needs."""

    name: str
    customer: dict[str, Any]  # the traits given (the simulator's sample customer underneath)
    traits: dict[str, Any]  # every trait the customer had
    events: list[StoryEventOut]
    variants: dict[str, str]
    horizon: str


class StoryResult(BaseModel):
    journey: str
    version: str
    story: StoryPlayed
    customer_id: str
    start: datetime
    timezone: str
    timeline: list[TimelineEntry]
    path: PathTaken
    emails: list[RenderedEmail]
    runs: list[RunOutcome]
    points: int
    stage: str | None
    tier: str | None
    badges: list[str]


class ForecastStep(BaseModel):
    step: str
    kind: str
    entered: int
    completed: int
    waiting: int
    exited: int
    converted: int
    emails: int
    points: int


class ForecastResult(BaseModel):
    journey: str
    version: str
    customers: int
    entered: int
    converted: int
    outcomes: dict[str, int]
    emails: int
    points: int
    assumed: list[str]
    steps: list[ForecastStep]
    counts: LiveCounts = Field(description="the same numbers keyed as the journey page's counts")


class BadInput(BaseModel):
    message: str


class RunAnswer(BaseModel):
    """What the runner writes to its result file."""

    story: StoryResult | None = None
    forecast: ForecastResult | None = None
    refused: BadInput | None = None


# --------------------------------------------------------------------------- jobs


class Progress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    kind: Literal["story", "forecast"]
    journey: str
    version: str
    unsaved: bool = Field(description="run on text not deployed (the editor's)")
    state: Literal["running", "done", "failed", "stopped"]
    progress: Progress
    started_at: datetime
    finished_at: datetime | None
    seconds_allowed: float
    error: str | None = None
    story: StoryResult | None = None
    forecast: ForecastResult | None = None


class SplitChoice(BaseModel):
    step: str
    variants: list[str]
    control: bool


class PresetStory(BaseModel):
    """A story of the journey's tests (``journeys/tests/<journey>.yaml``), as the form takes it."""

    name: str
    events: list[str]
    traits: list[str]
    variants: dict[str, str]
    horizon: str


class PreviewOptions(BaseModel):
    journey: str
    version: str
    trigger: str
    events: list[str] = Field(description="events the journey waits for, reaches its goal or leaves on")
    splits: list[SplitChoice]
    stories: list[PresetStory]
    max_events: int = MAX_EVENTS
    max_customers: int = MAX_CUSTOMERS
    max_horizon: str = MAX_HORIZON
    can_save: bool
    why_not_save: str


class SavedTest(BaseModel):
    file: str  # relative to the journeys folder, e.g. tests/onboarding.yaml
    name: str
    case: str  # the YAML appended
