"""Group commit for event ids: concurrent events claim (and complete) their ids in one store write.

Every event costs an idempotency write. Issued one by one, those writes queue on the database
(SQLite has a single writer); gathered while the previous write is in flight, a burst of N
events costs one statement and one commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Generic, TypeVar

from contracts.events import CustomerEvent
from store.database import Store
from store.events import ClaimState

log = logging.getLogger("journeys.claims")

MAX_BATCH = 500
# Longer than any delivery takes (Temporal calls are bounded at a few seconds each).
STALE_CLAIM = timedelta(minutes=2)

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class _GroupCommit(Generic[Item, Answer]):
    """Gathers items that arrive while a write is in flight and writes them together."""

    def __init__(self, write: Callable[[list[Item]], Awaitable[list[Answer]]]) -> None:
        self._write = write
        self._waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def enqueue(self, item: Item) -> asyncio.Future[Answer]:
        """Queue ``item`` now (in call order); the future resolves once it is written."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return future

    async def submit(self, item: Item) -> Answer:
        return await self.enqueue(item)

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the items that arrived together join the first write
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                answers = await self._write([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter of this write learns how it failed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)


def _log_failure(future: asyncio.Future[ClaimState | None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning(
            "could not mark an event delivered; it stays pending until taken over: %s", future.exception()
        )


class EventClaims:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Claims and completions share one queue, so a completion is written no later than any
        # claim that arrives after it: a sender's quick repeat sees "done", not "pending".
        self._queue: _GroupCommit[CustomerEvent | str, ClaimState | None] = _GroupCommit(self._write)

    async def claim(self, event: CustomerEvent) -> ClaimState:
        """``new`` for the first arrival of ``event.event_id``; ``pending`` or ``done`` for a repeat."""
        state = await self._queue.submit(event)
        assert state is not None
        return state

    def complete_soon(self, event_id: str) -> asyncio.Future[ClaimState | None]:
        """Queue the completion now without waiting for its write (the caller may answer at once).

        Should that write fail, the claim stays pending and is taken over after ``STALE_CLAIM``:
        a repeat is then delivered again, which every journey applies once (by event id).
        """
        future = self._queue.enqueue(event_id)
        future.add_done_callback(_log_failure)
        return future

    async def release(self, event_id: str) -> None:
        await self._store.events.release(event_id)

    async def _write(self, items: list[CustomerEvent | str]) -> list[ClaimState | None]:
        events = [item for item in items if isinstance(item, CustomerEvent)]
        completed = [item for item in items if isinstance(item, str)]
        states = await self._store.events.claim(
            [(e.event_id, e.customer_id, e.name, e.timestamp) for e in events],
            stale_after=STALE_CLAIM,
            complete_first=completed,
        )
        answers: list[ClaimState | None] = []
        owned: set[str] = set()
        for item in items:
            if isinstance(item, str):
                answers.append(None)
                continue
            state = states[item.event_id]
            if state == "new" and item.event_id in owned:
                state = "pending"  # a repeat inside the same batch: the first one is delivering it
            owned.add(item.event_id)
            answers.append(state)
        return answers
