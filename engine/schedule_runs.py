"""The scheduler of a scheduled journey: its input, its activities' requests and answers (plain data
shared by ``workflows.scheduled_entries`` and ``activities.schedules``), and the ids it uses."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from contracts.ids import derived_id

DEFAULT_PAGE = 100  # entries per page
DEFAULT_PAUSE_SECONDS = 1.0  # between pages: at most a page of starts a second
DEFAULT_RECHECK_SECONDS = 6 * 3600  # wake at least this often: members in new time zones are seen
DEFAULT_IDLE_SECONDS = 86400  # the same while the segment has no members


def scheduler_id(journey: str) -> str:
    """The one scheduler run of a journey (per namespace)."""
    return f"schedule/{journey}"


def entry_event_id(journey: str, customer_id: str, occurrence: datetime) -> str:
    """The id of one customer's entry at one occurrence: the same on every retry and replay."""
    instant = occurrence.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return derived_id(f"schedule/{journey}/{customer_id}", instant)


class Occurrence(BaseModel):
    at: datetime
    zones: list[str]


class SchedulerInput(BaseModel):
    journey: str
    page: int = Field(DEFAULT_PAGE, ge=1, le=1000)
    pause_seconds: float = Field(DEFAULT_PAUSE_SECONDS, ge=0, le=3600)
    recheck_seconds: int = Field(DEFAULT_RECHECK_SECONDS, ge=60, le=86400)
    idle_seconds: int = Field(DEFAULT_IDLE_SECONDS, ge=60, le=86400)
    last: datetime | None = None  # occurrences up to here are done (carried across continue-as-new)
    # An occurrence being entered when the run continued as new, and those due after it:
    segment: str = ""
    due: list[Occurrence] = Field(default_factory=list)
    cursor: str | None = None  # the last customer entered at due[0]


class DueRequest(BaseModel):
    journey: str
    after: datetime
    until: datetime


class DueAnswer(BaseModel):
    """What the journey's current deployment asks for now."""

    scheduled: bool  # False: not deployed, or no longer scheduled: the scheduler ends
    segment: str = ""
    due: list[Occurrence] = Field(default_factory=list)  # in (after, until], earliest first
    next_at: datetime | None = None  # the next occurrence after ``until`` for the zones seen now


class EnterPage(BaseModel):
    journey: str
    segment: str
    occurrence: Occurrence
    after: str | None = None  # the last customer id of the page before
    page: int = DEFAULT_PAGE


class EnterPageAnswer(BaseModel):
    entered: int = 0
    skipped: int = 0  # not in the audience, re-entry rules, paused, or entered at this occurrence already
    next_after: str | None = None  # None: the occurrence is done
