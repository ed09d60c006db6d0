"""What a simulation deploys, read from a journeys folder: the journey, its neighbours, the loyalty
program and the channel policy beside it. Only the engine: a command compiles (and reports) what it
simulates before it imports the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.channels.loader import load_policy_in
from engine.channels.policy import ChannelPolicy
from engine.loader import compile_file, load_directory
from engine.loyalty.loader import load_program_in
from engine.loyalty.program import Program
from engine.plan import Plan


def load_plans(file: Path, *, with_all: bool = False, also: Sequence[str] = ()) -> tuple[Plan, list[Plan]]:
    """The journey in ``file``, and the plans to deploy: it alone, or with every journey beside it
    (``with_all``) or with the named ones (``also``)."""
    main = compile_file(file)
    if not with_all and not also:
        return main, [main]
    neighbours = {plan.journey: plan for plan in load_directory(file.parent)}
    missing = [name for name in also if name not in neighbours]
    if missing:
        raise ValueError(f"no journey {', '.join(missing)} beside {file}")
    chosen = list(neighbours) if with_all else [main.journey, *also]
    plans = [main] + [neighbours[name] for name in dict.fromkeys(chosen) if name != main.journey]
    return main, plans


def load_program_beside(file: Path) -> Program | None:
    """The loyalty program of the folder a journey file is in (its ``loyalty.yaml``), if it has one."""
    return load_program_in(file.parent)


def load_policy_beside(file: Path) -> ChannelPolicy | None:
    """The channel policy of the folder a journey file is in (its ``channels.yaml``), if it has one."""
    return load_policy_in(file.parent)
