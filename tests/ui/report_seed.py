"""A store with a known story for the reports page: customers signing up over two weeks of March 2026
from four sources, moving through lifecycle stages, and buying, written through the store as the
intake and the journeys write it; and the numbers the page must show, worked out here from the story
itself (not read back from the product)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from store import Store
from store.customers import ensure_customer
from store.events import Claim

FIRST = date(2026, 3, 1)
SOURCES = ("ads", "newsletter", "referral", None)
NO_SOURCE = "(no source)"


@dataclass(frozen=True)
class Seeded:
    customer_id: str
    created: date
    source: str | None
    stages: list[tuple[date, str]] = field(default_factory=list)  # in order, each a change
    purchases: list[tuple[date, int]] = field(default_factory=list)  # day, cents


def story(customers: int = 40) -> list[Seeded]:
    found = []
    for n in range(customers):
        created = FIRST + timedelta(days=n % 14)
        stages: list[tuple[date, str]] = []
        purchases: list[tuple[date, int]] = []
        if n % 3:
            stages.append((created + timedelta(days=1), "acquisition"))
        if n % 3 and n % 5 in (1, 3):
            stages.append((created + timedelta(days=3), "conversion"))
            purchases.append((created + timedelta(days=3), 1_000 + 125 * n))
            if n % 10 == 1:
                stages.append((created + timedelta(days=6), "retention"))
                purchases.append((created + timedelta(days=6), 2_450))
        elif n % 3 and n % 7 == 2:
            stages.append((created + timedelta(days=5), "at_risk"))
        found.append(Seeded(f"c{n:02d}", created, SOURCES[n % len(SOURCES)], stages, purchases))
    return found


def _noon(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def write(store: Store, customers: list[Seeded]) -> None:
    async with store.engine.begin() as conn:
        for c in customers:
            await ensure_customer(conn, c.customer_id, _noon(c.created, 8))
    claims = []
    for c in customers:
        if c.source is not None:
            claims.append(
                Claim(
                    f"s-{c.customer_id}",
                    c.customer_id,
                    "signed_up",
                    _noon(c.created, 8),
                    {"utm_source": c.source},
                )
            )
        for k, (day, cents) in enumerate(c.purchases):
            props = {"revenue": cents / 100}
            claims.append(
                Claim(
                    f"p-{c.customer_id}-{k}",
                    c.customer_id,
                    "purchase_completed",
                    _noon(day),
                    properties=props,
                )
            )
    await store.events.intake(claims, stale_after=timedelta(minutes=2))
    for c in customers:
        for day, stage in c.stages:
            await store.customers.set_stage(c.customer_id, stage, at=_noon(day))


def stage_on(c: Seeded, day: date) -> str | None:
    """The customer's stage at the end of ``day`` (None: not yet a customer)."""
    if c.created > day:
        return None
    stage = "reach"
    for at, to in c.stages:
        if at <= day:
            stage = to
    return stage


def stages_on(customers: list[Seeded], day: date) -> dict[str, int]:
    return dict(Counter(s for c in customers if (s := stage_on(c, day)) is not None))


def transitions(customers: list[Seeded], first: date, last: date) -> dict[tuple[str, str], int]:
    found: Counter[tuple[str, str]] = Counter()
    for c in customers:
        before = "reach"
        for at, to in c.stages:
            if first <= at <= last:
                found[(before, to)] += 1
            before = to
    return dict(found)


def signups(customers: list[Seeded], first: date, last: date) -> dict[str, tuple[int, int]]:
    """Per source: sign-ups in the range, and those of them with a purchase."""
    found: dict[str, tuple[int, int]] = {}
    for c in customers:
        if first <= c.created <= last:
            name = c.source or NO_SOURCE
            signed, bought = found.get(name, (0, 0))
            found[name] = (signed + 1, bought + bool(c.purchases))
    return found


def average_value(customers: list[Seeded], source: str | None = "all") -> str:
    """The average lifetime value per customer (of a source), as the page prints it."""
    chosen = [c for c in customers if source == "all" or c.source == source]
    cents = sum(amount for c in chosen for _, amount in c.purchases)
    return f"{round(cents / len(chosen) / 100, 2):,.2f}"
