"""How fast this machine runs Python right now: a fixed workload, timed, printed by every benchmark
before its figures, so that figures taken on different days or machines can be read side by side.

    .venv/bin/python -m bench.machine

The same code, run a day apart on "this 2-core machine", has taken twice the time (issue #14's notes):
the machine is a share of a host whose load this process cannot see. An absolute goal ("1,000
stories in 30 s") then reads differently on each day; the reference says by how much. It is the
shape of the project's own hot paths in miniature (dict building, attribute access, string
formatting, JSON, hashing, sorting) and uses one core.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass

REPEATS = 5
ROWS = 20_000


@dataclass(frozen=True)
class _Row:
    customer_id: str
    step: str
    n: int


def workload() -> int:
    """The fixed work: the same operations, in the same amounts, every time (its result is a check)."""
    rows = [_Row(f"customer-{i:06d}", f"step-{i % 17}", i) for i in range(ROWS)]
    counts: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (row.step, row.n % 8)
        counts[key] = counts.get(key, 0) + row.n
    text = json.dumps([{"id": r.customer_id, "step": r.step, "n": r.n} for r in rows])
    decoded = json.loads(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    ordered = sorted(decoded, key=lambda item: (item["step"], -item["n"]))
    return len(counts) + len(ordered) + int(digest[:4], 16) % 7


def reference_seconds(repeats: int = REPEATS) -> float:
    """The fastest of ``repeats`` runs of the workload, in seconds (the least disturbed by others)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        workload()
        best = min(best, time.perf_counter() - started)
    return best


def describe() -> str:
    """One line for a benchmark's output: the reference time, the cores and the load average."""
    seconds = reference_seconds()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    loads = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: reference workload {1000 * seconds:.1f} ms (fastest of {REPEATS}; bench.machine), "
        f"{cores} cores, load average {loads}"
    )


def main() -> None:
    print(describe())


if __name__ == "__main__":
    main()
