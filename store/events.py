"""Processed customer events: the record that makes event intake idempotent by ``event_id``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.inserts import insert_many_ignore
from store.tables import processed_events
from store.types import utcnow

ClaimState = Literal["new", "pending", "done"]


class ProcessedEventRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(
        self,
        events: Sequence[tuple[str, str, str, datetime | None]],
        *,
        stale_after: timedelta,
        complete_first: Sequence[str] = (),
    ) -> dict[str, ClaimState]:
        """Claim many ``(event_id, customer_id, name, at)`` in one transaction, each as:

        - ``new``: this caller owns the event now and must ``complete`` or ``release`` it;
        - ``pending``: another attempt is delivering it right now (the sender should retry);
        - ``done``: it was delivered before (a duplicate).

        A pending claim older than ``stale_after`` was abandoned (its process died): it is taken over.
        ``complete_first`` are event ids to mark done in the same transaction, before the claims.
        """
        now = utcnow()
        rows: dict[str, dict[str, Any]] = {}
        for event_id, customer_id, name, at in events:
            rows.setdefault(
                event_id,
                {
                    "event_id": event_id,
                    "customer_id": customer_id,
                    "name": name,
                    "at": at or now,
                    "done": False,
                    "claimed_at": now,
                },
            )
        states: dict[str, ClaimState] = {}
        async with self._engine.begin() as conn:
            if complete_first:
                await conn.execute(
                    processed_events.update()
                    .where(processed_events.c.event_id.in_(list(complete_first)))
                    .values(done=True)
                )
            if not rows:
                return states
            inserted = await insert_many_ignore(
                conn, processed_events, list(rows.values()), processed_events.c.event_id
            )
            states.update(dict.fromkeys(inserted, "new"))
            others = [event_id for event_id in rows if event_id not in inserted]
            if others:
                table = processed_events.c
                taken = await conn.execute(
                    processed_events.update()
                    .where(
                        table.event_id.in_(others),
                        table.done.is_(False),
                        table.claimed_at < now - stale_after,
                    )
                    .values(claimed_at=now)
                    .returning(table.event_id)
                )
                states.update(dict.fromkeys(taken.scalars(), "new"))
                found = await conn.execute(
                    sa.select(table.event_id, table.done).where(table.event_id.in_(others))
                )
                for event_id, done in found:
                    states.setdefault(event_id, "done" if done else "pending")
        return states

    async def release(self, event_id: str) -> None:
        """Undo a claim whose delivery failed, so the sender's retry runs it."""
        async with self._engine.begin() as conn:
            await conn.execute(processed_events.delete().where(processed_events.c.event_id == event_id))
