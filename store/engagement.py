"""Opens and clicks of tracked emails, per message, journey, version, step and split variant.

A tracked email is noted (``note_tracked``) with its links before it goes out, in the transaction
that notes the send, so a click that comes at once finds its link. Each open and click then:

- adds to its message's totals (``opens``, ``clicks``) and sets the first time of each;
- is kept as an ``engagement`` row (the first ``EVENTS_PER_MESSAGE`` of a message: a client that
  loads the pixel on every view cannot grow the table without bound; the totals keep counting);
- the first open and the first click of a message add 1 to the step's ``opened`` / ``clicked``
  counters (``store.counters``: detail "" for the step, ``variant:<split>=<variant>`` for each
  split variant the run was given), so the counters count messages opened and clicked.

A click counts as an open of a message not opened yet (its images were blocked): ``opened`` is
"opened or clicked". Times are the API's clock (``utcnow``), not a workflow's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import counters
from store.engagement_tables import delivery_links, engagement, tracked_messages
from store.inserts import insert_ignore
from store.reading import reading

EVENTS_PER_MESSAGE = 100
OPEN = "open"
CLICK = "click"
STEP = ""  # the counters' detail of a step's own count
VARIANT = "variant:"


@dataclass(frozen=True)
class TrackedMessage:
    """An email sent with tracking: where it was sent from and its links by number."""

    message: str  # activities.tracking_tokens.message_ref of the delivery key
    key: str
    customer_id: str
    journey: str
    version: str
    step: str
    at: datetime
    links: list[str]
    variants: Mapping[str, str] = field(default_factory=dict)  # split -> variant


@dataclass(frozen=True)
class MessageEngagement:
    message: str
    journey: str
    version: str
    step: str
    variants: dict[str, str]
    opens: int
    clicks: int
    first_opened_at: datetime | None
    first_clicked_at: datetime | None


def variant_detail(split: str, variant: str) -> str:
    return f"{VARIANT}{split}={variant}"[: counters.DETAIL_LENGTH]


async def note_tracked(conn: AsyncConnection, tracked: TrackedMessage) -> None:
    """Keep ``tracked`` and its links inside the caller's transaction. Again for the same message
    (a retry rendered anew) keeps its counts and replaces its links by the latest render's."""
    await insert_ignore(
        conn,
        tracked_messages,
        {
            "message": tracked.message,
            "key": tracked.key,
            "customer_id": tracked.customer_id,
            "journey": tracked.journey,
            "version": tracked.version,
            "step": tracked.step,
            "variants": dict(tracked.variants),
            "at": tracked.at,
        },
    )
    await conn.execute(delivery_links.delete().where(delivery_links.c.message == tracked.message))
    if tracked.links:
        rows = [{"message": tracked.message, "link": n, "url": url} for n, url in enumerate(tracked.links)]
        await conn.execute(delivery_links.insert(), rows)


async def record_open(engine: AsyncEngine, message: str, at: datetime) -> bool:
    """Count an open of ``message``; False (nothing counted) when no such message is tracked."""
    async with engine.begin() as conn:
        return await _record(conn, message, OPEN, None, at)


async def record_click(engine: AsyncEngine, message: str, link: int, at: datetime) -> str | None:
    """Count a click on link ``link`` of ``message`` and answer its URL; None (nothing counted)
    when the message is not tracked or has no such link."""
    async with engine.begin() as conn:
        url = await conn.scalar(
            sa.select(delivery_links.c.url).where(
                delivery_links.c.message == message, delivery_links.c.link == link
            )
        )
        if url is None or not await _record(conn, message, CLICK, link, at):
            return None
        return str(url)


async def _record(conn: AsyncConnection, message: str, kind: str, link: int | None, at: datetime) -> bool:
    t = tracked_messages.c
    row = (
        await conn.execute(
            sa.select(t.key, t.journey, t.version, t.step, t.variants, t.opens, t.clicks).where(
                t.message == message
            )
        )
    ).first()
    if row is None:
        return False
    firsts = [counters.OPENED] if await _first(conn, message, t.first_opened_at, at) else []
    if kind == CLICK and await _first(conn, message, t.first_clicked_at, at):
        firsts.append(counters.CLICKED)
    total = t.opens if kind == OPEN else t.clicks
    await conn.execute(tracked_messages.update().where(t.message == message).values({total: total + 1}))
    if row.opens + row.clicks < EVENTS_PER_MESSAGE:
        await conn.execute(engagement.insert().values(message=message, kind=kind, link=link, at=at))
    if firsts:
        details = [STEP] + [variant_detail(s, v) for s, v in sorted(dict(row.variants or {}).items())]
        shard = counters.shard_of(row.key.rsplit("/", 3)[0])  # the run: as store.deliveries.workflow_of
        increments = {
            counters.CounterKey(row.journey, row.version, row.step, kind_, detail, shard): 1
            for kind_ in firsts
            for detail in details
        }
        await counters.add(conn, increments)
    return True


async def _first(conn: AsyncConnection, message: str, column: sa.Column[datetime], at: datetime) -> bool:
    """Set ``column`` to ``at`` if it is unset; True when this call set it (one caller ever does)."""
    t = tracked_messages.c
    result = await conn.execute(
        tracked_messages.update().where(t.message == message, column.is_(None)).values({column: at})
    )
    return result.rowcount == 1


async def message_engagement(engine: AsyncEngine, message: str) -> MessageEngagement | None:
    """The totals of one tracked message, or None."""
    t = tracked_messages.c
    query = sa.select(
        t.message,
        t.journey,
        t.version,
        t.step,
        t.variants,
        t.opens,
        t.clicks,
        t.first_opened_at,
        t.first_clicked_at,
    ).where(t.message == message)
    async with reading(engine).connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    return MessageEngagement(**{**dict(row), "variants": dict(row["variants"] or {})})


async def events_of(engine: AsyncEngine, message: str) -> list[tuple[str, int | None, datetime]]:
    """The opens and clicks kept for ``message``, oldest first: (kind, link, at)."""
    e = engagement.c
    query = sa.select(e.kind, e.link, e.at).where(e.message == message).order_by(e.id)
    async with reading(engine).connect() as conn:
        return [(kind, link, at) for kind, link, at in await conn.execute(query)]


async def step_counts(
    conn: AsyncConnection, journey: str, version: str | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """Messages opened and clicked per (step, detail): detail "" is the step's own count,
    ``variant:<split>=<variant>`` each variant's; e.g. ``{("welcome", ""): {"opened": 3, "clicked": 1}}``."""
    c = counters.read_query(journey, version)
    selected = c.subquery()
    query = sa.select(selected).where(selected.c.kind.in_((counters.OPENED, counters.CLICKED)))
    found: dict[tuple[str, str], dict[str, int]] = {}
    for step, kind, detail, n in await conn.execute(query):
        found.setdefault((step, detail), {counters.OPENED: 0, counters.CLICKED: 0})[kind] = int(n or 0)
    return found
