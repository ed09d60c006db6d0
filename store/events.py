"""Processed customer events: the record that makes event intake idempotent by ``event_id``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.customers import CustomerSnapshot
from store.behaviour import record_behaviour
from store.customer_history import record_history
from store.customers import load_snapshots, merge_traits
from store.inserts import insert_many_ignore_sync
from store.purchases import record_purchases
from store.sqlite_thread import SqliteThread, on_a_file
from store.tables import processed_events
from store.types import utcnow

ClaimState = Literal["new", "pending", "done", "reused"]


@dataclass(frozen=True)
class Claim:
    """An event arriving: its id to claim and, should this claim own it, what to write and read with it."""

    event_id: str
    customer_id: str
    name: str
    at: datetime | None = None
    traits: Mapping[str, Any] | None = None  # merged into the customer when the claim is new
    customer: bool = False  # answer the customer's snapshot when the claim is new
    properties: Mapping[str, Any] | None = None  # for the history (a purchase's) and behaviour


@dataclass(frozen=True)
class Claimed:
    state: ClaimState
    customer: CustomerSnapshot | None = None  # when asked for and the claim is new


class ProcessedEventRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # The intake, the hottest write, runs whole in a thread on a SQLite file (one hand-off).
        self._thread = SqliteThread(engine.url) if on_a_file(engine.url) else None

    async def close(self) -> None:
        if self._thread is not None:
            await self._thread.close()

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
        - ``done``: it was delivered before (a duplicate);
        - ``reused``: the id was claimed before for another event (another customer's, or another
          name): a sender's bug, never a duplicate; nothing is claimed.

        A pending claim older than ``stale_after`` was abandoned (its process died): it is taken over.
        ``complete_first`` are event ids to mark done in the same transaction, before the claims.
        """
        async with self._engine.begin() as conn:
            await conn.run_sync(_settle, complete_first, ())
            return await conn.run_sync(_claim_ids, events, stale_after)

    async def intake(
        self,
        claims: Sequence[Claim],
        *,
        stale_after: timedelta,
        complete_first: Sequence[str] = (),
        release_first: Sequence[str] = (),
    ) -> list[Claimed]:
        """Claim each of ``claims`` as ``claim`` does and, for those claimed ``new``, merge their
        traits into their customers (in order) and read the snapshots asked for: one transaction,
        committed before this returns. An event id given twice is ``new`` at most once (its first
        claim), ``pending`` after. ``release_first`` (claims whose delivery failed) are deleted and
        ``complete_first`` marked done before the claims, in the same transaction."""
        if self._thread is not None:
            return await self._thread.transaction(_intake, claims, stale_after, complete_first, release_first)
        async with self._engine.begin() as conn:
            return await conn.run_sync(_intake, claims, stale_after, complete_first, release_first)

    async def release(self, event_id: str) -> None:
        """Undo a claim whose delivery failed, so the sender's retry runs it."""
        async with self._engine.begin() as conn:
            await conn.run_sync(_settle, (), (event_id,))


def _intake(
    conn: sa.Connection,
    claims: Sequence[Claim],
    stale_after: timedelta,
    complete_first: Sequence[str],
    release_first: Sequence[str],
) -> list[Claimed]:
    _settle(conn, complete_first, release_first)
    if not claims:
        return []
    states = _claim_ids(conn, [(c.event_id, c.customer_id, c.name, c.at) for c in claims], stale_after)
    answers: list[ClaimState] = []
    first: dict[str, Claim] = {}
    for claim in claims:
        state = states[claim.event_id]
        earlier = first.setdefault(claim.event_id, claim)
        if earlier is not claim:  # a repeat among these claims
            if (earlier.customer_id, earlier.name) != (claim.customer_id, claim.name):
                state = "reused"
            elif state == "new":
                state = "pending"  # the first one is delivering it
        answers.append(state)
    taken = [claim for claim, state in zip(claims, answers, strict=True) if state == "new"]
    now = utcnow()  # the API's now: the intake runs in the API
    merge_traits(conn, [(c.customer_id, c.traits) for c in taken if c.traits], now)
    record_history(conn, [(c.event_id, c.customer_id, c.name, c.at, c.properties) for c in taken], now)
    record_purchases(conn, [(c.event_id, c.customer_id, c.name, c.at, c.properties) for c in taken], now)
    record_behaviour(conn, [(c.event_id, c.customer_id, c.name, c.at, c.properties) for c in taken], now)
    snapshots = load_snapshots(conn, [c.customer_id for c in taken if c.customer], at=now)
    return [
        Claimed(state, snapshots.get(claim.customer_id) if state == "new" and claim.customer else None)
        for claim, state in zip(claims, answers, strict=True)
    ]


# Built once, their values as parameters: building a statement cost more than running it.
_IDS: sa.BindParameter[str] = sa.bindparam("event_ids", expanding=True)
_RELEASE = processed_events.delete().where(processed_events.c.event_id.in_(_IDS))
_COMPLETE = processed_events.update().where(processed_events.c.event_id.in_(_IDS)).values(done=True)
_TAKE_OVER = (
    processed_events.update()
    .where(
        processed_events.c.event_id.in_(_IDS),
        processed_events.c.done.is_(False),
        processed_events.c.claimed_at < sa.bindparam("stale_before"),
    )
    .values(claimed_at=sa.bindparam("now"))
    .returning(processed_events.c.event_id)
)
_STATES = sa.select(
    processed_events.c.event_id,
    processed_events.c.done,
    processed_events.c.customer_id,
    processed_events.c.name,
).where(processed_events.c.event_id.in_(_IDS))


def _settle(conn: sa.Connection, completed: Sequence[str], released: Sequence[str]) -> None:
    """Delete the claims ``released`` (their delivery failed) and mark ``completed`` done."""
    if released:
        conn.execute(_RELEASE, {"event_ids": list(released)})
    if completed:
        conn.execute(_COMPLETE, {"event_ids": list(completed)})


def _claim_ids(
    conn: sa.Connection, events: Sequence[tuple[str, str, str, datetime | None]], stale_after: timedelta
) -> dict[str, ClaimState]:
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
    if not rows:
        return states
    table = processed_events.c
    inserted = insert_many_ignore_sync(conn, processed_events, list(rows.values()), table.event_id)
    states.update(dict.fromkeys(inserted, "new"))
    others = [event_id for event_id in rows if event_id not in inserted]
    if not others:
        return states
    pending: list[str] = []
    for event_id, done, customer_id, name in conn.execute(_STATES, {"event_ids": others}):
        row = rows[event_id]
        if (customer_id, name) != (row["customer_id"], row["name"]):
            states[event_id] = "reused"
        elif done:
            states[event_id] = "done"
        else:
            pending.append(event_id)
    if pending:
        taken = conn.execute(
            _TAKE_OVER, {"event_ids": pending, "stale_before": now - stale_after, "now": now}
        )
        states.update(dict.fromkeys(taken.scalars(), "new"))
    # Pending: being delivered (or released since this insert: the sender's retry claims it then).
    for event_id in others:
        states.setdefault(event_id, "pending")
    return states
