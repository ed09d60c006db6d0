"""Data that crosses the workflow boundary: the run's input, state, result and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from contracts.compact import Compact
from contracts.customers import CustomerSnapshot
from contracts.events import CustomerEvent
from contracts.plans import PlanRef
from engine.plan import Plan


class StepTaken(BaseModel):
    step: str
    kind: str
    at: datetime
    outcome: str = ""


class RunState(BaseModel):
    """What a run carries over continue-as-new."""

    entry_id: str
    entered_at: datetime
    current: str | None
    visits: dict[str, int] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    pending: list[CustomerEvent] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    points_awarded: int = 0
    goal_reached: bool = False
    taken: list[StepTaken] = Field(default_factory=list)
    # Continued as new while held at ``current`` (a paused journey): carrying on there is not a
    # new entry into the step, so it is neither recorded nor listed again.
    resuming: bool = False
    # Step records made in this entry so far: the next one's number (StepRecord.seq).
    records_made: int = 0


class JourneyInput(Compact):
    """A run's input. It names its plan (``plan_ref``), which the run reads by reference (see
    ``workflows.plans``); runs started before plans went by reference carry the whole ``plan``.

    Its JSON (the first event of every run's history) leaves out the fields at zero defaults, in
    the state, trigger and customer it carries too (``contracts.compact``); a whole plan is kept
    as it dumps."""

    keep_whole: ClassVar[frozenset[str]] = frozenset({"plan"})

    plan_ref: PlanRef | None = None
    plan: Plan | None = None
    customer_id: str
    trigger: CustomerEvent
    state: RunState | None = None
    # Continue as new once history passes this many events (well under Temporal's 51,200 limit).
    history_budget: int = 4000
    # A re-entry carries the events that arrived during the previous entry and were not used.
    carried_events: list[CustomerEvent] = Field(default_factory=list)
    carried_event_ids: list[str] = Field(default_factory=list)
    # The customer as the router read it when it started this entry (saves the run a store read).
    customer: CustomerSnapshot | None = None
    # Set by whoever starts the run (the router, continue-as-new, a re-entry): run store-only steps
    # as local activities (STORE_STEPS_LOCAL's new branch) without asking for the patch, so that
    # the run's history holds no patch marker and no TemporalChangeVersion update. An input without
    # it (a run started before it existed) asks ``workflow.patched`` as it did. See docs/patches.md.
    store_steps_local: bool = False

    @model_validator(mode="after")
    def _one_plan(self) -> JourneyInput:
        if (self.plan is None) == (self.plan_ref is None):
            raise ValueError("a journey input has either plan_ref or plan")
        return self

    @property
    def journey(self) -> str:
        return self.ref().journey

    @property
    def version(self) -> str:
        return self.ref().version

    def ref(self) -> PlanRef:
        """The plan this input names, or carries."""
        if self.plan_ref is not None:
            return self.plan_ref
        assert self.plan is not None  # the validator lets no input have neither
        return PlanRef(journey=self.plan.journey, version=self.plan.version)


class JourneyResult(BaseModel):
    outcome: str  # completed | exited | goal | control
    reason: str
    points_awarded: int
    goal_reached: bool
    steps: list[StepTaken]


class JourneyStatus(BaseModel):
    journey: str
    version: str
    customer_id: str
    current_step: str | None
    steps: list[StepTaken]
    points_awarded: int
    goal_reached: bool
