"""The segment sweep's input and its activity's request and answer (plain data, shared by
``workflows.segment_sweep`` and ``activities.segments``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

SWEEP_WORKFLOW_ID = "segments/sweep"  # one sweep per namespace and task queue
DEFAULT_EVERY_SECONDS = 3600
DEFAULT_PAGE = 500
DEFAULT_PAUSE_SECONDS = 1.0


class SweepInput(BaseModel):
    every_seconds: int = Field(DEFAULT_EVERY_SECONDS, ge=60, le=7 * 86400)
    page: int = Field(DEFAULT_PAGE, ge=1, le=5000)
    pause_seconds: float = Field(DEFAULT_PAUSE_SECONDS, ge=0, le=3600)  # between pages: paced
    last: datetime | None = None  # the time the last sweep evaluated at (carried across continue-as-new)


class SweepPageRequest(BaseModel):
    since: datetime | None  # None: the first sweep, every customer with a recency event
    until: datetime  # the time the sweep evaluates at (the workflow's clock)
    after: str | None = None  # the last customer id of the page before
    page: int = DEFAULT_PAGE


class SweepPageAnswer(BaseModel):
    evaluated: int = 0
    changes: int = 0
    next_after: str | None = None  # None: the sweep is done
