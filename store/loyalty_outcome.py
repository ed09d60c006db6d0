"""What a loyalty feature returns for one event or one settle: the events it emits and when it next
needs to run (``store.wallet``, ``store.tiers``, ``store.referrals``, ``store.challenges``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.events import CustomerEvent


@dataclass
class Outcome:
    """``events`` to emit after the transaction commits (deterministic ids, so twice is once) and
    ``next_due``: the earliest time something of this feature falls due (None: nothing scheduled)."""

    events: list[CustomerEvent] = field(default_factory=list)
    next_due: datetime | None = None

    def add(self, other: Outcome) -> Outcome:
        """Fold ``other`` into this outcome (its events after these; the earlier due time)."""
        self.events.extend(other.events)
        self.next_due = earliest(self.next_due, other.next_due)
        return self


def earliest(*times: datetime | None) -> datetime | None:
    """The earliest of ``times`` that is not None; None when all are."""
    present = [time for time in times if time is not None]
    return min(present) if present else None


def merge(outcomes: Iterable[Outcome]) -> Outcome:
    """One outcome of many: every event in order, the earliest due time."""
    merged = Outcome()
    for outcome in outcomes:
        merged.add(outcome)
    return merged
