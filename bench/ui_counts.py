"""Latency of the journey page's counts request with 100,000 customers' step records in the store.

    .venv/bin/python -m bench.ui_counts [--customers 100000] [--requests 25] [--database-url URL [--reuse]]

Fills a fresh store (SQLite in a temporary folder unless ``--database-url`` names another) with the
step records, deliveries and points of ``--customers`` customers who went through onboarding the
way real ones do: at each wait some get the event and some time out, the split sends them to its
variants or the control group, and about a third are still waiting somewhere. A fifth of them
entered on an earlier version. Then it times ``GET /ui/journeys/onboarding/counts`` (the one request
the page repeats every few seconds) through the real app, in process, signed in, and the store
query alone. Goal: under 100 ms on this 2-core machine. Prints min, median and max; not a test.
Filling 100,000 customers takes about five minutes; ``--reuse`` measures a store an earlier run
filled (``--database-url sqlite+aiosqlite:///path.db``) without adding to it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from api.app import create_app
from config.settings import Settings
from contracts.records import StepRecord
from engine.loader import compile_file
from engine.plan import Plan, SplitNode, WaitForNode
from store import counters
from store.database import Store
from store.steps import insert_records
from store.tables import deliveries, points_ledger, step_events
from workflows.timing import pick_variant

ROOT = Path(__file__).resolve().parents[1]
ONBOARDING = ROOT / "journeys" / "onboarding.yaml"
KEY = "bench-key"
TARGET_MS = 100.0
BATCH = 2_000  # customers written per transaction
EVENT_CHANCE = 0.45  # a wait's event arrives before its timeout
STOP_CHANCE = 0.12  # a customer is still waiting at a given wait


def path_of(plan: Plan, customer: str, rng: random.Random) -> tuple[list[tuple[str, str | None]], str]:
    """The steps one customer took, each with where they went next (None: still there), and how
    the run stands: "waiting", "completed" or "control"."""
    taken: list[tuple[str, str | None]] = []
    current: str | None = plan.start
    while current is not None:
        node = plan.node(current)
        if isinstance(node, WaitForNode):
            if rng.random() < STOP_CHANCE:
                taken.append((current, None))
                return taken, "waiting"
            following = node.on_event if rng.random() < EVENT_CHANCE else node.on_timeout
        elif isinstance(node, SplitNode):
            index = pick_variant(plan.journey, node.id, customer, [v.weight for v in node.variants], 10)
            if index < 0:
                taken.append((current, f"left: control group of {node.id}"))
                return taken, "control"
            following = node.variants[index].next
        elif node.kind == "exit":
            taken.append((current, f"left: {node.reason}"))
            return taken, "completed"
        else:
            following = node.next
        taken.append((current, following or "end"))
        current = following
    return taken, "completed"


Row = tuple[str, dict[str, Any]]  # the table ("e" step_events, "d" deliveries, "p" points) and the row


def rows_for(plan: Plan, version: str, index: int, rng: random.Random) -> Iterator[Row]:
    customer = f"cust-{index:06d}"
    workflow = f"journey/{plan.journey}/{customer}"
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    base = {"journey": plan.journey, "version": version, "workflow_id": workflow, "customer_id": customer}

    def record(step: str | None, kind: str, detail: str) -> Row:
        return "e", {**base, "key": uuid.uuid4().hex, "step": step, "kind": kind, "detail": detail, "at": at}

    yield record(None, "journey_entered", "signed_up")
    taken, outcome = path_of(plan, customer, rng)
    for step, following in taken:
        node = plan.node(step)
        yield record(step, "entered", node.kind)
        if following is not None:
            yield record(step, "completed", following)
        if node.kind == "send_email" and following is not None:
            status = rng.choices(["sent", "skipped", "failed"], [95, 4, 1])[0]
            yield (
                "d",
                {
                    "key": f"{workflow}/e/{step}/1",
                    "channel": "email",
                    "customer_id": customer,
                    "journey": plan.journey,
                    "step": step,
                    "status": status,
                    "at": at,
                    "version": version,
                },
            )
        if node.kind == "award" and following is not None:
            yield (
                "p",
                {
                    "key": f"{workflow}/e/{step}/1",
                    "customer_id": customer,
                    "delta": node.points,
                    "reason": "bench",
                    "journey": plan.journey,
                    "step": step,
                    "balance_after": 0,
                    "lifetime_after": 0,
                    "created_at": at,
                    "version": version,  # not a ledger column: which counter the award adds to
                },
            )
    if any(step == "wait_purchase" and following == "first_purchase_bonus" for step, following in taken):
        yield record("wait_purchase", "converted", "purchase_completed")
    if outcome != "waiting":
        yield record(taken[-1][0], "journey_exited", f"{outcome}: bench")


async def fill(store: Store, plan: Plan, customers: int) -> int:
    """Write the customers' rows as the activities do: step records through ``insert_records``
    (which adds to the counters), deliveries and awards with their counters, in batches."""
    rng = random.Random(12)
    written = 0
    for start in range(0, customers, BATCH):
        batch: dict[str, list[dict[str, Any]]] = {"e": [], "d": [], "p": []}
        for index in range(start, min(start + BATCH, customers)):
            version = plan.version if index % 5 else "0ldversion00"  # a fifth on an earlier version
            for part, row in rows_for(plan, version, index, rng):
                batch[part].append(row)
        records = [
            StepRecord.model_validate({k: v for k, v in row.items() if k != "key"}) for row in batch["e"]
        ]
        sends = counters.tally((_counter(row, counters.SEND + row["status"]), 1) for row in batch["d"])
        points = counters.tally((_counter(row, counters.POINTS), row["delta"]) for row in batch["p"])
        async with store.engine.begin() as conn:
            await insert_records(conn, records)
            await conn.execute(sa.insert(deliveries), batch["d"])
            await conn.execute(sa.insert(points_ledger), [_ledger_row(row) for row in batch["p"]])
            await counters.add(conn, {**sends, **points})
        written += len(records)
    return written


def _counter(row: dict[str, Any], kind: str) -> counters.CounterKey:
    shard = counters.shard_of(row["key"].rsplit("/", 3)[0])
    return counters.CounterKey(row["journey"], row["version"], row["step"], kind, "", shard)


def _ledger_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "version"}


async def full_count(store: Store, version: str) -> None:
    """What the counts request did before the counters: group every step record of the version."""
    e = step_events.c
    query = (
        sa.select(e.step, e.kind, e.detail, sa.func.count())
        .where(e.journey == "onboarding", e.version == version)
        .group_by(e.step, e.kind, e.detail)
    )
    async with store.engine.connect() as conn:
        (await conn.execute(query)).all()


async def timed(probe: Any, requests: int) -> list[float]:
    await probe()  # warm: compiled statements, page cache
    found = []
    for _ in range(requests):
        started = time.perf_counter()
        await probe()
        found.append((time.perf_counter() - started) * 1000)
    return found


def report(label: str, millis: list[float]) -> None:
    median = statistics.median(millis)
    print(
        f"{label:<44} min {min(millis):7.1f} ms   median {median:7.1f} ms   max {max(millis):7.1f} ms"
        f"   target {TARGET_MS:.0f} ms   ratio {median / TARGET_MS:4.2f}"
    )


@asynccontextmanager
async def bench_store(database_url: str | None) -> AsyncIterator[tuple[Store, Plan, Settings]]:
    """A migrated store (a fresh SQLite file unless ``database_url`` names another) with onboarding
    deployed, the settings of an app on it, and its plan; closed after."""
    with tempfile.TemporaryDirectory(prefix="journeys-bench-") as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'journeys.db'}"
        settings = Settings(_env_file=None, data_dir=Path(folder), database_url=url, api_keys=[KEY])
        store = Store(settings.store_url())
        try:
            await store.migrate()
            plan = await asyncio.to_thread(compile_file, ONBOARDING)
            await store.deployments.deploy(plan, source=ONBOARDING.read_text("utf-8"))
            yield store, plan, settings
        finally:
            await store.close()


async def analyze(store: Store) -> None:
    """Fresh planner statistics after a fill (SQLite keeps none by itself)."""
    if store.dialect == "sqlite":
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))


@asynccontextmanager
async def signed_in(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in process, and a browser signed in to it with the bench's key."""
    app = create_app(settings, store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as browser:
        signed = await browser.post("/ui/sign-in", data={"key": KEY, "next": "/ui/journeys"})
        assert signed.status_code == 303, signed.text
        yield browser


async def main(customers: int, requests: int, database_url: str | None, reuse: bool) -> None:
    async with bench_store(database_url) as (store, plan, settings):
        if not reuse:
            started = time.perf_counter()
            await fill(store, plan, customers)
            print(f"filled {customers:,} customers in {time.perf_counter() - started:.0f} s")
            await analyze(store)
        async with store.engine.connect() as conn:
            total = await conn.scalar(sa.select(sa.func.count()).select_from(step_events))
        print(f"the store holds {total:,} step records")
        async with signed_in(settings, store) as browser:

            async def page_request() -> None:
                answer = await browser.get("/ui/journeys/onboarding/counts")
                assert answer.status_code == 200, answer.text

            async def store_query() -> None:
                await store.steps.counts("onboarding", plan.version)

            async def journeys_page() -> None:
                answer = await browser.get("/ui/journeys")
                assert answer.status_code == 200, answer.text

            report("GET /ui/journeys/onboarding/counts", await timed(page_request, requests))
            report("  of which the store query", await timed(store_query, requests))
            report("GET /ui/journeys (the journeys page)", await timed(journeys_page, requests))
            report(
                "  a full count of the rows (before counters)",
                await timed(lambda: full_count(store, plan.version), min(requests, 5)),
            )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--database-url", default=None, help="a store to fill instead of a fresh SQLite")
    parser.add_argument("--reuse", action="store_true", help="measure the store as it is, add nothing")
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url (a store filled by an earlier run)")
    asyncio.run(main(args.customers, args.requests, args.database_url, args.reuse))


if __name__ == "__main__":
    cli()
