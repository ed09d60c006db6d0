"""The customer as journeys see it: what conditions and templates read, and what a run carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DEFAULT_STAGE = "reach"


class CustomerSnapshot(BaseModel):
    """What a journey sees of a customer; ``exists=False`` for an id the store does not know."""

    id: str
    exists: bool = True
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    locale: str = "en"
    timezone: str = "UTC"
    stage: str = DEFAULT_STAGE
    subscribed: bool = True
    points: int = 0
    lifetime_points: int = 0
    tier: str | None = None
    badges: list[str] = Field(default_factory=list)
    traits: dict[str, Any] = Field(default_factory=dict)

    def as_context(self) -> dict[str, Any]:
        """The ``customer`` seen by conditions and templates."""
        values = self.model_dump()
        values["name"] = " ".join(p for p in (self.first_name, self.last_name) if p)
        return values
