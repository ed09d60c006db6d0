"""What interpreting a plan costs: one small journey run by ``JourneyWorkflow`` and by a hand-written
workflow that calls the same activities in the same order, with the same inputs.

    .venv/bin/python -m bench.interpreter [--runs 200] [--rounds 5] [--profile DIR] [--sandbox]

The journey: start, award 10 points, send the welcome email, wait for ``bench_reply`` (1 s timeout),
end; its hand-written workflow is ``bench.handwritten``. Both sides get the same start request (the
router's: ``JourneyInput`` naming the plan, the customer read), the same worker
(``worker.service.build_worker``: the cache, the activities on their own SQLite store; Temporal's
sandbox with ``--sandbox``, else none, as ``journeys worker`` runs by default)
and the same SMTP server. Each side's worker is a process of its own; this process starts the
Temporal dev server (in memory), the SMTP server and the runs. Rounds alternate which side goes
first; each round starts ``--runs`` runs and waits for all of them to end, so the worker is drained
before the other side starts. Prints, per side, the worker's CPU per run, the dev server's CPU per
run, history events per run and runs/s, and the min/median/max of the ratios interpreter / hand-
written over the rounds. Goals (issue #14): interpreter at least 0.9x the hand-written rate, history
events at most 1.1x.

Then the workflow code alone: the last round's runs of each side (their histories, fetched) are
replayed in this process (in the sandbox with ``--sandbox``; debug mode: on this thread), rounds
alternating, and the CPU per run and its ratio printed. ``--profile DIR`` also profiles those
replays with cProfile (``DIR/<side>.prof``), prints the functions with the most time of their
own, and keeps the histories there (``DIR/<side>-<n>.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from temporalio.client import WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy

from bench.handwritten import JOURNEY, REPLY, TIMEOUT_SECONDS, HandWrittenJourney
from bench.machine import describe
from contracts.customers import CustomerSnapshot
from contracts.events import CustomerEvent
from contracts.plans import PlanRef
from contracts.visibility import CUSTOMER_ID, JOURNEY_NAME, JOURNEY_VERSION, workflow_id
from workflows.models import JourneyInput

Side = Literal["interpreter", "hand"]
SIDES: tuple[Side, Side] = ("interpreter", "hand")
SOURCE = f"""
journey: {JOURNEY}
stage: acquisition
trigger: {{event: bench_started}}
entry: always
steps:
  - {{id: bonus, award: {{points: 10, reason: Bench bonus}}}}
  - {{id: hello, send: {{email: welcome}}}}
  - {{id: wait_reply, wait_for: {{event: {REPLY}, timeout: {TIMEOUT_SECONDS}s}}}}
