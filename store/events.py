"""Processed customer events: the record that makes event intake idempotent by ``event_id``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from store.inserts import insert_ignore, insert_many_ignore
from store.reading import reading
from store.tables import processed_events
from store.types import utcnow


class ProcessedEventRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def mark_processed(
        self, event_id: str, customer_id: str, name: str, at: datetime | None = None
    ) -> bool:
        """True the first time ``event_id`` is seen, False for every repeat."""
        async with self._engine.begin() as conn:
            return await insert_ignore(
                conn,
                processed_events,
                {"event_id": event_id, "customer_id": customer_id, "name": name, "at": at or utcnow()},
            )

    async def claim(self, events: Sequence[tuple[str, str, str, datetime | None]]) -> set[str]:
        """Record many ``(event_id, customer_id, name, at)`` in one statement; the ids that were new.

        One write for a whole group of concurrent events: on SQLite, one lock and one commit.
        """
        rows: dict[str, dict[str, Any]] = {}
        for event_id, customer_id, name, at in events:
            rows.setdefault(
                event_id,
                {"event_id": event_id, "customer_id": customer_id, "name": name, "at": at or utcnow()},
            )
        async with self._engine.begin() as conn:
            return await insert_many_ignore(
                conn, processed_events, list(rows.values()), processed_events.c.event_id
            )

    async def release(self, event_id: str) -> None:
        """Undo ``mark_processed`` for an event whose delivery failed, so the sender's retry runs it."""
        async with self._engine.begin() as conn:
            await conn.execute(processed_events.delete().where(processed_events.c.event_id == event_id))

    async def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` was already processed (a cheap check before the work)."""
        async with reading(self._engine).connect() as conn:
            found = await conn.scalar(
                sa.select(processed_events.c.event_id).where(processed_events.c.event_id == event_id)
            )
        return found is not None
