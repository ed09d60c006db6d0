"""Progress up the tier ladder: from the member's own tier, whatever their points reach now."""

from __future__ import annotations

from engine.loyalty.program import TierProgress
from tests.support.loyalty_program import tiers_program as ladder  # bronze 100, silver 500, gold 1000


def test_without_a_tier_the_next_is_the_one_above_what_the_points_reach() -> None:
    assert ladder().progress(0) == TierProgress(qualifying=None, next="bronze", points_to_next=100)
    assert ladder().progress(600) == TierProgress(qualifying="silver", next="gold", points_to_next=400)
    assert ladder().progress(1500) == TierProgress(qualifying="gold", next=None, points_to_next=0)


def test_a_member_below_their_tier_has_the_tier_above_theirs_next() -> None:
    assert ladder().progress(0, "silver") == TierProgress(qualifying=None, next="gold", points_to_next=1000)
    assert ladder().progress(50, "gold") == TierProgress(qualifying=None, next=None, points_to_next=0)


def test_a_member_not_yet_raised_needs_no_more_points_for_the_next_tier() -> None:
    assert ladder().progress(700, "bronze") == TierProgress(
        qualifying="silver", next="silver", points_to_next=0
    )


def test_a_tier_the_program_does_not_have_counts_as_none() -> None:
    assert ladder().progress(600, "platinum") == ladder().progress(600)
