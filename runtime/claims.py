"""Group commit for event ids: concurrent events claim (and complete) their ids in one store write.

Every event costs an idempotency write. Issued one by one, those writes queue on the database
(SQLite has a single writer); gathered while the previous write is in flight, a burst of N
events costs one statement and one commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Generic, TypeVar

from store.database import Store
from store.events import ClaimState
from workflows.models import CustomerEvent

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

    async def submit(self, item: Item) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the items that arrived together join the first write
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                answers = await self._write([item for item, _ in batch])
            except Exception as exc:  # every waiter of this write learns it failed
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)


class EventClaims:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._claims: _GroupCommit[CustomerEvent, ClaimState] = _GroupCommit(self._claim)
        self._completions: _GroupCommit[str, None] = _GroupCommit(self._complete)

    async def claim(self, event: CustomerEvent) -> ClaimState:
        """``new`` for the first arrival of ``event.event_id``; ``pending`` or ``done`` for a repeat."""
        return await self._claims.submit(event)

    async def complete(self, event_id: str) -> None:
        await self._completions.submit(event_id)

    async def release(self, event_id: str) -> None:
        await self._store.events.release(event_id)

    async def _claim(self, events: list[CustomerEvent]) -> list[ClaimState]:
        states = await self._store.events.claim(
            [(e.event_id, e.customer_id, e.name, e.timestamp) for e in events], stale_after=STALE_CLAIM
        )
        answers: list[ClaimState] = []
        owned: set[str] = set()
        for event in events:
            state = states[event.event_id]
            if state == "new" and event.event_id in owned:
                state = "pending"  # a repeat inside the same batch: the first one is delivering it
            owned.add(event.event_id)
            answers.append(state)
        return answers

    async def _complete(self, event_ids: list[str]) -> list[None]:
        await self._store.events.complete(event_ids)
        return [None] * len(event_ids)
