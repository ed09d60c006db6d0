"""One shard of a simulation, in its own process (see ``simulate.shards``)."""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from pathlib import Path

from config.loop import run as run_loop
from simulate.quiet import quiet_temporal
from simulate.shards import ShardJob
from simulate.simulation import simulate_here


def report(count: int) -> None:
    sys.stdout.write(f"progress {count}\n")
    sys.stdout.flush()


def main() -> None:
    result_file = Path(sys.argv[1])
    job: ShardJob = pickle.loads(sys.stdin.buffer.read())
    quiet_temporal()
    try:
        result = run_loop(
            simulate_here(
                job.main,
                job.plans,
                job.stories,
                progress=report,
                customer_ids=job.customer_ids,
                program=job.program,
                policy=job.policy,
            )
        )
    except Exception as exc:  # noqa: BLE001 - any failure is the shard's answer to its parent
        traceback.print_exc()
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")  # the last line: what the parent reports
        sys.exit(1)
    result_file.write_bytes(pickle.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # done and closed: skip the teardown of every loaded module (about 0.5 s)


if __name__ == "__main__":
    main()
