"""A customer's runs of a journey, from their step records: one per entry (a ``journey_entered``
record starts it), with its version, the steps taken, where they are now or how they left."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from api.ui.customer_reads import Stored
from api.ui.graph import END

STEPS_LISTED = 12  # steps named in a run's card (the newest); the timeline has the rest


@dataclass(frozen=True)
class Visit:
    step: str
    at: datetime


@dataclass
class Run:
    journey: str
    version: str
    workflow_id: str
    trigger: str | None  # the event it entered on; None when its entry is older than the records read
    entered_at: datetime | None
    visits: list[Visit] = field(default_factory=list)
    last_outcome: str | None = None  # where the last completed step went: a step, "end" or "left: …"
    converted: str | None = None  # the goal event, once reached
    exited_step: str | None = None  # the step they left from (END when they ran off its end)
    exit_detail: str | None = None  # "<outcome>: <reason>" as the workflow recorded it
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def partial(self) -> bool:
        """Its first records are older than those read: the steps listed are its newest."""
        return self.entered_at is None

    def here(self, steps: Collection[str]) -> str | None:
        """The node the diagram marks: where they are now, or where they left (None: unknown)."""
        if self.finished:
            return self.exited_step
        last = self.visits[-1].step if self.visits else None
        if self.last_outcome is not None and self.last_outcome in steps and self.last_outcome != last:
            return self.last_outcome  # between steps: the next one's records are not written yet
        return last if last in steps else None

    def visited(self) -> list[str]:
        """Every step this run entered (among the records read), in order, once each."""
        return list(dict.fromkeys(visit.step for visit in self.visits))

    def listed(self) -> tuple[list[str], int]:
        """The newest steps taken, and how many earlier ones are not named."""
        names = [visit.step for visit in self.visits]
        return names[-STEPS_LISTED:], max(len(names) - STEPS_LISTED, 0)

    def how_it_left(self) -> str:
        """In words: how a finished run ended."""
        return how_it_left(self.exit_detail or "")


def how_it_left(detail: str) -> str:
    """A ``journey_exited`` record's detail (``<outcome>: <reason>``) in words."""
    outcome, _, reason = detail.partition(": ")
    if outcome == "completed":
        return "Finished the journey"
    if outcome == "goal":
        return f"Reached the goal and left ({reason})"
    if outcome == "control":
        return f"Left: in the {reason}"
    if outcome == "exited":
        return f"Left: {reason}"
    return f"Left ({detail})" if detail else "Left"


def runs_of(records: Sequence[Stored]) -> list[Run]:
    """The runs in ``records`` (one journey's, oldest first), oldest first. Records before the
    first entry read belong to an entry older than the window: a partial run."""
    runs: list[Run] = []
    for stored in records:
        record = stored.record
        if record.kind == "journey_entered" or not runs or runs[-1].finished:
            entered = record.kind == "journey_entered"
            runs.append(
                Run(
                    journey=record.journey,
                    version=record.version,
                    workflow_id=record.workflow_id,
                    trigger=record.detail if entered else None,
                    entered_at=record.at if entered else None,
                )
            )
            if entered:
                continue
        run = runs[-1]
        if record.kind == "entered" and record.step:
            run.visits.append(Visit(record.step, record.at))
            run.last_outcome = None
        elif record.kind == "completed":
            run.last_outcome = record.detail
        elif record.kind == "converted":
            run.converted = record.detail
        elif record.kind == "journey_exited":
            run.exited_step = record.step or END
            run.exit_detail = record.detail
            run.finished_at = record.at
    return runs
