"""The journey page's incrementality box in words and on its scale, from the incrementality the
API's own code (``api.routes.reports``) computes on sides whose sizes the test chooses."""

from __future__ import annotations

from api.routes.reports import _incrementality_out
from api.ui.incrementality_view import IncrementalityView, incrementality_view
from api.ui.results_view import INTERVAL_WIDTH
from measurement.incrementality import Incrementality, Side


def shown(treated: Side, control: Side, percent: float = 5.0) -> IncrementalityView:
    found = Incrementality("nudge", "main", percent, control=control, treated=treated)
    view = incrementality_view(_incrementality_out(found, 0.05), "95%")
    assert view is not None
    return view


def test_a_journey_whose_messages_work_and_one_whose_messages_hurt() -> None:
    works = shown(Side(19000, 3800), Side(1000, 150))
    assert works.verdict == "winner" and works.percent == "5%"
    assert works.sentence.startswith(
        "Customers who get the journey's messages convert better than the control group: +5.0 points"
    )
    hurts = shown(Side(19000, 1900), Side(1000, 150))
    assert hurts.verdict == "loser" and "convert worse than the control group: -5.0 points" in hurts.sentence


def test_inconclusive_says_how_many_more_the_smaller_side_needs() -> None:
    # docs/channels.md's example: 122 of 760 against 4 of 40, 485 a side for 80% power.
    view = shown(Side(760, 122), Side(40, 4))
    assert view.verdict == "inconclusive"
    assert "(95% interval -7.2 points to +12.7 points), p = 0.306: not significant yet" in view.sentence
    assert "485 customers a side and the control group has 40: about 445 more" in view.sentence
    assert "(some 8,900 more entries into the journey)" in view.sentence  # 445 at 5% of entries
    treated_fewer = shown(Side(40, 16), Side(60, 18), percent=60.0)
    assert "the treated side has 40" in treated_fewer.sentence and "entries" not in treated_fewer.sentence


def test_nothing_to_compare_and_no_policy() -> None:
    assert shown(Side(30, 0), Side(5, 0)).sentence.startswith("Nothing to compare with the control group")
    assert shown(Side(30, 3), Side(0, 0)).sentence.startswith("Nothing to compare")
    assert incrementality_view(None, "95%") is None


def test_both_sides_are_drawn_on_one_scale_that_holds_them() -> None:
    view = shown(Side(760, 122), Side(40, 4))
    for row in view.sides:
        assert 0 <= row.low_x <= row.rate_x <= row.high_x <= INTERVAL_WIDTH, row.side
    assert [row.side for row in view.sides] == ["treated", "control"]
    assert view.control_x == view.sides[1].rate_x
