"""Where activities report customer events they cause (a tier change, a badge): the event router."""

from __future__ import annotations

from typing import Protocol

from contracts.events import CustomerEvent


class EventSink(Protocol):
    """Takes an event as if a backend had sent it; must be idempotent by ``event.event_id``."""

    async def emit(self, event: CustomerEvent) -> None: ...
