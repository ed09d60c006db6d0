"""Latency of the customer page with 100,000 customers' records in the store.

    .venv/bin/python -m bench.ui_customer [--customers 100000] [--requests 25] [--heavy 10000]
        [--database-url URL [--reuse]] [--plans]

Fills a fresh store (SQLite in a temporary folder unless ``--database-url`` names another) as
``bench.ui_counts`` does (its ``fill``: the step records, deliveries and points of customers who went
through onboarding), then adds every customer's row (email in mixed case, name, traits) and points
balance, and one customer with ``--heavy`` step records (an entry every minute for days), 500 emails
and 500 ledger entries. Then it times, through the real app, in process, signed in:
``GET /ui/customers/{id}`` for the customer in the middle and for the heavy one, the find request by
email (answered with a redirect), and the page's store reads alone (``customer_view``). Prints
min, median and max; no assertions, no target. ``--plans`` prints SQLite's plan of every statement
the page runs, to check each reads through an index.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from api.ui.customer_reads import by_email
from api.ui.customer_view import customer_view
from bench.ui_counts import analyze, bench_store, fill, signed_in, timed
from config.settings import Settings
from engine.plan import Plan
from store.database import Store
from store.tables import customers, deliveries, points_balances, points_ledger, step_events

HEAVY = "cust-heavy"
BATCH = 5_000


def customer_id(index: int) -> str:
    return f"cust-{index:06d}"  # as bench.ui_counts names them


async def add_customers(store: Store, count: int) -> None:
    """A row and a balance for each customer ``fill`` wrote records for, and for the heavy one."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [customer_id(index) for index in range(count)] + [HEAVY]
    async with store.engine.connect() as conn:
        sums = dict(
            (
                await conn.execute(
                    sa.select(points_ledger.c.customer_id, sa.func.sum(points_ledger.c.delta)).group_by(
                        points_ledger.c.customer_id
                    )
                )
            ).all()
        )
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = [
            {
                "id": cid,
                "email": f"{cid.title()}@Example.com",
                "first_name": f"First {cid[-6:]}",
                "last_name": "Bench",
                "stage": "acquisition",
                "traits": {"plan": "pro" if n % 3 else "free", "city": "Jakarta", "signup_source": "ads"},
                "badges": ["newcomer"],
                "tier": "bronze",
                "created_at": at,
                "updated_at": at,
            }
            for n, cid in enumerate(chunk)
        ]
        balances = [
            {"customer_id": cid, "balance": int(sums.get(cid, 0)), "lifetime": int(sums.get(cid, 0))}
            for cid in chunk
        ]
        async with store.engine.begin() as conn:
            await conn.execute(sa.insert(customers), rows)
            await conn.execute(sa.insert(points_balances), balances)


