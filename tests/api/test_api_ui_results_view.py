"""The journey page's results panel in words and on its scale, from split results computed by the
API's own code (``api.routes.reports``) on arms whose sizes the test chooses."""

from __future__ import annotations

from pathlib import Path

from api.routes.reports import _split_out
from api.schemas_reports import JourneyResultsOut, StepCountsOut
from api.ui.results_view import INTERVAL_WIDTH, SplitView, results_view
from engine.loader import compile_file
from measurement.journey_results import Arm, SplitResult

ONBOARDING = Path(__file__).resolve().parents[2] / "journeys" / "onboarding.yaml"
NOTHING = StepCountsOut(
    entered=0, sent=0, delivered=0, failed=0, skipped=0, opened=0, clicked=0, converted=0,
    unsubscribed=0, goal_revenue=0.0, attributed_purchases=0, attributed_revenue=0.0,
)  # fmt: skip


def shown(arms: dict[str, Arm]) -> SplitView:
    """The panel's view of a split of onboarding with ``arms``, their statistics by the API's code."""
    split = SplitResult("pick_offer", 10, ["discount", "free_shipping"], arms)
    results = JourneyResultsOut(
        journey="onboarding", version="v", goal="purchase_completed", attribution_window_days=7,
        alpha=0.05, totals=NOTHING, steps=[], splits=[_split_out(split, 0.05)],
    )  # fmt: skip
    [view] = results_view(compile_file(ONBOARDING), results).splits
    assert view.baseline == "control" and 0 < view.scale_top <= 1
    return view


def sentences(arms: dict[str, Arm]) -> dict[str, str]:
    return {a.arm.variant: a.sentence for a in shown(arms).arms}


def test_a_winner_a_loser_and_the_baseline_in_words() -> None:
    arms = {"discount": Arm(2000, 600), "free_shipping": Arm(2000, 320), "control": Arm(2000, 400)}
    said = sentences(arms)
    assert said["discount"].startswith("discount converts better than control: +10.0 points (95% interval")
    assert said["free_shipping"].startswith("free_shipping converts worse than control: -4.0 points")
    assert said["control"] == "The baseline the other arms are compared with."
    verdicts = {a.arm.variant: a.verdict for a in shown(arms).arms}
    assert verdicts == {"discount": "winner", "free_shipping": "loser", "control": "baseline"}


def test_inconclusive_says_how_many_more_customers_are_needed() -> None:
    said = sentences({"discount": Arm(35, 18), "free_shipping": Arm(38, 13), "control": Arm(7, 2)})
    # The answer docs/measurement.md shows for these arms: 71 per arm, 64 more than control's 7.
    assert "not significant yet; about 64 more customers per arm (71 each)" in said["discount"]
    nothing = sentences({"discount": Arm(5, 0), "free_shipping": Arm(5, 0), "control": Arm(5, 0)})
    assert nothing["discount"].startswith("Nothing to compare discount with control on yet")


def test_an_uplift_beside_a_control_that_converted_nobody_is_not_claimed() -> None:
    """4 of 7 against 0 of 1: the interval straddles zero as the test's p = 0.285 does."""
    said = sentences({"discount": Arm(7, 4), "free_shipping": Arm(7, 3), "control": Arm(1, 0)})
    assert said["discount"].startswith(
        "discount: +57.1 points against control (95% interval -28.4 points to +84.2 points), p = 0.285: "
        "not significant yet"
    )


def test_intervals_are_drawn_on_one_scale_that_holds_them_all() -> None:
    drawn = shown({"discount": Arm(35, 18), "free_shipping": Arm(38, 13), "control": Arm(7, 2)}).arms
    for a in drawn:
        assert 0 <= a.low_x <= a.rate_x <= a.high_x <= INTERVAL_WIDTH, a.arm.variant
    highest = max(a.high_x for a in drawn)
    assert highest > INTERVAL_WIDTH * 0.7  # the scale is not far wider than the widest interval
