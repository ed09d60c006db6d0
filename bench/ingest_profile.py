"""Runs ``journeys api`` under a profiler for ``bench.ingest --profile-api``, writing a pstats file.

    python -m bench.ingest_profile OUT.prof api

yappi's CPU clock over every thread where yappi is installed (``pip install yappi``: it times
coroutines by the CPU they use, not by how long they wait), else cProfile on the main thread (also
with ``JOURNEYS_PROFILER=cprofile``: its ``tottime`` per function is the more trustworthy, since
yappi's coroutine accounting folds greenlet switches into callers). Read the file with
``python -m pstats OUT.prof`` (``sort tottime``, ``stats 40``).
"""

from __future__ import annotations

import cProfile
import importlib
import importlib.util
import os
import runpy
import sys
from pathlib import Path
from typing import Any


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["journeys", *sys.argv[2:]]
    if os.environ.get("JOURNEYS_PROFILER") != "cprofile" and importlib.util.find_spec("yappi") is not None:
        yappi: Any = importlib.import_module("yappi")  # not a dependency of the project: untyped here
        yappi.set_clock_type("cpu")
        yappi.start(builtins=True, profile_threads=True)
        try:
            runpy.run_module("cli", run_name="__main__")
        except (SystemExit, KeyboardInterrupt):
            pass
        finally:
            yappi.stop()
            yappi.get_func_stats().save(str(out), type="pstat")
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        runpy.run_module("cli", run_name="__main__")
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
