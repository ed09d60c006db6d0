"""Progress up the tier ladder: from the member's own tier, whatever their points reach now."""

from __future__ import annotations

from engine.loyalty.loader import validate_program_text
from engine.loyalty.program import Program, TierProgress

LADDER = """
program: ladder
tiers:
  qualify_on: window
  levels:
    - {name: bronze, threshold: 100}
    - {name: silver, threshold: 500}
    - {name: gold, threshold: 1200}
"""


def ladder() -> Program:
    loaded, errors = validate_program_text(LADDER, "loyalty.yaml")
    assert loaded is not None, errors
    return loaded


def test_without_a_tier_the_next_is_the_one_above_what_the_points_reach() -> None:
    assert ladder().progress(0) == TierProgress(qualifying=None, next="bronze", points_to_next=100)
    assert ladder().progress(600) == TierProgress(qualifying="silver", next="gold", points_to_next=600)
    assert ladder().progress(1500) == TierProgress(qualifying="gold", next=None, points_to_next=0)


def test_a_member_below_their_tier_has_the_tier_above_theirs_next() -> None:
    assert ladder().progress(0, "silver") == TierProgress(qualifying=None, next="gold", points_to_next=1200)
    assert ladder().progress(50, "gold") == TierProgress(qualifying=None, next=None, points_to_next=0)


def test_a_member_not_yet_raised_needs_no_more_points_for_the_next_tier() -> None:
    assert ladder().progress(700, "bronze") == TierProgress(
        qualifying="silver", next="silver", points_to_next=0
    )


def test_a_tier_the_program_does_not_have_counts_as_none() -> None:
    assert ladder().progress(600, "platinum") == ladder().progress(600)
