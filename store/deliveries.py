"""The delivery log: one row per email or webhook sent or skipped, unique by idempotency key; and
the send intents: an email noted before it goes out, so a retry knows an earlier attempt may have
delivered it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.activities import DeliveryResult
from contracts.records import StepRecord
from store import counters
from store.engagement import TrackedMessage, note_tracked
from store.inserts import insert_ignore
from store.reading import reading
from store.steps import insert_records
from store.tables import deliveries, send_intents, send_retries


class SentBody(BaseModel):
    """An email's rendered bodies, kept with its delivery log entry."""

    html: str | None
    text: str | None


class LoggedDelivery(BaseModel):
    """A delivery log entry as the customer page lists it."""

    key: str
    journey: str
    version: str | None  # None: logged before versions were kept and no entry found for it
    step: str
    channel: str
    status: str
    reason: str | None
    recipient: str | None
    subject: str | None
    at: datetime
    has_message: bool  # the email as sent can be shown (``sent_message``)


class SentMessage(BaseModel):
    key: str
    customer_id: str
    subject: str | None
    html: str | None
    text: str | None
    recipient: str | None
    at: datetime


def workflow_of(key: str) -> str:
    """The workflow id in an idempotency key ``{workflow_id}/{entry_id}/{step}/{visit}``."""
    return key.rsplit("/", 3)[0]


class DeliveryRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, key: str) -> DeliveryResult | None:
        """The recorded outcome of delivery ``key``, or None if it never completed."""
        async with reading(self._engine).connect() as conn:
            row = (
                (await conn.execute(sa.select(deliveries).where(deliveries.c.key == key))).mappings().first()
            )
        return None if row is None else delivery_result(row)

    async def begin_send(
        self,
        key: str,
        channel: str,
        *,
        message_id: str | None,
        at: datetime,
        tracked: TrackedMessage | None = None,
    ) -> bool:
        """Note (and commit) that ``key`` is about to go out, with its ``tracked`` links if any; True
        when an earlier attempt's note is there instead: that attempt stopped with the message
        possibly delivered (outcome unknown)."""
        async with self._engine.begin() as conn:
            inserted = await insert_ignore(
                conn, send_intents, {"key": key, "channel": channel, "message_id": message_id, "at": at}
            )
            if tracked is not None:
                await note_tracked(conn, tracked)
        return not inserted

    async def cancel_send(self, key: str) -> None:
        """Forget the note of ``key``: the attempt failed before the message could reach the server."""
        async with self._engine.begin() as conn:
            await conn.execute(send_intents.delete().where(send_intents.c.key == key))

    async def record(
        self,
        key: str,
        result: DeliveryResult,
        *,
        customer_id: str,
        journey: str,
        version: str,
        step: str,
        at: datetime,
        records: Sequence[StepRecord] = (),
        message: SentBody | None = None,
    ) -> DeliveryResult:
        """Log ``result`` under ``key`` (and the step ``records`` that led here, in the same
        transaction, which also settles the key's send intent and adds to the step's counters);
        ``message`` is the email as sent. If the key is already logged, return that entry instead."""
        async with self._engine.begin() as conn:
            await insert_records(conn, records)
            if result.channel == "email":
                await conn.execute(send_intents.delete().where(send_intents.c.key == key))
            await conn.execute(send_retries.delete().where(send_retries.c.key == key))
            inserted = await insert_ignore(
                conn,
                deliveries,
                {
                    "key": key,
                    "channel": result.channel,
                    "customer_id": customer_id,
                    "journey": journey,
                    "step": step,
                    "status": result.status,
                    "reason": result.reason,
                    "recipient": result.recipient,
                    "subject": result.subject,
                    "message_id": result.message_id,
                    "at": at,
                    "version": version,
                    "html": message.html if message else None,
                    "text": message.text if message else None,
                },
            )
            if inserted:
                sent = counters.CounterKey(
                    journey=journey,
                    version=version,
                    step=step,
                    kind=counters.SEND + result.status,
                    detail="",
                    shard=counters.shard_of(workflow_of(key)),
                )
                await counters.add(conn, {sent: 1})
        if inserted:
            return result
        existing = await self.get(key)
        assert existing is not None
        return existing

    async def log_for_customer(self, customer_id: str, *, limit: int = 200) -> list[LoggedDelivery]:
        """The ``limit`` latest emails and webhooks sent or skipped for a customer, newest first."""
        d = deliveries.c
        columns = [d.key, d.journey, d.version, d.step, d.channel, d.status, d.reason, d.recipient]
        has_message = sa.or_(d.html.is_not(None), d.text.is_not(None)).label("has_message")
        query = (
            sa.select(*columns, d.subject, d.at, has_message)
            .where(d.customer_id == customer_id)
            .order_by(d.at.desc(), d.id.desc())
            .limit(limit)
        )
        async with reading(self._engine).connect() as conn:
            rows = (await conn.execute(query)).mappings()
            return [LoggedDelivery.model_validate(dict(row)) for row in rows]

    async def sent_message(self, key: str) -> SentMessage | None:
        """The email logged under ``key`` as it was sent, or None (no such email, or logged before
        bodies were kept, or its customer was forgotten)."""
        d = deliveries.c
        query = sa.select(d.key, d.customer_id, d.subject, d.html, d.text, d.recipient, d.at).where(
            d.key == key, d.channel == "email", sa.or_(d.html.is_not(None), d.text.is_not(None))
        )
        async with reading(self._engine).connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else SentMessage.model_validate(dict(row))

    async def for_customer(self, customer_id: str) -> list[DeliveryResult]:
        """Everything sent or skipped for a customer, oldest first."""
        async with reading(self._engine).connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.customer_id == customer_id)
                    .order_by(deliveries.c.at, deliveries.c.id)
                )
            ).mappings()
            return [delivery_result(row) for row in rows]


def delivery_result(row: sa.RowMapping) -> DeliveryResult:
    """A delivery log row as the activity's result."""
    return DeliveryResult(
        status=row["status"],
        channel=row["channel"],
        reason=row["reason"],
        recipient=row["recipient"],
        subject=row["subject"],
        message_id=row["message_id"],
    )
