"""One shard of a simulation, in its own process (see ``runtime.simulate.shards``)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from runtime.loop import run as run_loop
from runtime.simulate.quiet import quiet_temporal
from runtime.simulate.shards import ShardJob
from runtime.simulate.simulation import simulate_here


def report(count: int) -> None:
    sys.stdout.write(f"progress {count}\n")
    sys.stdout.flush()


def main() -> None:
    result_file = Path(sys.argv[1])
    job: ShardJob = pickle.loads(sys.stdin.buffer.read())
    quiet_temporal()
    result = run_loop(simulate_here(job.main, job.plans, job.stories, progress=report))
    result_file.write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    main()
