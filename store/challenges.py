"""Challenges: N qualifying events within a window of the first, rewarded once per round.

A round (``challenge_progress``, numbered from 1) starts at the first qualifying event (``ends_at =
first + within``) and counts each qualifying event once (an event counted is remembered in
``loyalty_events`` under ``challenge/<id>/<digest of the event id>``, so a repeat adds nothing even
outside the loyalty activity's own check). At ``count`` the round completes: its reward (points and
badge, key ``challenge/{customer}/{challenge}/{round}``) and ``challenge_completed`` {challenge,
round}. A round whose window passes first is over: an event at or after ``ends_at`` starts the next
round; ``settle`` asks to run again at the earliest open round's ``ends_at`` (it has nothing to write:
a round's state follows from its times). After completion a new round starts only when the challenge
is ``repeatable``.

The round's row is locked while an event counts, so two events at once count twice and complete once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.events import CustomerEvent
from engine import expressions
from engine.durations import parse_duration
from engine.loyalty.program import Program
from engine.loyalty.schema import Challenge
from store.inserts import insert_ignore
from store.loyalty_grants import condition_context, emitted, grant
from store.loyalty_outcome import Outcome, earliest
from store.loyalty_tables import challenge_progress, loyalty_events

Status = Literal["open", "completed", "lapsed"]


def _counted_key(challenge_id: str, event_id: str) -> str:
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"challenge/{challenge_id}/{digest}"


async def _latest(conn: AsyncConnection, customer_id: str, challenge_id: str) -> sa.Row[Any] | None:
    return (
        await conn.execute(
            sa.select(challenge_progress)
            .where(
                challenge_progress.c.customer_id == customer_id,
                challenge_progress.c.challenge_id == challenge_id,
            )
            .order_by(challenge_progress.c.round.desc())
            .limit(1)
            .with_for_update()
        )
    ).first()


async def _count(
    conn: AsyncConnection,
    program: Program,
    challenge: Challenge,
    customer_id: str,
    event: CustomerEvent,
    at: datetime,
) -> Outcome:
    table = challenge_progress.c
    for _ in range(3):  # a concurrent event may open the same round first: read it again
        latest = await _latest(conn, customer_id, challenge.id)
        if latest is not None and latest.completed_at is None and at < latest.ends_at:
            break
        if latest is not None and latest.completed_at is not None and not challenge.repeatable:
            return Outcome()
        number = 1 if latest is None else int(latest.round) + 1
        opened = {
            "customer_id": customer_id,
            "challenge_id": challenge.id,
            "round": number,
            "count": 0,
            "started_at": at,
            "ends_at": at + timedelta(seconds=parse_duration(challenge.within)),
        }
        await insert_ignore(conn, challenge_progress, opened)
    else:  # pragma: no cover - three rounds opened under us at once
        return Outcome()
    if not await insert_ignore(
        conn,
        loyalty_events,
        {
            "event_id": _counted_key(challenge.id, event.event_id),
            "customer_id": customer_id,
            "applied_at": at,
        },
    ):
        return Outcome(next_due=latest.ends_at)
    count = int(latest._mapping["count"]) + 1
    where = (
        table.customer_id == customer_id,
        table.challenge_id == challenge.id,
        table.round == latest.round,
    )
    if count < challenge.count:
        await conn.execute(challenge_progress.update().where(*where).values(count=count))
        return Outcome(next_due=latest.ends_at)
    await conn.execute(challenge_progress.update().where(*where).values(count=count, completed_at=at))
    round_number = int(latest.round)
    earned = await grant(
        conn,
        program,
        customer_id,
        key=f"challenge/{customer_id}/{challenge.id}/{round_number}",
        points=challenge.reward.points,
        badge=challenge.reward.badge,
        reason=challenge.name or challenge.id,
        rule=f"challenge_{challenge.id}"[:100],
        at=at,
    )
    completed = emitted(
        "challenge_completed",
        customer_id,
        {"challenge": challenge.id, "round": round_number},
        at,
        customer_id,
        challenge.id,
        str(round_number),
    )
    return Outcome(events=[completed] if earned is None else [completed, earned])


async def on_event(
    conn: AsyncConnection, program: Program, customer_id: str, event: CustomerEvent, at: datetime
) -> Outcome:
    """Count ``event`` in every challenge it qualifies for."""
    outcome = Outcome()
    context: dict[str, Any] | None = None
    for challenge in program.source.challenges:
        if challenge.event != event.name:
            continue
        if challenge.where:
            context = context or await condition_context(conn, customer_id, event)
            if not expressions.evaluate(challenge.where, context):
                continue
        outcome.add(await _count(conn, program, challenge, customer_id, event, at))
    return outcome


async def settle(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> Outcome:
    """Rounds whose window passed are over (nothing to write); next due: the earliest open window's end."""
    ids = [challenge.id for challenge in program.source.challenges]
    if not ids:
        return Outcome()
    ends = await conn.scalar(
        sa.select(sa.func.min(challenge_progress.c.ends_at)).where(
            challenge_progress.c.customer_id == customer_id,
            challenge_progress.c.challenge_id.in_(ids),
            challenge_progress.c.completed_at.is_(None),
            challenge_progress.c.ends_at > at,
        )
    )
    return Outcome(next_due=earliest(ends))


# Reading (the API).


@dataclass(frozen=True)
class Progress:
    challenge: str
    name: str
    count: int  # qualifying events so far in the current round
    needed: int
    round: int | None  # None: not started
    status: Status | None
    started_at: datetime | None
    ends_at: datetime | None
    completed_at: datetime | None
    completions: int  # rounds completed
    repeatable: bool


async def progress(conn: AsyncConnection, program: Program, customer_id: str, at: datetime) -> list[Progress]:
    """Every challenge of the program with the customer's latest round, as of ``at``."""
    rows = (
        await conn.execute(
            sa.select(challenge_progress)
            .where(challenge_progress.c.customer_id == customer_id)
            .order_by(challenge_progress.c.challenge_id, challenge_progress.c.round)
        )
    ).all()
    found: list[Progress] = []
    for challenge in program.source.challenges:
        mine = [row for row in rows if row.challenge_id == challenge.id]
        latest = mine[-1] if mine else None
        status: Status | None = None
        if latest is not None:
            status = "completed" if latest.completed_at else ("lapsed" if at >= latest.ends_at else "open")
        found.append(
            Progress(
                challenge=challenge.id,
                name=challenge.name or challenge.id,
                count=0 if latest is None else int(latest._mapping["count"]),
                needed=challenge.count,
                round=None if latest is None else int(latest.round),
                status=status,
                started_at=None if latest is None else latest.started_at,
                ends_at=None if latest is None else latest.ends_at,
                completed_at=None if latest is None else latest.completed_at,
                completions=sum(1 for row in mine if row.completed_at is not None),
                repeatable=challenge.repeatable,
            )
        )
    return found
