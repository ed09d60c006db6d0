"""Step records: the rows behind the live counts (a step entered or completed, a journey entered or
left, a conversion), gathered by the workflow and written with the next side effect."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

RecordKind = Literal["entered", "completed", "journey_entered", "journey_exited", "converted"]


class StepRecord(BaseModel):
    """One row for per-step counts: a step entered/completed, a journey entered/left, a conversion."""

    journey: str
    version: str
    workflow_id: str
    customer_id: str
    step: str | None
    kind: RecordKind
    detail: str = ""
    at: datetime
    # Where the run made it: the entry and the record's number in it. A record the workflow makes
    # again (its task ran again: a signal came in as it completed, the worker died after the write)
    # gets the same entry and number, though not the same time, so the store keeps it once.
    # Records made elsewhere (erasure closing a run) have no number; their time tells them apart.
    entry: str = ""
    seq: int | None = None
