"""Many customers waiting on one worker and the dev server on a SQLite file (issue #14).

    .venv/bin/python -m bench.scale [--customers 100000] [--journey PATH] [--cache 1000]
        [--signal-rate 50] [--signal-seconds 60] [--max-start-minutes 45] [--json FILE]

Every part runs in its own process (``bench.ingest_stack``): the Temporal dev server on a SQLite
file, ``journeys worker`` (its cache from ``JOURNEYS_WORKER_CACHE``), ``journeys api`` and a SQLite
store. Phases:

1. **start**: one sign-up per customer through ``POST /v1/events`` (the production path), 32 in
   flight and at most ``--backlog`` runs accepted but not yet at their first wait (the Temporal
   visibility count), so the worker is paced, not flooded. Over the second half of
   ``--probe-seconds`` the start rate is measured (the first half is the ramp); if N would take
   longer than ``--max-start-minutes`` at that rate, N is cut to what fits, and the table says so.
   Resident memory (``/proc/<pid>/status``) is sampled meanwhile.
2. **at rest**: worker, dev-server and API RSS; the dev server's database and the store on disk;
   ``GET /v1/journeys/{name}/stats`` 200 times in a row (the counts the journey page shows).
3. **signals** at ``--signal-rate`` events/s (open loop, each event posted at its time): first to
   customers started last (their runs still in the worker's cache), then for ``--signal-seconds`` to
   customers drawn at random (their runs mostly evicted: replayed from history). An event's latency
   runs from its POST until the store holds the wait's ``completed`` step record, which the
   workflow writes (a local activity) once it has handled the event: the worker's whole path, not
   the POST's 202. The worker's and the dev server's CPU per event are printed beside it.

Goals (issue #14): worker RSS under 300 MB with a bounded cache, signal p99 under 300 ms, stats
p99 under 100 ms. Not part of the test suite; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ingest_load import BENCH_JOURNEY, FIRST_NAMES, PLANS
from bench.ingest_stack import API_KEY, Stack, free_port, stack
from bench.machine import describe
from bench.scale_parts import Api, Watcher, file_mb, percentiles, rss_mb
from bench.scale_sweep import cold_pool, parse_variant, summary, sweep
from config.loop import run
from engine.loader import compile_text
from engine.plan import Plan, WaitForNode
from worker.binaries import DEV_SERVER_SQLITE_PRAGMAS

REPO = Path(__file__).resolve().parents[1]
STATS_REQUESTS = 200
SAMPLE_SECONDS = 10.0
GOALS = {"worker_rss_mb": 300.0, "signal_p99_ms": 300.0, "stats_p99_ms": 100.0}


@dataclass
class Target:
    """The journey under test: what starts it, where its runs wait, what moves them on."""

    plan: Plan
    source: str
    deploy: bool  # through the API (the bench journey is deployed by the stack itself)

    @property
    def wait(self) -> WaitForNode:
        return next(node for node in self.plan.nodes if isinstance(node, WaitForNode))

    def sends_email(self) -> bool:
        return any(getattr(node, "kind", "") == "send" for node in self.plan.nodes)


def load_target(path: Path | None) -> Target:
    templates = REPO / "journeys" / "templates"
    if path is None:
        return Target(compile_text(BENCH_JOURNEY, "bench.yaml", templates), BENCH_JOURNEY, deploy=False)
    source = path.read_text()
    plan = compile_text(source, path.name, path.parent / "templates")
    if not any(isinstance(node, WaitForNode) for node in plan.nodes):
        raise SystemExit(f"{path}: the journey has no wait_for step to wait at")
    return Target(plan, source, deploy=True)


def customer(n: int) -> str:
    return f"scale-{n}"


def sign_up(target: Target, n: int) -> dict[str, Any]:
    rng = random.Random(n)
    return {
        "event_id": f"start-{n}",
        "customer_id": customer(n),
        "name": target.plan.trigger.event,
        "properties": {"plan": rng.choice(PLANS), "source": "bench"},
        "traits": {"email": f"{customer(n)}@example.com", "first_name": rng.choice(FIRST_NAMES)},
    }


@dataclass
class Sample:
    seconds: float
    accepted: int
    waiting: int
    worker_mb: float
    temporal_mb: float


@dataclass
class Results:
    requested: int
    customers: int = 0
    cut_reason: str = ""
    cache: int = 0
    start_seconds: float = 0.0
    accepted_per_s: float = 0.0
    start_per_s: float = 0.0
    start_worker_cpu_ms: float = 0.0  # per run
    start_temporal_cpu_ms: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    rest: dict[str, float] = field(default_factory=dict)
    stats_ms: dict[str, float] = field(default_factory=dict)
    signals: dict[str, dict[str, float]] = field(default_factory=dict)
    after_signals: dict[str, float] = field(default_factory=dict)
    retries: int = 0
    refused_starts: int = 0  # sign-ups still refused after every retry
    refused_first: str = ""
    load: dict[str, float] = field(default_factory=dict)  # 1-minute load average by phase
    rounds: list[dict[str, Any]] = field(default_factory=list)  # bench.scale_sweep


class Waiting:
    """The number of runs at the journey's wait, from Temporal's visibility, refreshed in the
    background while the start phase needs it."""

    def __init__(self, stack: Stack, target: Target) -> None:
        self._stack = stack
        self._query = f"JourneyName = '{target.plan.journey}' AND JourneyStep = '{target.wait.id}'"
        self.count = 0

    async def refresh(self) -> int:
        self.count = (await self._stack.client.count_workflows(self._query)).count
        return self.count

    async def keep_fresh(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(0.5)


def rss(stack: Stack, name: str) -> float:
    return rss_mb(stack.parts[name].process.pid)


async def start_phase(
    stack: Stack, api: Api, target: Target, args: argparse.Namespace, results: Results
) -> None:
    waiting = Waiting(stack, target)
    refresher = asyncio.create_task(waiting.keep_fresh())
    cpu_before = stack.cpu()
    began = time.perf_counter()
    limit = args.customers
    sent = 0
    accepted = 0
    next_sample = began + SAMPLE_SECONDS
    probe_start: tuple[float, int] | None = None  # (when, waiting) halfway through the probe

    def sample(now: float) -> None:
        results.samples.append(
            Sample(now - began, accepted, waiting.count, rss(stack, "worker"), rss(stack, "temporal"))
        )
        last = results.samples[-1]
        print(
            f"  {now - began:7.0f} s  accepted {accepted:7d}  waiting {waiting.count:7d}"
            f"  worker {last.worker_mb:6.0f} MB  dev server {last.temporal_mb:6.0f} MB",
            flush=True,
        )

    async def lane() -> None:
        nonlocal sent, accepted, limit, next_sample, probe_start
        while sent < limit:
            n = sent
            sent += 1
            # The worker's backlog, bounded (the count is polled from Temporal, not an event).
            while n - waiting.count >= args.backlog:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            try:
                await api.event(sign_up(target, n))
            except RuntimeError as exc:  # refused after every retry: counted, and that customer waits not
                results.refused_starts += 1
                results.refused_first = results.refused_first or str(exc)
                continue
            accepted += 1
            now = time.perf_counter()
            if now >= next_sample:
                next_sample = now + SAMPLE_SECONDS
                sample(now)
            if probe_start is None and now - began >= args.probe_seconds / 2:
                probe_start = (now, waiting.count)  # the first half is the ramp: runs not yet waiting
            if probe_start and now - began >= args.probe_seconds and waiting.count > probe_start[1]:
                rate = (waiting.count - probe_start[1]) / (now - probe_start[0])
                fits = waiting.count + int(rate * (args.max_start_minutes * 60 - (now - began)))
                if fits < limit:
                    limit = max(fits, sent)
                    results.cut_reason = (
                        f"{args.customers} would take {args.customers / rate / 60:.0f} min at the"
                        f" measured {rate:.1f} runs/s; cut to what fits in {args.max_start_minutes:g} min"
                    )
                    print(f"  {results.cut_reason}: {limit}", flush=True)
                args.probe_seconds = float("inf")

    try:
        await asyncio.gather(*(lane() for _ in range(args.concurrency)))
        accepted_at = time.perf_counter()
        results.customers = limit
        while await waiting.refresh() < limit - results.refused_starts:
            if time.perf_counter() - accepted_at > 120 + limit / 20:
                raise RuntimeError(f"{waiting.count} of {limit} runs reached {target.wait.id}")
            for part in stack.parts.values():
                if part.process.returncode is not None:
                    raise RuntimeError(f"{part.name} stopped:\n{part.tail()}")
            now = time.perf_counter()
            if now >= next_sample:
                next_sample = now + SAMPLE_SECONDS
                sample(now)
            await asyncio.sleep(0.5)
    finally:
        refresher.cancel()
    done = time.perf_counter()
    sample(done)
    cpu_after = stack.cpu()
    results.start_seconds = done - began
    results.accepted_per_s = limit / (accepted_at - began)
    results.start_per_s = limit / (done - began)
    results.start_worker_cpu_ms = (cpu_after["worker"] - cpu_before["worker"]) / limit * 1000
    results.start_temporal_cpu_ms = (cpu_after["temporal"] - cpu_before["temporal"]) / limit * 1000
    results.load["start"] = os.getloadavg()[0]


def measure_rest(stack: Stack) -> dict[str, float]:
    worker = stack.parts["worker"].process.pid
    return {
        "worker_rss_mb": rss_mb(worker),
        "worker_peak_mb": rss_mb(worker, "VmHWM"),
        "temporal_rss_mb": rss(stack, "temporal"),
        "api_rss_mb": rss(stack, "api"),
        "temporal_db_mb": file_mb(stack.workdir / "temporal.db"),
        "store_db_mb": file_mb(stack.workdir / "journeys.db"),
    }


async def stats_phase(api: Api, target: Target) -> dict[str, float]:
    path = f"/v1/journeys/{target.plan.journey}/stats"
    await api.request("GET", path)  # warm
    latencies = []
    for _ in range(STATS_REQUESTS):
        began = time.perf_counter()
        await api.request("GET", path)
        latencies.append((time.perf_counter() - began) * 1000)
    return percentiles(latencies)


async def signal_phase(
    stack: Stack, api: Api, target: Target, customers: list[int], rate: float, seq: Iterator[int]
) -> dict[str, float]:
    """Post the wait's event to each of ``customers`` at ``rate`` per second; latency until the
    store holds the wait's completed record."""
    watcher = Watcher(stack.workdir / "journeys.db", target.plan.journey, target.wait.id)
    watching = asyncio.create_task(watcher.run())
    accepted_ms: list[float] = []
    cpu_before = stack.cpu()
    own_before = time.process_time()  # this process: the load generator and the watcher
    began = time.perf_counter()

    failures: list[str] = []

    async def post(n: int) -> None:
        posted = time.perf_counter()
        watcher.watch(customer(n), posted)
        try:
            await api.event(
                {
                    "event_id": f"signal-{next(seq)}",
                    "customer_id": customer(n),
                    "name": target.wait.event,
                    "properties": {"source": "bench"},
                }
            )
        except RuntimeError as exc:  # still refused after every retry: counted, not measured
            watcher.forget(customer(n))
            failures.append(str(exc))
            return
        accepted_ms.append((time.perf_counter() - posted) * 1000)

    posts = []
    for index, n in enumerate(customers):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(post(n)))
    await asyncio.gather(*posts)
    sent_seconds = time.perf_counter() - began
    missing = await watcher.finish(watching, 60.0)
    cpu_after = stack.cpu()
    own_cpu = time.process_time() - own_before
    handled = percentiles(list(watcher.latencies_ms.values()))
    count = max(1, len(customers))
    if failures:
        print(f"  {len(failures)} events refused after every retry; the first: {failures[0]}", flush=True)
    return {
        **handled,
        "sent": len(customers),
        "refused": len(failures),
        "missing": missing,
        "rate": len(customers) / sent_seconds,
        "task_p50": percentiles(list(watcher.task_ms.values()))["p50"],
        "task_p99": percentiles(list(watcher.task_ms.values()))["p99"],
        "accepted_p50": percentiles(accepted_ms)["p50"],
        "accepted_p99": percentiles(accepted_ms)["p99"],
        "worker_cpu_ms": (cpu_after["worker"] - cpu_before["worker"]) / count * 1000,
        "temporal_cpu_ms": (cpu_after["temporal"] - cpu_before["temporal"]) / count * 1000,
        "api_cpu_ms": (cpu_after["api"] - cpu_before["api"]) / count * 1000,
        "bench_cpu_ms": own_cpu / count * 1000,
        "load1": os.getloadavg()[0],
    }


