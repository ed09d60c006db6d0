"""How long the ``journeys`` command takes, start-up included: ``--help``, ``validate`` of the example
journeys and ``simulate`` of one story, each a whole new process, as a user runs them.

    .venv/bin/python -m bench.cli_startup [--rounds 7] [--bytecode written|not-written]

``--bytecode written`` (the default) runs the commands as Python does by default: it writes each
module's bytecode to ``__pycache__`` the first time (each command once, not counted) and loads it
after, as on a user's machine. The environment of these machines sets ``PYTHONDONTWRITEBYTECODE=1``
for every process, so that the project's own modules (about 160 for a simulation) are compiled from
source on every run; ``--bytecode not-written`` keeps that setting, the way this bench measured
before 2026-12-02 09:00.

Commands run in turn, one of each per round (the order rotates), so a machine whose speed drifts
slows them all alike; each line prints wall and CPU seconds (min / median / max) and the median's
ratio to the goal of issue #14. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import describe

ROOT = Path(__file__).resolve().parents[1]
JOURNEYS = str(Path(sys.executable).parent / "journeys")
ONE_EVENT = "2d profile_completed"
# name, arguments, goal in seconds (issue #14)
COMMANDS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("journeys --help", ("--help",), 0.5),
    ("journeys validate journeys/", ("validate", "journeys"), 0.5),
    ("journeys simulate (one story)", ("simulate", "journeys/onboarding.yaml", "-e", ONE_EVENT), 1.5),
)


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def timed(args: tuple[str, ...], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and what it waited for) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [JOURNEYS, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        raise SystemExit(f"journeys {' '.join(args)} failed: {process.stderr.read().decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def spread(values: list[float]) -> str:
    return f"{min(values):5.2f} / {statistics.median(values):5.2f} / {max(values):5.2f}"


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bytecode", choices=("written", "not-written"), default="written")
    args = parser.parse_args()
    print(describe())  # how fast this machine runs Python now: bench.machine
    env = dict(os.environ)
    if args.bytecode == "written":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    samples = {name: Sample() for name, _, _ in COMMANDS}
    for _, argv, _ in COMMANDS:  # warms the file cache (and writes bytecode if written); not counted
        timed(argv, env)
    for number in range(args.rounds):
        shift = number % len(COMMANDS)
        for name, argv, _ in COMMANDS[shift:] + COMMANDS[:shift]:
            wall, cpu = timed(argv, env)
            samples[name].wall.append(wall)
            samples[name].cpu.append(cpu)
    print(f"{args.rounds} rounds, commands in turn, bytecode {args.bytecode}; seconds min / median / max")
    print(f"{'command':<32} {'wall s':>19} {'cpu s':>19}  goal  median/goal")
    goals = {name: goal for name, _, goal in COMMANDS}
    for name, sample in samples.items():
        ratio = statistics.median(sample.wall) / goals[name]
        figures = f"{spread(sample.wall)} {spread(sample.cpu)}  {goals[name]:4.1f}  {ratio:5.2f}"
        print(f"{name:<32} {figures}")


if __name__ == "__main__":
    main()
