"""A loyalty program with the tiers the points tests used to take from ``JOURNEYS_TIERS``."""

from __future__ import annotations

from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store import Store

TIERS_PROGRAM = """
program: tiers
tiers:
  qualify_on: lifetime
  levels:
    - {name: bronze, threshold: 100}
    - {name: silver, threshold: 500}
    - {name: gold, threshold: 1000}
"""


def tiers_program() -> Program:
    program, errors = validate_program_text(TIERS_PROGRAM, "tiers.yaml")
    assert program is not None, errors
    return program


async def deploy_tiers(store: Store) -> Program:
    """Make the bronze/silver/gold program (lifetime 100/500/1000) the active one."""
    program = tiers_program()
    await store.loyalty_programs.deploy(program, TIERS_PROGRAM)
    return program