"""
START_CONCURRENCY = 50
REPLAYED = 50  # runs of each side replayed for the workflow-side figures
REPLAY_ROUNDS = 5
PROFILED_ROUNDS = 3
IDLE_SECONDS = 3.0  # how long the idle workers' CPU is sampled (polling, timers of the SDK)


ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "journeys" / "templates"


# ----------------------------------------------------------------- a worker process


def customer_ids(side: Side, count: int) -> list[str]:
    return [f"bench-{side}-{n:05d}" for n in range(count)]


async def serve_worker(
    side: Side, address: str, smtp_port: int, workdir: Path, customers: int, sandboxed: bool
) -> None:
    from activities.journey_activities import JourneyActivities
    from config.settings import Settings
    from engine.loader import compile_text
    from ingest.router import EventRouter
    from store.database import Store
    from worker.connection import connect
    from worker.service import build_worker
    from workflows.journey import JourneyWorkflow

    settings = Settings(
        _env_file=None,
        data_dir=workdir,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        task_queue=f"bench-{side}",
    )
    store = Store(f"sqlite+aiosqlite:///{workdir / 'journeys.db'}")
    await store.create_schema()
    await store.deployments.deploy(compile_text(SOURCE, f"{JOURNEY}.yaml", TEMPLATES), source="")
    for customer in customer_ids(side, customers):
        await store.customers.upsert(customer, {"email": f"{customer}@example.com", "first_name": "Ada"})
    client = await connect(address, "default")
    router = EventRouter(client, store, settings.task_queue)
    activities = JourneyActivities(store, settings, router)
    worker = build_worker(
        client,
        settings.task_queue,
        store,
        activities,
        workflows=[JourneyWorkflow] if side == "interpreter" else [HandWrittenJourney],
        sandboxed=sandboxed,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready", flush=True)
        await stop.wait()
    await activities.close()
    await router.close()
    await store.close()


# ----------------------------------------------------------------- the load and the figures


@dataclass
class Process:
    process: subprocess.Popen[str]

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Round:
    side: Side
    worker_cpu: float  # seconds per run
    server_cpu: float
    events: float  # per run
    rate: float  # runs per second, first start to last end
    lengths: list[int]  # history events of each run


@dataclass
class Results:
    rounds: list[Round] = field(default_factory=list)

    def of(self, side: Side) -> list[Round]:
        return [r for r in self.rounds if r.side == side]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_dev_server(port: int) -> Process:
    from contracts.visibility import SEARCH_ATTRIBUTES
    from worker.binaries import temporal_cli_path

    command = [str(temporal_cli_path()), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    command += ["--headless", "--log-level", "error", "--http-port", str(free_port())]
    command += ["--metrics-port", str(free_port())]
    for key in SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    return Process(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))


def start_worker(
    side: Side, address: str, smtp_port: int, workdir: Path, customers: int, sandboxed: bool
) -> Process:
    (workdir / side).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.interpreter", "--worker", side, "--address", address]
    command += [
        "--smtp-port",
        str(smtp_port),
        "--workdir",
        str(workdir / side),
        "--customers",
        str(customers),
        "--sandbox" if sandboxed else "--no-sandbox",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the {side} worker did not start")
    return Process(process)


async def one_round(
    client: object, side: Side, version: str, names: list[str], worker: Process, server: Process
) -> Round:
    from temporalio.client import Client

    assert isinstance(client, Client)
    task_queue = f"bench-{side}"
    limit = asyncio.Semaphore(START_CONCURRENCY)
    run_workflow = "JourneyWorkflow" if side == "interpreter" else "HandWrittenJourney"

    async def start(customer: str) -> object:
        trigger = CustomerEvent(event_id=uuid.uuid4().hex, customer_id=customer, name="bench_started")
        snapshot = CustomerSnapshot(id=customer, email=f"{customer}@example.com", first_name="Ada")
        async with limit:
            return await client.start_workflow(
                run_workflow,
                JourneyInput(
                    plan_ref=PlanRef(journey=JOURNEY, version=version),
                    customer_id=customer,
                    trigger=trigger,
                    customer=snapshot,
                    store_steps_local=True,
                ),
                id=workflow_id(JOURNEY, customer),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(CUSTOMER_ID, customer),
                        SearchAttributePair(JOURNEY_NAME, JOURNEY),
                        SearchAttributePair(JOURNEY_VERSION, version),
                    ]
                ),
            )

    worker_before, server_before = worker.cpu(), server.cpu()
    began = time.perf_counter()
    handles = await asyncio.gather(*(start(name) for name in names))
    for handle in handles:
        await handle.result()  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - began
    worker_cpu, server_cpu = worker.cpu() - worker_before, server.cpu() - server_before
    lengths = [
        (await handle.describe()).raw_description.workflow_execution_info.history_length  # type: ignore[attr-defined]
        for handle in handles
    ]
    await asyncio.sleep(0.5)  # emitted events and late writes settle before the other side starts
    runs = len(names)
    return Round(
        side, worker_cpu / runs, server_cpu / runs, statistics.fmean(lengths), runs / elapsed, lengths
    )


def spread(values: list[float], unit: str = "", digits: int = 2) -> str:
    return (
        f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}{unit}"
    )


async def compare(runs: int, rounds: int, profile: Path | None, sandboxed: bool) -> None:
    from engine.loader import compile_text
    from outbox.server import OutboxServer
    from worker.connection import connect

    version = compile_text(SOURCE, f"{JOURNEY}.yaml", TEMPLATES).version
    port = free_port()
    server = start_dev_server(port)
    address = f"127.0.0.1:{port}"
    workers: dict[Side, Process] = {}
    with tempfile.TemporaryDirectory(prefix="journeys-bench-interpreter-") as workdir:
        outbox = OutboxServer("127.0.0.1", free_port(), Path(workdir) / "outbox")
        outbox.start()
        try:
            client = None
            for _ in range(100):
                try:
                    client = await connect(address, "default")
                    break
                except RuntimeError:
                    await asyncio.sleep(0.1)
            assert client is not None, "the dev server did not start"
            for side in SIDES:
                workers[side] = start_worker(
                    side, address, outbox.port, Path(workdir), runs * (rounds + 1), sandboxed
                )
            results = Results()
            names = {side: customer_ids(side, runs * (rounds + 1)) for side in SIDES}
            for side in SIDES:  # warm-up: imports, caches, the first sandbox; not counted
                await one_round(client, side, version, names[side][:runs], workers[side], server)
            idle = {side: workers[side].cpu() for side in SIDES}
            await asyncio.sleep(IDLE_SECONDS)
            for side in SIDES:
                rate = (workers[side].cpu() - idle[side]) / IDLE_SECONDS * 1000
                print(f"{side} worker idle: {rate:.0f} ms CPU/s")
            for number in range(rounds):
                order = SIDES if number % 2 == 0 else SIDES[::-1]
                for side in order:
                    chunk = names[side][(number + 1) * runs : (number + 2) * runs]
                    results.rounds.append(
                        await one_round(client, side, version, chunk, workers[side], server)
                    )
            last = {side: names[side][rounds * runs : (rounds + 1) * runs] for side in SIDES}
            histories = {side: await fetch_histories(client, last[side][:REPLAYED]) for side in SIDES}
        finally:
            for process in workers.values():
                process.stop()
            outbox.stop()
            server.stop()
    report(results, runs, rounds)
    await report_replays(histories, version, profile, sandboxed)


async def fetch_histories(client: object, customers: list[str]) -> list[WorkflowHistory]:
    from temporalio.client import Client

    assert isinstance(client, Client)
    return [await client.get_workflow_handle(workflow_id(JOURNEY, c)).fetch_history() for c in customers]


async def replay_cpu(
    side: Side, histories: list[WorkflowHistory], profile: cProfile.Profile | None, sandboxed: bool
) -> float:
    """CPU seconds per run to replay ``histories`` through ``side``'s workflow: the workflow code of a
    whole run (the sandbox if ``sandboxed``, payload conversion, commands), on this thread (debug
    mode: no worker thread)."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

    from worker.service import sandboxed_runner
    from workflows.journey import JourneyWorkflow

    replayer = Replayer(
        workflows=[JourneyWorkflow if side == "interpreter" else HandWrittenJourney],
        data_converter=pydantic_data_converter,
        workflow_runner=sandboxed_runner() if sandboxed else UnsandboxedWorkflowRunner(),
        debug_mode=True,
    )
    started = time.process_time()
    if profile is not None:
        profile.enable()
    await replayer.replay_workflows(_each(histories))
    if profile is not None:
        profile.disable()
    return (time.process_time() - started) / len(histories)


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


