"""Data that crosses the workflow boundary: customer events (signals), the run's input and state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from activities.contracts import CustomerSnapshot
from engine.plan import Plan


class CustomerEvent(BaseModel):
    """One thing a customer did, as a backend reports it (and as journeys receive it as a signal)."""

    event_id: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$")
    properties: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime | None = None
    traits: dict[str, Any] | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """A timestamp without a time zone is taken as UTC, so times always compare."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    def as_context(self) -> dict[str, Any]:
        return {"name": self.name, "properties": self.properties, "event_id": self.event_id}


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