@contextlib.asynccontextmanager
async def outbox_if_needed(target: Target, workdir: Path) -> AsyncIterator[None]:
    """The journey sends email: a local Outbox (SMTP) in this process, named to the worker."""
    if not target.sends_email():
        yield
        return
    from outbox.server import OutboxServer

    outbox = OutboxServer("127.0.0.1", free_port(), workdir / "outbox")
    outbox.start()
    os.environ["JOURNEYS_SMTP_HOST"], os.environ["JOURNEYS_SMTP_PORT"] = "127.0.0.1", str(outbox.port)
    try:
        yield
    finally:
        outbox.stop()


async def bench(args: argparse.Namespace) -> Results:
    target = load_target(args.journey)
    results = Results(requested=args.customers, cache=args.cache)
    # The stack hands this process's environment to the worker and the API.
    os.environ["JOURNEYS_WORKER_CACHE"] = str(args.cache)
    if args.workflow_tasks:
        os.environ["JOURNEYS_WORKER_WORKFLOW_TASKS"] = str(args.workflow_tasks)
    if args.sticky_seconds:
        os.environ["JOURNEYS_WORKER_STICKY_TIMEOUT_SECONDS"] = str(args.sticky_seconds)
    if args.gc_threshold is not None:
        os.environ["JOURNEYS_WORKER_GC_THRESHOLD"] = str(args.gc_threshold)
    if args.gc_freeze is not None:
        os.environ["JOURNEYS_WORKER_GC_FREEZE"] = "1" if args.gc_freeze else "0"
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=args.workdir) as directory:
        workdir = Path(directory)
        pragmas = DEV_SERVER_SQLITE_PRAGMAS if args.dev_server_journal == "wal" else ()
        async with (
            outbox_if_needed(target, workdir),
            stack("file", workdir, sqlite_pragmas=pragmas) as running,
        ):
            api = Api(running.api_url, API_KEY, max(args.concurrency, 64))
            await api.open()
            try:
                if target.deploy:
                    path = f"/v1/journeys/{target.plan.journey}"
                    await api.request("PUT", path, target.source.encode(), "application/yaml")
                print(f"starting {args.customers} customers on {target.plan.journey}", flush=True)
                await start_phase(running, api, target, args, results)
                await asyncio.sleep(args.settle_seconds)  # the last records written, the worker idle
                results.rest = measure_rest(running)
                results.stats_ms = await stats_phase(api, target)
                results.load["rest"] = os.getloadavg()[0]
                seq = iter(range(10**9))
                count = results.customers
                warm = list(range(max(0, count - args.cache // 2), count))
                rng = random.Random(14)
                warm_signals = rng.sample(warm, min(len(warm), int(args.signal_rate * args.signal_seconds)))
                print(f"signals to {len(warm_signals)} cached runs", flush=True)
                results.signals["cached"] = await signal_phase(
                    running, api, target, warm_signals, args.signal_rate, seq
                )
                warm_set = set(warm)
                cold = [n for n in range(count) if n not in warm_set]
                wanted = min(len(cold), int(args.signal_rate * args.signal_seconds))
                print(f"signals to {wanted} runs drawn at random", flush=True)
                drawn = rng.sample(cold, wanted)
                results.signals["random"] = await signal_phase(
                    running, api, target, drawn, args.signal_rate, seq
                )
                results.after_signals = measure_rest(running)
                if args.rounds:
                    print(f"sweep: {args.rounds} rounds of {len(args.variant)} variants", flush=True)

                    async def signal(stack: Stack, customers: list[int], rate: float) -> dict[str, Any]:
                        return await signal_phase(stack, api, target, customers, rate, seq)

                    pool = cold_pool(count, {*warm_signals, *drawn})
                    results.rounds = await sweep(
                        running,
                        signal,
                        pool,
                        args.variant,
                        args.rounds,
                        args.round_seconds,
                        args.signal_rate,
                        args.settle_seconds,
                    )
                results.retries = api.retries
            finally:
                await api.close()
    return results


def table(results: Results, args: argparse.Namespace) -> str:
    n = max(1, results.customers)
    rest, after = results.rest, results.after_signals
    lines = [
        f"customers waiting       {results.customers} (asked {results.requested};"
        f" worker cache {results.cache}; dev server journal {args.dev_server_journal})",
    ]
    if results.refused_starts:
        lines.append(
            f"  refused               {results.refused_starts} sign-ups after every retry; the first:"
            f" {results.refused_first}"
        )
    if results.cut_reason:
        lines.append(f"  cut                   {results.cut_reason}")
    lines += [
        f"start                   {results.start_seconds:.0f} s: {results.start_per_s:.1f} runs/s at their"
        f" wait ({results.accepted_per_s:.1f}/s accepted); CPU per run: worker"
        f" {results.start_worker_cpu_ms:.1f} ms, dev server {results.start_temporal_cpu_ms:.1f} ms;"
        f" load average {results.load.get('start', 0):.1f}",
        "RSS while starting      "
        + ", ".join(
            f"{s.waiting}: {s.worker_mb:.0f}/{s.temporal_mb:.0f} MB" for s in thin(results.samples, 8)
        )
        + "  (waiting: worker/dev server)",
        f"at rest                 worker {rest['worker_rss_mb']:.0f} MB (peak {rest['worker_peak_mb']:.0f}),"
        f" dev server {rest['temporal_rss_mb']:.0f} MB"
        f" ({rest['temporal_rss_mb'] * 1e3 / n:.1f} KB per customer),"
        f" API {rest['api_rss_mb']:.0f} MB",
        f"databases               dev server {rest['temporal_db_mb']:.0f} MB"
        f" ({rest['temporal_db_mb'] * 1e3 / n:.1f} KB per customer), store {rest['store_db_mb']:.0f} MB"
        f" ({rest['store_db_mb'] * 1e3 / n:.1f} KB per customer); in {args.workdir or tempfile.gettempdir()}",
        "stats (ms)              "
        + fmt(results.stats_ms)
        + f"; load average {results.load.get('rest', 0):.1f}",
    ]
    for name, phase in results.signals.items():
        lines.append(
            f"signals, {name:<14} {fmt(phase)}; {phase['sent']:.0f} sent at {phase['rate']:.1f}/s,"
            f" {phase['refused']:.0f} refused, {phase['missing']:.0f} not seen; to the handling task's start"
            f" p50 {phase['task_p50']:.0f} / p99"
            f" {phase['task_p99']:.0f} ms; POST 202 p50 {phase['accepted_p50']:.0f} / p99"
            f" {phase['accepted_p99']:.0f} ms; CPU per event: worker {phase['worker_cpu_ms']:.1f} ms,"
            f" dev server {phase['temporal_cpu_ms']:.1f} ms, API {phase['api_cpu_ms']:.1f} ms, this load"
            f" generator {phase['bench_cpu_ms']:.1f} ms; load average {phase['load1']:.1f}"
        )
    lines.append(
        f"after the signals       worker {after['worker_rss_mb']:.0f} MB"
        f" (peak {after['worker_peak_mb']:.0f}),"
        f" dev server {after['temporal_rss_mb']:.0f} MB"
    )
    random_phase = results.signals.get("random", {})
    verdicts = {
        "worker_rss_mb": max(rest["worker_peak_mb"], after["worker_peak_mb"]),
        "signal_p99_ms": random_phase.get("p99", 0.0),
        "stats_p99_ms": results.stats_ms.get("p99", 0.0),
    }
    measured = {"signal_p99_ms": bool(random_phase.get("n"))}

    def verdict(name: str, value: float) -> str:
        if not measured.get(name, True):
            return "not measured"
        return "met" if value < GOALS[name] else "MISSED"

    lines.append(
        "goals                   "
        + ", ".join(
            f"{name} {value:.0f} (goal < {GOALS[name]:.0f}: {verdict(name, value)})"
            for name, value in verdicts.items()
        )
    )
    if results.rounds:
        lines.append(f"sweep (signals to runs not cached, {args.round_seconds:g} s a round; min/median/max):")
        lines.append(summary(results.rounds))
    if results.retries:
        lines.append(f"requests sent again     {results.retries} (503/409)")
    return "\n".join(lines)


def fmt(p: dict[str, float]) -> str:
    return f"p50 {p['p50']:.0f} / p95 {p['p95']:.0f} / p99 {p['p99']:.0f} / max {p['max']:.0f} ms"


def thin(samples: list[Sample], count: int) -> list[Sample]:
    if len(samples) <= count:
        return samples
    step = (len(samples) - 1) / (count - 1)
    return [samples[round(i * step)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--journey", type=Path, help="a journey YAML file (default: a bench journey that waits)"
    )
    parser.add_argument("--cache", type=int, default=1000, help="JOURNEYS_WORKER_CACHE of the worker")
    parser.add_argument("--workflow-tasks", type=int, default=0, help="JOURNEYS_WORKER_WORKFLOW_TASKS")
    parser.add_argument(
        "--sticky-seconds", type=float, default=0, help="JOURNEYS_WORKER_STICKY_TIMEOUT_SECONDS"
    )
    parser.add_argument("--gc-threshold", type=int, help="JOURNEYS_WORKER_GC_THRESHOLD of the worker")
    parser.add_argument(
        "--gc-freeze", action=argparse.BooleanOptionalAction, help="JOURNEYS_WORKER_GC_FREEZE of the worker"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="sign-ups in flight")
    parser.add_argument("--backlog", type=int, default=1000, help="runs accepted, not yet waiting, at most")
    parser.add_argument("--probe-seconds", type=float, default=60.0)
    parser.add_argument("--max-start-minutes", type=float, default=45.0)
    parser.add_argument("--settle-seconds", type=float, default=5.0)
    parser.add_argument("--signal-rate", type=float, default=50.0)
    parser.add_argument("--signal-seconds", type=float, default=60.0)
    parser.add_argument(
        "--variant",
        type=parse_variant,
        action="append",
        default=[],
        help="name:knob=value,... (knobs: rate, cache, tasks, pollers, sticky, gc, freeze)",
    )
    parser.add_argument("--rounds", type=int, default=0, help="sweep rounds over the variants")
    parser.add_argument("--round-seconds", type=float, default=20.0)
    parser.add_argument(
        "--dev-server-journal",
        choices=("wal", "delete"),
        default="wal",
        help="the dev server's SQLite journal: wal (journeys up's) or delete (SQLite's default)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where the databases go (a folder of it, removed after; default the system's temporary"
        " folder): /dev/shm puts them in memory, to tell the disk's share",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    print(describe())  # how fast this machine runs Python now: bench.machine
    if args.customers < 1 or args.signal_rate <= 0 or args.concurrency < 1:
        parser.error("--customers, --signal-rate and --concurrency must be positive")
    if args.rounds and not args.variant:
        parser.error("--rounds needs at least one --variant")
    results = run(bench(args))
    print(table(results, args))
    if args.json:
        args.json.write_text(json.dumps(asdict_results(results), indent=2))


def asdict_results(results: Results) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(results)


if __name__ == "__main__":
    main()
