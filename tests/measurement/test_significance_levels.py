"""Every level strictly between 0 and 1 gives finite statistics, however close to 0 or 1: the
critical value comes from the tail, not from ``1 - alpha / 2`` (1.0 once alpha is below ~1e-16, no
quantile: ``compare(..., alpha=1e-17)`` raised, and GET /results answered 500)."""

from __future__ import annotations

import math

import pytest

from measurement.significance import (
    compare,
    critical_value,
    difference_interval,
    ratio_interval,
    sample_size_per_arm,
    wilson_interval,
)

TINY = [1e-17, 1e-100, 1e-300, 5e-324]
LEVELS = [*TINY, 1e-4, 0.05, 0.5, 0.999, 1 - 2**-53]


def test_critical_values_are_the_known_ones_and_grow_as_alpha_shrinks() -> None:
    assert critical_value(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert critical_value(0.01) == pytest.approx(2.575829, abs=1e-6)
    assert critical_value(1e-4) == pytest.approx(3.890592, abs=1e-6)
    assert critical_value(1e-17) == pytest.approx(8.574, abs=1e-3)  # P(|Z| > 8.574) = 1e-17
    values = [critical_value(alpha) for alpha in sorted(LEVELS)]
    assert values == sorted(values, reverse=True)
    assert all(math.isfinite(z) and z >= 0 for z in values)


@pytest.mark.parametrize("alpha", LEVELS)
def test_compare_is_finite_at_every_level(alpha: float) -> None:
    for counts in [(30, 100, 20, 100), (0, 100, 5, 100), (100, 100, 99, 100), (3, 4, 0, 0), (0, 0, 0, 0)]:
        found = compare(*counts, alpha=alpha)
        for interval in (found.absolute_interval, found.relative_interval):
            if interval is not None:
                assert math.isfinite(interval.low) and math.isfinite(interval.high)
                assert interval.low <= interval.high
        assert found.needed_per_arm is None or found.needed_per_arm > 0
    wilson = wilson_interval(30, 100, alpha=alpha)
    assert 0 <= wilson.low <= 0.3 <= wilson.high <= 1


def test_a_tinier_alpha_widens_every_interval_and_asks_for_more_customers() -> None:
    loose, strict = compare(30, 100, 20, 100, alpha=0.05), compare(30, 100, 20, 100, alpha=1e-17)
    assert loose.absolute_interval is not None and strict.absolute_interval is not None
    assert strict.absolute_interval.low < loose.absolute_interval.low
    assert strict.absolute_interval.high > loose.absolute_interval.high
    assert (strict.verdict, loose.verdict) == ("inconclusive", "inconclusive")
    assert strict.needed_per_arm is not None and loose.needed_per_arm is not None
    assert strict.needed_per_arm > 5 * loose.needed_per_arm
    narrow, wide = wilson_interval(30, 100, alpha=0.05), wilson_interval(30, 100, alpha=1e-17)
    assert wide.low < narrow.low and wide.high > narrow.high


def test_alpha_and_confidence_give_the_same_interval_where_both_can_be_written() -> None:
    for alpha in (0.2, 0.05, 1e-4, 1e-12):
        pairs = [
            (wilson_interval(7, 40, alpha=alpha), wilson_interval(7, 40, 1 - alpha)),
            (
                compare(7, 40, 12, 41, alpha=alpha).absolute_interval,
                difference_interval(7, 40, 12, 41, 1 - alpha),
            ),
        ]
        for given_alpha, given_confidence in pairs:
            assert given_alpha is not None and given_confidence is not None
            assert (given_alpha.low, given_alpha.high) == pytest.approx(
                (given_confidence.low, given_confidence.high)
            )


@pytest.mark.parametrize("confidence", [1 - 2**-53, 1e-300, 0.5])
def test_every_confidence_between_0_and_1_gives_an_interval(confidence: float) -> None:
    for interval in (
        wilson_interval(3, 10, confidence),
        difference_interval(3, 10, 5, 10, confidence),
        ratio_interval(3, 10, 5, 10, confidence),
    ):
        assert interval is not None and math.isfinite(interval.low) and math.isfinite(interval.high)


@pytest.mark.parametrize("alpha", TINY)
def test_sample_sizes_at_tiny_levels(alpha: float) -> None:
    needed, usual = sample_size_per_arm(0.10, 0.15, alpha=alpha), sample_size_per_arm(0.10, 0.15)
    assert needed is not None and usual is not None and needed > usual


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5, math.nan, math.inf])
def test_a_level_outside_0_to_1_is_refused_by_name(level: float) -> None:
    with pytest.raises(ValueError, match=r"^alpha must be between 0 and 1"):
        compare(1, 10, 2, 10, alpha=level)
    with pytest.raises(ValueError, match=r"^alpha must be between 0 and 1"):
        critical_value(level)
    with pytest.raises(ValueError, match=r"^confidence must be between 0 and 1"):
        wilson_interval(1, 10, level)
