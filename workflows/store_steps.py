"""``StoreStep``: a step that only writes to the store (award, set_stage), waiting for the run's next
write (patch ``store-steps-local``).

``JourneyWorkflow`` queues such a step instead of scheduling an activity for it, and runs it as a
local activity at the next point where the run waits, sends, reads the customer or ends, the first
carrying the step records gathered by then. A local activity puts only its result in history, not
its request, and needs no workflow task of its own; the activity is the same one, keyed the same way
(``req.key``), so a step run again after a crash changes nothing: the ledger returns the first award,
the stage is already set, the records are keyed by entry and number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from contracts.activities import StepContext


@dataclass(frozen=True)
class StoreStep:
    activity: str
    """The activity's name (``JourneyActivities``), run as a local activity."""
    request: StepContext
    """Its request as the step made it (its key and time); the records are added when it is written."""
    result_type: type[BaseModel]
    done: Callable[[Any], None]
    """What the run does with the result (notes the step, counts the points)."""
