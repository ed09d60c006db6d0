"""Rounds of signals after ``bench.scale``'s phases, each with its own worker settings (issue #14).

    .venv/bin/python -m bench.scale --customers 5000 --rounds 3 \\
        --variant base: --variant rate25:rate=25 --variant cache200:cache=200 ...

A variant names worker settings (``cache``, ``tasks``, ``pollers``, ``sticky``, ``gc``, ``freeze``: the
``JOURNEYS_WORKER_*`` variables) and the signal ``rate``; unnamed ones keep the command's. Each
round runs every variant once, in an order rotated by round (alternating, so a change in the
machine's load does not land on one variant only); before a variant whose settings differ from the
running worker's, the worker is restarted with them (its cache starts empty). Each variant's round
posts ``rate`` times ``--round-seconds`` events to customers not signalled before, drawn at random: their
runs are not in the worker's cache, as after an eviction, and each is replayed from its history.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from bench.ingest_stack import START_TIMEOUT, Stack, start, stop

KNOBS = {
    "cache": "JOURNEYS_WORKER_CACHE",
    "tasks": "JOURNEYS_WORKER_WORKFLOW_TASKS",
    "pollers": "JOURNEYS_WORKER_WORKFLOW_POLLERS",
    "sticky": "JOURNEYS_WORKER_STICKY_TIMEOUT_SECONDS",
    "gc": "JOURNEYS_WORKER_GC_THRESHOLD",
    "freeze": "JOURNEYS_WORKER_GC_FREEZE",  # 1 or 0
    "sandbox": "JOURNEYS_WORKER_SANDBOX",  # 1 or 0
}


@dataclass
class Variant:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    rate: float | None = None  # events/s; None: the command's --signal-rate


def parse_variant(text: str) -> Variant:
    """``name:knob=value,knob=value`` (``rate`` or a knob of ``KNOBS``)."""
    name, _, spec = text.partition(":")
    if not name:
        raise ValueError(f"variant {text!r}: no name before ':'")
    variant = Variant(name)
    for item in filter(None, spec.split(",")):
        knob, _, value = item.partition("=")
        if knob == "rate":
            variant.rate = float(value)
        elif knob in KNOBS:
            float(value)  # a number, or the variant is refused here rather than by the worker
            variant.env[KNOBS[knob]] = value
        else:
            raise ValueError(f"variant {text!r}: unknown knob {knob!r} (rate, {', '.join(KNOBS)})")
    return variant


async def restart_worker(stack: Stack, env: dict[str, str]) -> float:
    """Stop the worker and start it again with ``env`` over the stack's; answers the seconds until
    it polls (its log says it started)."""
    began = time.monotonic()
    await stop(stack.parts["worker"])
    worker = await start(
        "worker", [sys.executable, "-m", "cli", "worker"], stack.workdir, {**stack.env, **env}
    )
    stack.parts["worker"] = worker
    while "worker started" not in worker.log.read_text(errors="replace"):
        if worker.process.returncode is not None or time.monotonic() - began > START_TIMEOUT:
            raise RuntimeError(f"the worker did not start:\n{worker.tail()}")
        await asyncio.sleep(0.2)
    return time.monotonic() - began


async def sweep(
    stack: Stack,
    signal: Any,  # bench.scale.signal_phase bound to the api and target: (stack, customers, rate)
    pool: list[int],
    variants: list[Variant],
    rounds: int,
    seconds: float,
    default_rate: float,
    settle: float,
) -> list[dict[str, Any]]:
    """Every variant once a round, rotated; answers one result per (round, variant)."""
    rng = random.Random(1414)
    rng.shuffle(pool)
    fresh: Iterator[int] = iter(pool)
    running: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    for round_no in range(rounds):
        order = variants[round_no % len(variants) :] + variants[: round_no % len(variants)]
        for variant in order:
            rate = variant.rate or default_rate
            if variant.env != running:
                took = await restart_worker(stack, variant.env)
                running = dict(variant.env)
                print(f"  worker restarted for {variant.name} in {took:.1f} s", flush=True)
            await asyncio.sleep(settle)
            customers = [n for _, n in zip(range(int(rate * seconds)), fresh, strict=False)]
            if not customers:
                print("  no customers left to signal: the sweep ends here", flush=True)
                return results
            phase = await signal(stack, customers, rate)
            phase.update(round=round_no + 1, variant=variant.name, rss_mb=_worker_rss(stack))
            results.append(phase)
            print(f"  round {round_no + 1} {variant.name:<12} {line(phase)}", flush=True)
    return results


def _worker_rss(stack: Stack) -> float:
    from bench.scale_parts import rss_mb

    return rss_mb(stack.parts["worker"].process.pid, "VmHWM")


def line(phase: dict[str, Any]) -> str:
    return (
        f"p50 {phase['p50']:.0f} / p99 {phase['p99']:.0f} ms, {phase['missing']:.0f} not seen;"
        f" {phase['sent']:.0f} at {phase['rate']:.1f}/s; CPU per event worker {phase['worker_cpu_ms']:.1f},"
        f" dev server {phase['temporal_cpu_ms']:.1f}, API {phase['api_cpu_ms']:.1f}, load generator"
        f" {phase['bench_cpu_ms']:.1f} ms; worker peak {phase['rss_mb']:.0f} MB; load {phase['load1']:.1f}"
    )


def summary(results: list[dict[str, Any]]) -> str:
    """Per variant, min / median / max over its rounds."""
    lines = []
    names = list(dict.fromkeys(r["variant"] for r in results))
    for name in names:
        mine = [r for r in results if r["variant"] == name]

        def spread(key: str, digits: int = 0, rows: list[dict[str, Any]] = mine) -> str:
            values = [float(r[key]) for r in rows]
            return "/".join(f"{v:.{digits}f}" for v in (min(values), median(values), max(values)))

        lines.append(
            f"  {name:<12} p50 {spread('p50')} ms, p99 {spread('p99')} ms, not seen {spread('missing')};"
            f" CPU per event worker {spread('worker_cpu_ms', 1)}, dev server {spread('temporal_cpu_ms', 1)},"
            f" API {spread('api_cpu_ms', 1)} ms; load {spread('load1', 1)} ({len(mine)} rounds)"
        )
    return "\n".join(lines)


def cold_pool(count: int, used: set[int]) -> list[int]:
    return [n for n in range(count) if n not in used]
