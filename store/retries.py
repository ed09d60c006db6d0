"""Sends being retried: noted when an attempt fails and will be tried again, cleared when the send
is logged (``DeliveryRepository.record``) or fails for good. What the journey stats count as
``retrying`` and the reason operators see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.records import StepRecord
from store.inserts import insert_ignore
from store.reading import reading
from store.steps import insert_records
from store.tables import send_retries
from store.types import utcnow

REASON_LENGTH = 500


class RetryRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def note(
        self,
        key: str,
        *,
        channel: str,
        journey: str,
        version: str,
        step: str,
        customer_id: str,
        reason: str,
        attempt: int,
        at: datetime | None = None,
        records: Sequence[StepRecord] = (),
    ) -> None:
        """Note that attempt ``attempt`` of the send under ``key`` failed and will be retried, with
        the step ``records`` that led here (the step was entered: its counts show the customer
        waiting there while the send is retried)."""
        now = at or utcnow()
        reason = reason[:REASON_LENGTH]
        async with self._engine.begin() as conn:
            await insert_records(conn, records)
            row = {
                "key": key,
                "channel": channel,
                "journey": journey,
                "version": version,
                "step": step,
                "customer_id": customer_id,
                "reason": reason,
                "attempts": attempt,
                "since": now,
                "updated_at": now,
            }
            if not await insert_ignore(conn, send_retries, row):
                await conn.execute(
                    send_retries.update()
                    .where(send_retries.c.key == key)
                    .values(reason=reason, attempts=attempt, updated_at=now)
                )

    async def clear(self, key: str) -> None:
        """The send under ``key`` is no longer being retried (it failed for good)."""
        async with self._engine.begin() as conn:
            await conn.execute(send_retries.delete().where(send_retries.c.key == key))

    async def by_step(self, journey: str, version: str | None = None) -> dict[str, int]:
        """How many sends are being retried at each step of ``journey`` (of one version, if given)."""
        query = sa.select(send_retries.c.step, sa.func.count()).where(send_retries.c.journey == journey)
        if version is not None:
            query = query.where(send_retries.c.version == version)
        async with reading(self._engine).connect() as conn:
            rows = await conn.execute(query.group_by(send_retries.c.step))
            return {str(step): int(count) for step, count in rows}
