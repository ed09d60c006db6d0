"""Group commit for event ids: concurrent events claim (and complete) their ids in one store write.

Every event costs an idempotency write, and most a write of their customer's traits. Issued one by
one, those writes queue on the database (SQLite has a single writer); gathered while the previous
write is in flight, a burst of N events costs one transaction and one commit: their claims, their
customers' traits (for the claims taken) and the snapshots of the customers their routing reads.
Should that write fail on one event's data, each event of it is written again alone, so only that
event's request learns of the failure.

Claims are written by the queue's own task, so cancelling a caller (a batch cancels its other
events when one fails) never abandons a claim: one taken for a caller that stopped waiting is
released, and releases go through the queue too, written even if their caller is cancelled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError

from contracts.events import CustomerEvent
from store.database import Store
from store.events import Claim, Claimed, ClaimState
from store.reading import reading
from store.tables import processed_events
from store.types import utcnow

log = logging.getLogger("journeys.claims")

MAX_BATCH = 500
# Longer than any delivery takes (Temporal calls are bounded at a few seconds each).
STALE_CLAIM = timedelta(minutes=2)
# A delivery normally ends well within this: a younger claim is presumably still being delivered.
DELIVERING = timedelta(seconds=10)

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def _one_item_failed(exc: Exception) -> bool:
    """A failure that may be one item's (its data refused), not the database's (gone, locked, no
    schema): worth writing the items again one by one."""
    return (
        isinstance(exc, StatementError)
        and not isinstance(exc, OperationalError | InterfaceError)
        and not getattr(exc, "connection_invalidated", False)
    )


class _GroupCommit(Generic[Item, Answer]):
    """Gathers items that arrive while a write is in flight and writes them together.

    A write of several items that fails as ``isolate`` says one item can make it fail is made
    again one item at a time, so each waiter learns its own item's outcome."""

    def __init__(
        self,
        write: Callable[[list[Item]], Awaitable[list[Answer]]],
        isolate: Callable[[Exception], bool] = _one_item_failed,
    ) -> None:
        self._write = write
        self._isolate = isolate
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

    async def drain(self) -> None:
        """Wait until every item queued so far is written (or its write has failed)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait([self._flusher])  # a cancelled drain leaves the write going on

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the items that arrived together join the first write
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                answers = await self._write([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter of this write learns how it failed
                if len(batch) > 1 and self._isolate(exc):
                    for each in batch:
                        await self._write_alone(*each)
                    continue
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)

    async def _write_alone(self, item: Item, future: asyncio.Future[Answer]) -> None:
        try:
            (answer,) = await self._write([item])
        except Exception as exc:  # noqa: BLE001 - this item's waiter learns how its write failed
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(answer)


@dataclass(frozen=True)
class _Release:
    event_id: str


_Item = Claim | str | _Release  # a claim, a completion (the event id), a release
_Answer = Claimed | None  # a claim's outcome; None for a completion or a release


def _log_failure(future: asyncio.Future[_Answer]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning(
            "could not mark an event delivered; it stays pending until taken over: %s", future.exception()
        )


def _log_release_failure(future: asyncio.Future[_Answer]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning(
            "could not release an event's claim; it stays pending until taken over: %s", future.exception()
        )


class EventClaims:
    def __init__(self, store: Store) -> None:
        self._store = store
        # Claims, completions and releases share one queue, so each is written no later than any
        # claim that arrives after it: a sender's quick repeat sees "done" (or "new"), not "pending".
        self._queue: _GroupCommit[_Item, _Answer] = _GroupCommit(self._write)
        # Event ids this process claimed and is delivering (not yet completed or released).
        self._delivering: set[str] = set()

    async def claim(self, event: CustomerEvent) -> ClaimState:
        """``new`` for the first arrival of ``event.event_id``; ``pending`` or ``done`` for a repeat."""
        return (await self.take(event)).state

    async def take(self, event: CustomerEvent, *, customer: bool = False) -> Claimed:
        """Claim ``event`` as ``claim`` does; when it is ``new``, its traits are merged into its
        customer in the same committed write, and with ``customer`` the answer carries the
        customer's snapshot as it stands after that write.

        A caller cancelled while waiting leaves the write to go on; a claim it takes is released.
        """
        future = self._queue.enqueue(
            Claim(
                event_id=event.event_id,
                customer_id=event.customer_id,
                name=event.name,
                at=event.timestamp,
                traits=event.traits or None,
                customer=customer,
                properties=event.properties,  # a purchase for the history; any event for behaviour
            )
        )
        try:
            claimed = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(functools.partial(self._release_if_taken, event.event_id))
            raise
        assert claimed is not None
        return claimed

    def _release_if_taken(self, event_id: str, future: asyncio.Future[_Answer]) -> None:
        if not future.cancelled() and future.exception() is None:
            claimed = future.result()
            if claimed is not None and claimed.state == "new":
                self.release_soon(event_id)

    async def retry_after(self, event_id: str) -> int:
        """Seconds until a repeat of the pending ``event_id`` can succeed, for ``Retry-After``.

        1 while its delivery is known to run (in this process) or its claim is younger than
        ``DELIVERING`` (another process is presumably delivering it: the claim settles within
        seconds); otherwise its owner probably died, and the claim can be taken over once it is
        ``STALE_CLAIM`` old.
        """
        if event_id in self._delivering:
            return 1
        async with reading(self._store.engine).connect() as conn:
            row = (
                await conn.execute(
                    sa.select(processed_events.c.done, processed_events.c.claimed_at).where(
                        processed_events.c.event_id == event_id
                    )
                )
            ).first()
        if row is None or row.done:
            return 1  # settled meanwhile: a repeat now is new, or a duplicate
        claimed_at: datetime | None = row.claimed_at
        if claimed_at is None:
            return math.ceil(STALE_CLAIM.total_seconds())
        age = utcnow() - claimed_at
        if age < DELIVERING:
            return 1
        return max(1, math.ceil((STALE_CLAIM - age).total_seconds()))

    def complete_soon(self, event_id: str) -> asyncio.Future[_Answer]:
        """Queue the completion now without waiting for its write (the caller may answer at once).

        Should that write fail, the claim stays pending and is taken over after ``STALE_CLAIM``:
        a repeat is then delivered again, which every journey applies once (by event id).
        """
        self._delivering.discard(event_id)
        future = self._queue.enqueue(event_id)
        future.add_done_callback(_log_failure)
        return future

    async def release(self, event_id: str) -> None:
        """Undo a claim whose delivery failed, so the sender's retry runs it. The write goes on if
        the caller is cancelled meanwhile."""
        await asyncio.shield(self.release_soon(event_id))

    async def drain(self) -> None:
        """Wait for the claims, completions and releases queued so far to be written: call it before
        closing the store, or a write still in flight holds a connection the store no longer closes
        (and a completion not yet written leaves its event pending until ``STALE_CLAIM``)."""
        await self._queue.drain()

    def release_soon(self, event_id: str) -> asyncio.Future[_Answer]:
        """Queue the release of a claim now; the future resolves once it is written."""
        self._delivering.discard(event_id)
        future = self._queue.enqueue(_Release(event_id))
        future.add_done_callback(_log_release_failure)
        return future

    async def _write(self, items: list[_Item]) -> list[_Answer]:
        """One transaction: releases first (a repeat queued with one finds the event free), then
        completions, then the claims with their customers' traits."""
        claims = [item for item in items if isinstance(item, Claim)]
        claimed = await self._store.events.intake(
            claims,
            stale_after=STALE_CLAIM,
            complete_first=[item for item in items if isinstance(item, str)],
            release_first=[item.event_id for item in items if isinstance(item, _Release)],
        )
        outcomes = iter(claimed)
        answers: list[_Answer] = []
        for item in items:
            if not isinstance(item, Claim):
                answers.append(None)
                continue
            outcome = next(outcomes)
            if outcome.state == "new":
                self._delivering.add(item.event_id)
            answers.append(outcome)
        return answers
