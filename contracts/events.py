"""Customer events: what a backend reports, what the router routes and what journeys receive as signals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator


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
