"""What segments cost: evaluation per event on the intake path, and a sweep over 100,000 customers.

    .venv/bin/python -m bench.segments [--rounds 5] [--events 1000] [--customers 100000]

Per event: one side takes events through the store's intake one at a time (what the router's claim
writes, behaviour aggregates included); the other does the same and then evaluates the customer's
segments (journeys/segments) as the router's hook does (read snapshot, aggregates and memberships,
write changes). Each side runs in a process of its own on a fresh SQLite file, the sides alternate
round by round; printed: ms per event per side and the ratio evaluate / intake, min / median / max.
No Temporal here: the segment events a change emits are counted, not routed.

Sweep: 100,000 customers with a purchase spread over the last 60 days, then the first sweep (every
customer with the event) and an hourly sweep (only those whose recency crossed a threshold in the
hour), in pages of 500 as the workflow's activity runs them, without the pauses between pages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.machine import describe

ROOT = Path(__file__).resolve().parents[1]


async def _per_event(side: str, events: int, workdir: Path) -> float:
    from engine.segments.loader import load_segments
    from store.database import Store
    from store.events import Claim
    from store.segments import SegmentMembership

    store = Store(f"sqlite+aiosqlite:///{workdir / 'bench.db'}")
    await store.migrate()
    segments = load_segments(ROOT / "journeys")
    membership = SegmentMembership(store.engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(events):
        customer = f"c{n % 200}"
        name = "purchase_completed" if n % 3 == 0 else "product_viewed"
        claim = Claim(
            f"e{n}",
            customer,
            name,
            now,
            traits={"plan": "pro"},
            properties={"total": 10, "category": "shoes"},
        )
        await store.events.intake([claim], stale_after=timedelta(minutes=2), complete_first=[])
        if side == "evaluate":
            await membership.announced(await membership.evaluate(segments, [customer], now))
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed * 1000 / events


async def _sweep(customers: int, workdir: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from engine.segments.loader import load_segments
    from store.behaviour import customer_behaviour
    from store.customers import merge_traits
    from store.database import Store
    from store.segments import SegmentMembership

    store = Store(f"sqlite+aiosqlite:///{workdir / 'sweep.db'}")
    await store.migrate()
    now = datetime.now(UTC)
    for start in range(0, customers, 5000):
        ids = [f"c{n:07d}" for n in range(start, min(start + 5000, customers))]
        rows = []
        for n, cid in enumerate(ids, start):
            at = now - timedelta(minutes=(n * 7919) % (60 * 24 * 60))
            day = at.date().isoformat()
            rows.append(
                {
                    "customer_id": cid,
                    "event": "purchase_completed",
                    "count": 1,
                    "total": 10.0,
                    "first_at": at,
                    "last_at": at,
                    "days": {day: [1, 10.0]},
                    "categories": [],
                }
            )
        async with store.engine.begin() as conn:
            await conn.run_sync(merge_traits, [(cid, {"plan": "pro"}) for cid in ids], now)
            await conn.execute(sa.insert(customer_behaviour), rows)
    segments = load_segments(ROOT / "journeys")
    membership = SegmentMembership(store.engine)

    async def sweep(since: datetime | None, until: datetime) -> tuple[float, int, int]:
        started = time.perf_counter()
        after: str | None = None
        evaluated = changed = 0
        while True:
            ids = await membership.candidates(segments, since, until, after, 500)
            if not ids:
                break
            changes = await membership.evaluate(segments, ids, until)
            await membership.announced(changes)
            evaluated, changed = evaluated + len(ids), changed + len(changes)
            if len(ids) < 500:
                break
            after = ids[-1]
        return time.perf_counter() - started, evaluated, changed

    first, first_n, first_changes = await sweep(None, now)
    hourly, hourly_n, hourly_changes = await sweep(now, now + timedelta(hours=1))
    await store.close()
    return {
        "first_s": first,
        "first_evaluated": first_n,
        "first_changes": first_changes,
        "hourly_s": hourly,
        "hourly_evaluated": hourly_n,
        "hourly_changes": hourly_changes,
    }


def _child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-segments-") as tmp:
        if args.child == "sweep":
            print(json.dumps(asyncio.run(_sweep(args.customers, Path(tmp)))))
        else:
            print(json.dumps({"ms": asyncio.run(_per_event(args.child, args.events, Path(tmp)))}))


def _run(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.segments", *args], cwd=ROOT, check=True, capture_output=True
    )
    result: dict[str, float] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


def _line(name: str, values: list[float], unit: str) -> str:
    low, median, high = min(values), statistics.median(values), max(values)
    return f"{name}: {low:.3f} / {median:.3f} / {high:.3f} {unit} (min / median / max)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--child", choices=("intake", "evaluate", "sweep"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    print(describe())  # how fast this machine runs Python now: bench.machine
    intake: list[float] = []
    evaluate: list[float] = []
    for round_ in range(args.rounds):
        order = ("intake", "evaluate") if round_ % 2 == 0 else ("evaluate", "intake")
        for side in order:
            (intake if side == "intake" else evaluate).append(
                _run("--child", side, "--events", str(args.events))["ms"]
            )
    ratios = [e / i for e, i in zip(evaluate, intake, strict=True)]
    print(f"per event, {args.events} events one at a time, {args.rounds} rounds, SQLite file:")
    print("  " + _line("intake alone", intake, "ms/event"))
    print("  " + _line("intake + segment evaluation", evaluate, "ms/event"))
    print(
        "  "
        + _line("evaluation's added cost", [e - i for e, i in zip(evaluate, intake, strict=True)], "ms/event")
    )
    print("  " + _line("ratio evaluate / intake", ratios, "x"))
    sweep = _run("--child", "sweep", "--customers", str(args.customers))
    print(f"sweep over {args.customers:,} customers (one run, SQLite file, pages of 500, no pauses):")
    print(
        f"  first sweep: {sweep['first_s']:.1f} s, {int(sweep['first_evaluated']):,} evaluated, "
        f"{int(sweep['first_changes']):,} changes"
    )
    print(
        f"  hourly sweep: {sweep['hourly_s']:.2f} s, {int(sweep['hourly_evaluated']):,} evaluated, "
        f"{int(sweep['hourly_changes']):,} changes"
    )


if __name__ == "__main__":
    main()
