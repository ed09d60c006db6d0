"""What the store recorded for simulated customers: deliveries, the points ledger, stages, run ends."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from store import Store
from store.tables import customers, deliveries, points_ledger, step_events

CHUNK = 500


@dataclass(frozen=True)
class Delivery:
    customer_id: str
    journey: str
    step: str
    channel: str
    status: str
    reason: str | None
    recipient: str | None
    subject: str | None
    message_id: str | None
    at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    customer_id: str
    journey: str | None
    step: str | None
    delta: int
    reason: str
    balance_after: int
    tier_before: str | None
    tier_after: str | None
    badge: str | None
    at: datetime


@dataclass(frozen=True)
class RunEnd:
    workflow_id: str
    detail: str
    at: datetime


@dataclass
class CustomerRecords:
    stage: str | None = None
    tier: str | None = None
    badges: tuple[str, ...] = ()
    deliveries: list[Delivery] | None = None
    ledger: list[LedgerEntry] | None = None
    ends: list[RunEnd] | None = None

    @property
    def points(self) -> int:
        return self.ledger[-1].balance_after if self.ledger else 0


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def load_records(store: Store, customer_ids: Sequence[str]) -> dict[str, CustomerRecords]:
    """Everything recorded for ``customer_ids``, oldest first, keyed by customer id."""
    found: dict[str, CustomerRecords] = {cid: CustomerRecords() for cid in customer_ids}
    sent: dict[str, list[Delivery]] = defaultdict(list)
    ledger: dict[str, list[LedgerEntry]] = defaultdict(list)
    ends: dict[str, list[RunEnd]] = defaultdict(list)
    async with store.engine.connect() as conn:
        for start in range(0, len(customer_ids), CHUNK):
            ids = list(customer_ids[start : start + CHUNK])
            rows = await conn.execute(sa.select(customers).where(customers.c.id.in_(ids)))
            for row in rows.mappings():
                record = found[row["id"]]
                record.stage, record.tier, record.badges = row["stage"], row["tier"], tuple(row["badges"])
            rows = await conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.customer_id.in_(ids))
                .order_by(deliveries.c.at, deliveries.c.id)
            )
            for row in rows.mappings():
                sent[row["customer_id"]].append(
                    Delivery(
                        **{k: row[k] for k in ("customer_id", "journey", "step", "channel", "status")},
                        **{k: row[k] for k in ("reason", "recipient", "subject", "message_id")},
                        at=_utc(row["at"]),
                    )
                )
            rows = await conn.execute(
                sa.select(points_ledger)
                .where(points_ledger.c.customer_id.in_(ids))
                .order_by(points_ledger.c.created_at, points_ledger.c.id)
            )
            for row in rows.mappings():
                ledger[row["customer_id"]].append(
                    LedgerEntry(
                        **{k: row[k] for k in ("customer_id", "journey", "step", "delta", "reason")},
                        **{k: row[k] for k in ("balance_after", "tier_before", "tier_after", "badge")},
                        at=_utc(row["created_at"]),
                    )
                )
            rows = await conn.execute(
                sa.select(step_events)
                .where(step_events.c.customer_id.in_(ids), step_events.c.kind == "journey_exited")
                .order_by(step_events.c.at, step_events.c.id)
            )
            for row in rows.mappings():
                ends[row["customer_id"]].append(RunEnd(row["workflow_id"], row["detail"], _utc(row["at"])))
    for cid, record in found.items():
        record.deliveries, record.ledger, record.ends = sent[cid], ledger[cid], ends[cid]
    return found
