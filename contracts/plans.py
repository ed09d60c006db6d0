"""A plan by reference: the journey and its version name one compiled plan, which never changes.

The version is a content hash of the plan (``engine.compiler.content_version``) and the store keeps
every deployed version and never rewrites one, so a run can carry ``PlanRef`` instead of the plan:
what it names is the same today, at every replay, on every worker.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PlanRef(BaseModel):
    # Fields it does not know are ignored, not refused: a local activity recorded before plans went by
    # reference answered the whole plan, and replay reads that answer as the reference it holds.
    model_config = ConfigDict(frozen=True, extra="ignore")

    journey: str
    version: str

    def __str__(self) -> str:
        return f"{self.journey} version {self.version}"
