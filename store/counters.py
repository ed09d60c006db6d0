"""Counters kept on write: what the live counts read instead of grouping every step record.

Each write that adds step records, a delivery or an award adds to ``step_counters`` in the same
transaction, only for the rows it really inserted (a retried write adds nothing), so the counters
always equal what a full count of the rows would give. A journey page's counts request then reads
a few hundred counter rows for its journey and version, however many customers went through.

One counter is (journey, version, step, kind, detail, shard):

- ``kind`` is a step record's kind (``entered``, ``completed``, ``converted``, ``journey_entered``,
  ``journey_exited``), ``send:<status>`` for a logged delivery, ``points`` (their sum) for an award,
  or ``opened`` / ``clicked`` for a tracked email's first open and click (``store.engagement``);
- ``detail`` is where a completed step went (``next`` step, ``end``, ``left: …``), the UTC hour of a
  journey entry (``2026-12-01T18``, so "entered in the last 7 days" is a sum of hours), a split
  variant of an opened/clicked count (``variant:<split>=<variant>``, beside the step's blank one), else blank;
- ``shard`` spreads one counter over a few rows by run, so concurrent runs on PostgreSQL do not
  all wait for the same row lock; reading sums the shards.

Rows are upserted in key order, so two transactions never take the same row locks in opposite order.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from store.inserts import dialect_insert
from store.tables import step_counters

SHARDS = 8
POINTS = "points"
SEND = "send:"
OPENED, CLICKED = "opened", "clicked"  # messages first opened or clicked (store.engagement)
DETAIL_LENGTH = 1000
KEY_COLUMNS = ("journey", "version", "step", "kind", "detail", "shard")


@dataclass(frozen=True, order=True)
class CounterKey:
    journey: str
    version: str
    step: str
    kind: str
    detail: str
    shard: int


def shard_of(workflow_id: str) -> int:
    return zlib.crc32(workflow_id.encode("utf-8")) % SHARDS


def hour_of(at: datetime) -> str:
    """The bucket of a journey entry: its UTC hour, sortable as text."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def record_key(row: Mapping[str, Any]) -> CounterKey:
    """The counter a step record adds to (the row as stored: journey, version, workflow_id, step,
    kind, detail, at)."""
    kind = str(row["kind"])
    if kind == "completed":
        detail = str(row["detail"])[:DETAIL_LENGTH]
    elif kind == "journey_entered":
        detail = hour_of(row["at"])
    else:
        detail = ""
    return CounterKey(
        journey=row["journey"],
        version=row["version"],
        step=row["step"] or "",
        kind=kind,
        detail=detail,
        shard=shard_of(row["workflow_id"]),
    )


def tally(keys: Iterable[tuple[CounterKey, int]]) -> dict[CounterKey, int]:
    totals: dict[CounterKey, int] = {}
    for key, n in keys:
        totals[key] = totals.get(key, 0) + n
    return totals


async def add(conn: AsyncConnection, increments: Mapping[CounterKey, int]) -> None:
    """Add ``increments`` to their counters inside the caller's transaction."""
    await conn.run_sync(add_sync, increments)


def add_sync(conn: sa.Connection, increments: Mapping[CounterKey, int]) -> None:
    """``add`` for a synchronous connection (``run_sync``, ``store.sqlite_thread``)."""
    rows = [
        {
            "journey": key.journey,
            "version": key.version,
            "step": key.step,
            "kind": key.kind,
            "detail": key.detail,
            "shard": key.shard,
            "n": n,
        }
        for key, n in sorted(increments.items())
        if n
    ]
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        conn.execute(_upsert(dialect), rows)
        return
    c = step_counters.c
    for row in rows:  # another database: update, else insert
        where = [c[name] == row[name] for name in KEY_COLUMNS]
        updated = conn.execute(step_counters.update().where(*where).values(n=c.n + row["n"]))
        if updated.rowcount == 0:
            conn.execute(step_counters.insert().values(**row))


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    statement = dialect_insert(dialect)(step_counters)
    return statement.on_conflict_do_update(
        index_elements=[step_counters.c[name] for name in KEY_COLUMNS],
        set_={"n": step_counters.c.n + statement.excluded.n},
    )


def read_query(journey: str, version: str | None) -> sa.Select[Any]:
    """The counters of ``journey`` (one version, or all), shards summed: (step, kind, detail, n)."""
    c = step_counters.c
    query = sa.select(c.step, c.kind, c.detail, sa.func.sum(c.n)).where(c.journey == journey)
    if version is not None:
        query = query.where(c.version == version)
    return query.group_by(c.step, c.kind, c.detail)
