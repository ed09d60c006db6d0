"""Data that crosses the workflow boundary: the run's input, state, result and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from contracts.customers import CustomerSnapshot
from contracts.events import CustomerEvent
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


class JourneyInput(BaseModel):
    plan: Plan
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