async def add_heavy(store: Store, plan: Plan, records: int) -> None:
    """``records`` step records of ``HEAVY`` (five an entry), 500 emails kept as sent, 500 awards."""
    start = datetime(2026, 2, 1, tzinfo=UTC)
    workflow = f"journey/{plan.journey}/{HEAVY}"
    base = {"journey": plan.journey, "version": plan.version, "workflow_id": workflow, "customer_id": HEAVY}
    parts = [
        (None, "journey_entered", "signed_up"),
        ("joined", "entered", "set_stage"),
        ("joined", "completed", "welcome"),
        ("welcome", "entered", "send_email"),
        ("welcome", "journey_exited", "exited: bench"),
    ]
    rows = []
    for n in range(records):
        step, kind, detail = parts[n % len(parts)]
        at = start + timedelta(minutes=n // len(parts))
        rows.append({**base, "key": f"heavy-{n}", "step": step, "kind": kind, "detail": detail, "at": at})
    sends = [
        {
            "key": f"{workflow}/entry-{n}/welcome/1",
            "channel": "email",
            "customer_id": HEAVY,
            "journey": plan.journey,
            "version": plan.version,
            "step": "welcome",
            "status": "sent",
            "recipient": "cust-heavy@example.com",
            "subject": "Welcome aboard!",
            "html": "<p>Welcome aboard!</p>" * 20,
            "text": "Welcome aboard!\n" * 20,
            "at": start + timedelta(minutes=n),
        }
        for n in range(500)
    ]
    ledger = [
        {
            "key": f"{workflow}/entry-{n}/signup_bonus/1",
            "customer_id": HEAVY,
            "delta": 10,
            "reason": "Bench bonus",
            "journey": plan.journey,
            "step": "signup_bonus",
            "balance_after": 10 * (n + 1),
            "lifetime_after": 10 * (n + 1),
            "created_at": start + timedelta(minutes=n),
        }
        for n in range(500)
    ]
    async with store.engine.begin() as conn:
        for chunk in range(0, len(rows), BATCH):
            await conn.execute(sa.insert(step_events), rows[chunk : chunk + BATCH])
        await conn.execute(sa.insert(deliveries), sends)
        await conn.execute(sa.insert(points_ledger), ledger)


def report(label: str, millis: list[float]) -> None:
    median = statistics.median(millis)
    print(f"{label:<52} min {min(millis):7.1f} ms   median {median:7.1f} ms   max {max(millis):7.1f} ms")


async def plans(store: Store, settings: Settings, who: str) -> None:
    """SQLite's plan of every statement one customer page runs, and of the find by email."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    customer = await store.customers.get(who)
    assert customer is not None
    sa.event.listen(store.engine.sync_engine, "before_cursor_execute", capture)
    try:
        await customer_view(store, settings, customer, ledger_before=None)
        await by_email(store, f"{who.upper()}@example.com", limit=51)
    finally:
        sa.event.remove(store.engine.sync_engine, "before_cursor_execute", capture)
    async with store.engine.connect() as conn:
        for statement, parameters in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            print(" ".join(statement.split())[:150])
            found = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            for row in found:
                print(f"    {row[-1]}")


async def main(
    count: int, requests: int, heavy: int, database_url: str | None, reuse: bool, show_plans: bool
) -> None:
    async with bench_store(database_url) as (store, plan, settings):
        if not reuse:
            started = time.perf_counter()
            await fill(store, plan, count)
            await add_customers(store, count)
            await add_heavy(store, plan, heavy)
            took = time.perf_counter() - started
            print(f"filled {count:,} customers and one with {heavy:,} records in {took:.0f} s")
            await analyze(store)
        async with store.engine.connect() as conn:
            total = await conn.scalar(sa.select(sa.func.count()).select_from(step_events))
            people = await conn.scalar(sa.select(sa.func.count()).select_from(customers))
        print(f"the store holds {people:,} customers and {total:,} step records")
        middle = customer_id(count // 2)
        if show_plans and store.dialect == "sqlite":
            await plans(store, settings, middle)
        async with signed_in(settings, store) as browser:

            def page(who: str) -> Any:
                async def request() -> None:
                    answer = await browser.get(f"/ui/customers/{who}")
                    assert answer.status_code == 200, answer.text

                return request

            async def find() -> None:
                answer = await browser.get("/ui/customers", params={"q": f"{middle.upper()}@example.com"})
                assert answer.status_code == 303, answer.text

            def reads(who: str) -> Any:
                async def view() -> None:
                    customer = await store.customers.get(who)
                    assert customer is not None
                    await customer_view(store, settings, customer, ledger_before=None)

                return view

            report(f"GET /ui/customers/{middle}", await timed(page(middle), requests))
            report("  of which the store reads (customer_view)", await timed(reads(middle), requests))
            report(f"GET /ui/customers/{HEAVY} ({heavy:,} records)", await timed(page(HEAVY), requests))
            report("  of which the store reads (customer_view)", await timed(reads(HEAVY), requests))
            report("GET /ui/customers?q=<email> (find, redirect)", await timed(find, requests))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--heavy", type=int, default=10_000, help="step records of the heavy customer")
    parser.add_argument("--database-url", default=None, help="a store to fill instead of a fresh SQLite")
    parser.add_argument("--reuse", action="store_true", help="measure the store as it is, add nothing")
    parser.add_argument("--plans", action="store_true", help="print the plan of each statement (SQLite)")
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url (a store filled by an earlier run)")
    asyncio.run(main(args.customers, args.requests, args.heavy, args.database_url, args.reuse, args.plans))


if __name__ == "__main__":
    cli()
