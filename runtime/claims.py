"""Group commit for event ids: concurrent events claim their ids in one store write.

Every event costs one idempotency write. Issued one by one, those writes queue on the database
(SQLite has a single writer); gathered while the previous write is in flight, a burst of N
events costs one statement and one commit.
"""

from __future__ import annotations

import asyncio

from store.database import Store
from workflows.models import CustomerEvent

MAX_BATCH = 500


class EventClaims:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: list[tuple[CustomerEvent, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def claim(self, event: CustomerEvent) -> bool:
        """True when this is the first time ``event.event_id`` arrives, False for a repeat."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the events that arrived together join the first write
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                new = await self._store.events.claim(
                    [(e.event_id, e.customer_id, e.name, e.timestamp) for e, _ in batch]
                )
            except Exception as exc:  # every waiter of this write learns it failed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for event, future in batch:
                first = event.event_id in new
                new.discard(event.event_id)  # a repeat inside the same batch is a repeat
                if not future.done():
                    future.set_result(first)
