"""The customer page's timeline: their step records, emails and webhooks, and points, merged by
time, newest first, at most ``LIMIT`` items (and how many older ones are not shown).

Things that happen at one moment read in the order they happened: a step's email and points
come right after the step was reached, before what the step led to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from api.ui.customer_reads import Stored, Totals
from api.ui.graph import KIND_LABELS
from store.deliveries import LoggedDelivery
from store.wallet_read import LedgerRow

LIMIT = 100

ItemKind = Literal["journey", "step", "email", "webhook", "points"]


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    at: datetime
    journey: str | None
    step: str | None
    title: str
    detail: str = ""
    status: str | None = None  # of a send: sent, skipped, failed…
    message_key: str | None = None  # an email whose message as sent can be opened


@dataclass(frozen=True)
class Timeline:
    items: list[Item]
    older: int  # items not shown (older than the last one shown)


def _step_item(stored: Stored) -> Item:
    r = stored.record
    if r.kind == "journey_entered":
        return Item(
            "journey", r.at, r.journey, None, f"Entered {r.journey}", f"on {r.detail} · version {r.version}"
        )
    if r.kind == "journey_exited":
        outcome, _, reason = r.detail.partition(": ")
        if outcome == "completed":
            return Item("journey", r.at, r.journey, r.step, f"Finished {r.journey}", "reached its end")
        words = {"goal": "the goal was reached", "control": f"in the {reason}"}.get(
            outcome, reason or r.detail
        )
        return Item("journey", r.at, r.journey, r.step, f"Left {r.journey}", words)
    if r.kind == "converted":
        return Item("journey", r.at, r.journey, r.step, f"Reached the goal of {r.journey}", r.detail)
    step = r.step or ""
    if r.kind == "entered":
        return Item("step", r.at, r.journey, step, f"Reached {step}", KIND_LABELS.get(r.detail, r.detail))
    if r.detail.startswith("left: "):
        return Item("step", r.at, r.journey, step, f"Left {step}", r.detail.removeprefix("left: "))
    destination = "the end of the journey" if r.detail == "end" else r.detail
    return Item("step", r.at, r.journey, step, f"Moved on from {step}", f"to {destination}")


def _delivery_item(sent: LoggedDelivery) -> Item:
    if sent.channel == "email":
        title = sent.subject or f"Email of {sent.step}"
        to = f"to {sent.recipient}" if sent.recipient else ""
    else:
        title, to = f"Webhook of {sent.step}", ""
    detail = " · ".join(part for part in (to, sent.reason or "") if part)
    kind: ItemKind = "email" if sent.channel == "email" else "webhook"
    key = sent.key if sent.has_message else None
    return Item(kind, sent.at, sent.journey, sent.step, title, detail, status=sent.status, message_key=key)


def _points_item(row: LedgerRow) -> Item:
    sign = "+" if row.delta >= 0 else "\u2212"  # a minus sign, as the ledger prints it
    title = f"{sign}{abs(row.delta):,} points"
    detail = f"{row.reason} · balance {row.balance_after:,}"
    return Item("points", row.created_at, row.journey, row.step, title, detail)


def timeline(
    records: Sequence[Stored],
    sent: Sequence[LoggedDelivery],
    booked: Sequence[LedgerRow],
    totals: Totals,
    *,
    limit: int = LIMIT,
) -> Timeline:
    """Merge the newest ``limit`` of each source (any order) into the newest ``limit`` of all."""
    ordered = sorted(records, key=lambda s: (s.record.at, s.id))
    # Where a send or an award goes among records of the same moment: after its step was reached.
    reached: dict[tuple[str, str, datetime], int] = {}
    for position, stored in enumerate(ordered):
        r = stored.record
        if r.kind == "entered" and r.step:
            reached[(r.journey, r.step, r.at)] = position
    after_all = len(ordered)

    def place(journey: str | None, step: str | None, at: datetime) -> float:
        position = reached.get((journey or "", step or "", at))
        return position + 0.5 if position is not None else after_all

    keyed: list[tuple[datetime, float, Item]] = [
        (s.record.at, float(position), _step_item(s)) for position, s in enumerate(ordered)
    ]
    keyed += [(d.at, place(d.journey, d.step, d.at), _delivery_item(d)) for d in sent]
    keyed += [(p.created_at, place(p.journey, p.step, p.created_at), _points_item(p)) for p in booked]
    keyed.sort(key=lambda k: (k[0], k[1]), reverse=True)
    items = [item for _, _, item in keyed[:limit]]
    total = totals.steps + totals.deliveries + totals.ledger
    return Timeline(items=items, older=max(total - len(items), 0))
