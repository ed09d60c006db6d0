"""The program the rewards tests redeem from, and helpers to give customers points and tiers."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program
from store import Store

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

PROGRAM_TEXT = """
program: rewards_test
tiers:
  qualify_on: lifetime
  levels:
    - {name: member, threshold: 0}
    - {name: gold, threshold: 5000, perks: [lounge, early_access]}
rewards:
  - {id: coffee, name: Free coffee, cost: 100, per_customer: 2, valid_for: 30d, prefix: COFFEE}
  - {id: tote, name: Tote bag, cost: 100, stock: 1}
  - {id: many, name: Sticker, cost: 1}
  - {id: dinner, name: Members' dinner, cost: 1000, tier: gold, vouchers: pool, valid_for: 60d}
  - {id: ticket, name: Ticket, cost: 10, vouchers: pool}
"""


def program() -> Program:
    found, errors = validate_program_text(PROGRAM_TEXT, "loyalty.yaml")
    assert found is not None, errors
    return found


async def deployed(store: Store) -> Program:
    await store.loyalty_programs.deploy(program(), PROGRAM_TEXT)
    active = await store.loyalty_programs.active()
    assert active is not None
    return active


async def give(store: Store, customer_id: str, points: int, key: str = "grant") -> None:
    """``points`` as an available lot (and the tier they reach), as a journey's award gives them."""
    await store.points.award(f"{key}/{customer_id}", customer_id, points, "Test grant", at=T0)
