"""An ``EventSink`` that keeps what activities emit, idempotent by event id like the router."""

from __future__ import annotations

from contracts.events import CustomerEvent


class RecordingEventSink:
    def __init__(self) -> None:
        self.events: list[CustomerEvent] = []
        self.emitted = 0  # every call, repeats included

    async def emit(self, event: CustomerEvent) -> None:
        self.emitted += 1
        if all(seen.event_id != event.event_id for seen in self.events):
            self.events.append(event)

    def names(self) -> list[str]:
        return [event.name for event in self.events]