async def report_replays(
    histories: dict[Side, list[WorkflowHistory]], version: str, profile: Path | None, sandboxed: bool
) -> None:
    """The workflow side alone: each side's recorded runs replayed in this process, rounds alternating."""
    from engine.loader import compile_text
    from worker.compiled import compile_once
    from workflows.plans import PLANS

    PLANS.add(compile_text(SOURCE, f"{JOURNEY}.yaml", TEMPLATES))  # what the worker's store held
    compile_once(["workflows", "bench"])  # as build_worker does for the workers
    for side in SIDES:
        await replay_cpu(side, histories[side], None, sandboxed)  # warm-up: imports
    cpu: dict[Side, list[float]] = {side: [] for side in SIDES}
    for number in range(REPLAY_ROUNDS):
        for side in SIDES if number % 2 == 0 else SIDES[::-1]:
            cpu[side].append(await replay_cpu(side, histories[side], None, sandboxed))
    count = len(histories["interpreter"])
    print(f"workflow code alone: {count} recorded runs a side replayed, {REPLAY_ROUNDS} rounds")
    for side in SIDES:
        print(f"  {side:<12} {spread([c * 1000 for c in cpu[side]], ' ms', 2)} CPU per run")
    ratios = [i / h for i, h in zip(cpu["interpreter"], cpu["hand"], strict=True)]
    print(f"  interpreter / hand-written: {spread(ratios)}")
    if profile is None:
        return
    for side in SIDES:  # kept for replaying them again by hand
        for number, history in enumerate(histories[side]):
            (profile / f"{side}-{number:03d}.json").write_text(history.to_json())
    for side in SIDES:
        profiler = cProfile.Profile()
        for _ in range(PROFILED_ROUNDS):
            await replay_cpu(side, histories[side], profiler, sandboxed)
        path = profile / f"{side}.prof"
        profiler.dump_stats(str(path))
        print(f"\n{side}: replaying {count} runs {PROFILED_ROUNDS} times, most time of their own ({path})")
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(30)


def report(results: Results, runs: int, rounds: int) -> None:
    print(f"{rounds} rounds of {runs} runs a side (min / median / max over the rounds)")
    for side in SIDES:
        rs = results.of(side)
        print(f"  {side:<12} worker CPU per run {spread([r.worker_cpu * 1000 for r in rs], ' ms', 1)},")
        print(f"  {'':<12} server CPU per run {spread([r.server_cpu * 1000 for r in rs], ' ms', 1)},")
        events, rates = spread([r.events for r in rs], "", 1), spread([r.rate for r in rs], "", 1)
        print(f"  {'':<12} events per run {events}, runs/s {rates}")
        lengths = Counter(n for r in rs for n in r.lengths)
        print(f"  {'':<12} history events: {dict(sorted(lengths.items()))} (events: runs)")
    pairs = list(zip(results.of("interpreter"), results.of("hand"), strict=True))
    print("  interpreter / hand-written:")
    print(f"    runs/s        {spread([i.rate / h.rate for i, h in pairs])}  (goal >= 0.9)")
    print(f"    events        {spread([i.events / h.events for i, h in pairs])}  (goal <= 1.1)")
    print(f"    worker CPU    {spread([i.worker_cpu / h.worker_cpu for i, h in pairs])}")
    print(f"    server CPU    {spread([i.server_cpu / h.server_cpu for i, h in pairs])}")


def main() -> None:
    from config.loop import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="profile the replays of each side into this folder")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--sandbox",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="run both sides in Temporal's sandbox (default: without, as journeys worker runs)",
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.worker:
        where = (args.address, args.smtp_port, args.workdir)
        run(serve_worker(args.worker, *where, args.customers, args.sandbox))
    else:
        print(describe())  # how fast this machine runs Python now: bench.machine
        print(f"both sides {'in' if args.sandbox else 'without'} Temporal's sandbox", flush=True)
        run(compare(args.runs, args.rounds, args.profile, args.sandbox))


if __name__ == "__main__":
    main()
