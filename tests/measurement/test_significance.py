"""The split statistics against worked examples from published references."""

from __future__ import annotations

import pytest

from measurement.significance import (
    compare,
    difference_interval,
    ratio_interval,
    sample_size_per_arm,
    wilson_interval,
    z_test,
)


def test_the_pooled_z_test_matches_the_binge_drinking_example() -> None:
    """Moore & McCabe, *Introduction to the Practice of Statistics*, Example 8.8 (continued on p. 592),
    as worked in New Mexico Tech's Math 283 lecture 19 notes ("Comparing two proportions"): of 7,180
    college men 1,630 were frequent binge drinkers, of 9,916 women 1,684; pooled p = 0.194,
    z = 9.34, P-value ~ 0: reject H0, men binge-drink more often."""
    test = z_test(1630, 7180, 1684, 9916)
    assert test is not None
    assert round(test.pooled, 3) == 0.194
    assert round(test.z, 2) == 9.34
    assert test.p_value < 1e-15
    assert compare(1630, 7180, 1684, 9916).verdict == "winner"
    assert compare(1684, 9916, 1630, 7180).verdict == "loser"


def test_the_pooled_z_test_matches_a_worked_solution_to_seven_digits() -> None:
    """A worked solution (homeworksource.com/p/1008622, "Find the test statistic z"): 140 of 200
    against 255 of 340; pooled p = 0.7314815, standard error 0.03949401, z = -1.266015 (its p-value,
    0.103, reads z on a t distribution with 538 degrees of freedom; ours is the normal's, 0.2055
    two-sided): inconclusive at 0.05."""
    test = z_test(140, 200, 255, 340)
    assert test is not None
    assert test.pooled == pytest.approx(0.7314815, abs=5e-8)
    assert (140 / 200 - 255 / 340) / test.z == pytest.approx(0.03949401, abs=5e-9)
    assert test.z == pytest.approx(-1.266015, abs=5e-7)
    assert round(test.p_value, 4) == 0.2055
    result = compare(140, 200, 255, 340)
    assert result.verdict == "inconclusive"
    assert result.needed_per_arm is not None and result.more_needed_per_arm is not None
    assert result.more_needed_per_arm == result.needed_per_arm - 200


def test_wilson_intervals_match_newcombe() -> None:
    """Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
    methods", Statistics in Medicine 17:857-872, the score method without continuity correction:
    81/263 gives 0.2553 to 0.3662, 15/148 gives 0.0624 to 0.1605, 0/20 gives 0 to 0.1611."""
    for (x, n), (low, high) in {
        (81, 263): (0.2553, 0.3662),
        (15, 148): (0.0624, 0.1605),
        (0, 20): (0.0, 0.1611),
    }.items():
        interval = wilson_interval(x, n)
        assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_the_sample_size_formula() -> None:
    """The usual normal-approximation sample size per arm (e.g. Fleiss, Levin & Paik, *Statistical
    Methods for Rates and Proportions*, ch. 4, without continuity correction): 10% against 15% at a
    two-sided 0.05 with 80% power needs 686 per arm (685.6 rounded up)."""
    assert sample_size_per_arm(0.10, 0.15) == 686
    assert sample_size_per_arm(0.15, 0.10) == 686
    assert sample_size_per_arm(0.2, 0.2) is None
    stricter = sample_size_per_arm(0.10, 0.15, alpha=0.01, power=0.9)
    assert stricter is not None and stricter > 686


# Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (the score
# interval without continuity correction, from the two Wilson intervals), 95%, to four decimals.
NEWCOMBE_TABLE_II = {
    (56, 70, 48, 80): (0.0524, 0.3339),  # (a)
    (9, 10, 3, 10): (0.1705, 0.8090),  # (b)
    (6, 7, 2, 7): (0.0582, 0.8062),  # (c)
    (5, 56, 0, 29): (-0.0381, 0.1926),  # (d)
    (0, 10, 0, 20): (-0.1611, 0.2775),  # (e)
    (0, 10, 0, 10): (-0.2775, 0.2775),  # (f)
    (10, 10, 0, 20): (0.6791, 1.0),  # (g)
    (10, 10, 0, 10): (0.6075, 1.0),  # (h)
}


@pytest.mark.parametrize(("counts", "expected"), NEWCOMBE_TABLE_II.items(), ids=str)
def test_uplift_intervals_match_newcombes_table(
    counts: tuple[int, int, int, int], expected: tuple[float, float]
) -> None:
    interval = difference_interval(*counts)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == expected


def test_an_arm_at_zero_does_not_shrink_the_uplift_interval_to_one_side() -> None:
    """4 of 7 against a control of 0 of 1: the Wald interval (+20.5 to +93.8 points, the control's
    standard error taken as 0) claimed an effect the z-test (p = 0.285) does not see; Newcombe's
    interval straddles zero like the test."""
    result = compare(4, 7, 0, 1)
    assert result.verdict == "inconclusive" and result.p_value is not None
    assert round(result.p_value, 3) == 0.285
    assert result.absolute_interval is not None
    assert (round(result.absolute_interval.low, 4), round(result.absolute_interval.high, 4)) == (
        -0.2845,
        0.8418,
    )


def test_uplift_intervals_hold_the_observed_uplift_and_stay_in_range() -> None:
    for n1 in range(1, 9):
        for n2 in range(1, 9):
            for x1 in range(n1 + 1):
                for x2 in range(n2 + 1):
                    interval = difference_interval(x1, n1, x2, n2)
                    assert interval is not None
                    assert -1 <= interval.low <= x1 / n1 - x2 / n2 <= interval.high <= 1, (x1, n1, x2, n2)
    assert difference_interval(3, 10, 0, 0) is None
    wider = difference_interval(56, 70, 48, 80, confidence=0.99)
    assert wider is not None and wider.low < 0.0524 and wider.high > 0.3339


def test_relative_uplift_intervals() -> None:
    diff = difference_interval(1630, 7180, 1684, 9916)
    assert diff is not None
    # Large arms: Newcombe's interval is all but the normal one (0.0450 to 0.0694 at 95%).
    assert (round(diff.low, 3), round(diff.high, 3)) == (0.045, 0.069)
    ratio = ratio_interval(1630, 7180, 1684, 9916)
    assert ratio is not None and ratio.low < (1630 / 7180) / (1684 / 9916) < ratio.high
    result = compare(1630, 7180, 1684, 9916)
    assert result.relative_uplift == pytest.approx((1630 / 7180) / (1684 / 9916) - 1)
    assert result.relative_interval is not None
    assert result.relative_interval.low == pytest.approx(ratio.low - 1)
    assert result.needed_per_arm is None and result.more_needed_per_arm is None


def test_edges() -> None:
    assert z_test(0, 0, 5, 10) is None
    assert z_test(0, 10, 0, 10) is None  # nobody converted: nothing to test
    assert wilson_interval(0, 0).low == 0.0
    empty = compare(0, 0, 3, 10)
    assert empty.verdict == "inconclusive" and empty.needed_per_arm is None
    nothing = compare(0, 50, 0, 50)
    assert nothing.verdict == "inconclusive" and nothing.relative_uplift is None
    assert nothing.needed_per_arm is None  # no effect seen: no sample size detects it
    with pytest.raises(ValueError):
        z_test(11, 10, 1, 10)
    with pytest.raises(ValueError):
        compare(1, 10, 1, 10, alpha=1.5)
