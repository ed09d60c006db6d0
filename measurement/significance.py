"""The statistics of an A/B split: pure functions, no store.

- ``wilson_interval``: the Wilson score interval of one proportion (no continuity correction);
- ``z_test``: the two-proportion z-test with the pooled proportion under H0 (two-sided);
- ``difference_interval``: Newcombe's hybrid score interval of p1 - p2 (his method 10, built from
  the two arms' Wilson intervals), which stays sensible where the Wald interval collapses: an arm
  whose rate is 0 or 1, or a handful of customers;
- ``ratio_interval``: the interval of p1 / p2 on the log scale (Katz), so of the relative uplift;
- ``sample_size_per_arm``: customers per arm for a two-sided test at ``alpha`` to have ``power`` at
  the proportions given (the standard normal-approximation formula, no continuity correction):
  n = (z(1-a/2) * sqrt(2 p(1-p)) + z(power) * sqrt(p1(1-p1) + p2(1-p2)))^2 / (p1 - p2)^2,
  p = (p1 + p2) / 2;
- ``compare``: all of it for a variant against its baseline, with a verdict.

Each takes any level strictly between 0 and 1. The critical value of a two-sided level is taken from
its tail (``alpha / 2``), never from ``1 - alpha / 2``, which rounds to 1.0 (no quantile) once alpha
is below about 1e-16; ``compare`` and ``wilson_interval(..., alpha=)`` take alpha itself for the
same reason: ``1 - 1e-17`` is 1.0, no confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Verdict = Literal["winner", "loser", "inconclusive"]
DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8
_NORMAL = NormalDist()
_SMALLEST = math.ulp(0.0)  # the smallest positive float


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float  # two-sided
    pooled: float  # the pooled proportion under H0


@dataclass(frozen=True)
class Comparison:
    """A variant (1) against its baseline (2)."""

    rate: float
    baseline_rate: float
    absolute_uplift: float  # p1 - p2
    absolute_interval: Interval | None
    relative_uplift: float | None  # p1 / p2 - 1; None when the baseline converted nobody
    relative_interval: Interval | None
    z: float | None
    p_value: float | None
    verdict: Verdict
    # When inconclusive: customers per arm the test needs for ``power`` at the observed effect, and
    # how many more than the smaller arm has now. None when significant, or when no effect was seen.
    needed_per_arm: int | None
    more_needed_per_arm: int | None


def _check(successes: int, trials: int) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")


def _check_level(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


def quantile(probability: float) -> float:
    """The standard normal quantile."""
    return _NORMAL.inv_cdf(probability)


def critical_value(alpha: float) -> float:
    """z with P(|Z| > z) = ``alpha``: the two-sided critical value, from the lower tail, so defined
    for any alpha in (0, 1) (a tail below the smallest float is taken as that float)."""
    _check_level("alpha", alpha)
    return _z(alpha)


def _z(alpha: float) -> float:
    return max(0.0, -quantile(min(0.5, max(alpha / 2, _SMALLEST))))


def _z_at(confidence: float) -> float:
    _check_level("confidence", confidence)
    return _z(1 - confidence)  # exact for a confidence of at least 0.5; below, 1.0 at worst (z = 0)


def wilson_interval(
    successes: int, trials: int, confidence: float = 0.95, *, alpha: float | None = None
) -> Interval:
    """The Wilson interval at ``confidence``, or at ``1 - alpha`` when ``alpha`` is given (for a
    level too close to 1 to be written as a confidence)."""
    _check(successes, trials)
    return _wilson(successes, trials, _z_at(confidence) if alpha is None else critical_value(alpha))


def _wilson(successes: int, trials: int, z: float) -> Interval:
    if trials == 0:
        return Interval(0.0, 1.0)
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def z_test(x1: int, n1: int, x2: int, n2: int) -> ZTest | None:
    """The pooled two-proportion z-test of p1 = p2; None when it is undefined (an empty arm, or
    every customer of both arms converted, or none did)."""
    _check(x1, n1)
    _check(x2, n2)
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x1 / n1 - x2 / n2) / se
    return ZTest(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)), pooled=pooled)


def difference_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> Interval | None:
    """Newcombe (1998), "Interval estimation for the difference between independent proportions:
    comparison of eleven methods", Statistics in Medicine 17:873-890, method 10: with (l1, u1) and
    (l2, u2) the Wilson intervals of each arm, p1 - p2 - sqrt((p1 - l1)^2 + (u2 - p2)^2) to
    p1 - p2 + sqrt((u1 - p1)^2 + (p2 - l2)^2). None when an arm has no customers."""
    _check(x1, n1)
    _check(x2, n2)
    return _difference(x1, n1, x2, n2, _z_at(confidence))


def _difference(x1: int, n1: int, x2: int, n2: int, z: float) -> Interval | None:
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    first, second = _wilson(x1, n1, z), _wilson(x2, n2, z)
    below = math.hypot(p1 - first.low, second.high - p2)
    above = math.hypot(first.high - p1, p2 - second.low)
    return Interval(max(-1.0, p1 - p2 - below), min(1.0, p1 - p2 + above))


def ratio_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> Interval | None:
    """The interval of p1 / p2 (exp of log ratio ± z·se); None when either arm converted nobody."""
    _check(x1, n1)
    _check(x2, n2)
    return _ratio(x1, n1, x2, n2, _z_at(confidence))


def _ratio(x1: int, n1: int, x2: int, n2: int, z: float) -> Interval | None:
    if x1 == 0 or x2 == 0:
        return None
    log_ratio = math.log((x1 / n1) / (x2 / n2))
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    return Interval(math.exp(log_ratio - z * se), math.exp(log_ratio + z * se))


def sample_size_per_arm(
    p1: float, p2: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> int | None:
    """Customers per arm (rounded up); None when p1 == p2 (no effect to detect)."""
    _check_level("alpha", alpha)
    _check_level("power", power)
    for p in (p1, p2):
        if not 0 <= p <= 1:
            raise ValueError(f"proportions must be between 0 and 1, got {p}")
    if p1 == p2:
        return None
    mean = (p1 + p2) / 2
    z_alpha = critical_value(alpha)
    z_power = quantile(power)
    root = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    # A hair below an integer is that integer (the floating point of the formula, not a customer).
    return math.ceil(root * root / ((p1 - p2) ** 2) - 1e-9)


def compare(
    x1: int, n1: int, x2: int, n2: int, *, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> Comparison:
    """Variant (x1 of n1 converted) against its baseline (x2 of n2): intervals at ``1 - alpha``."""
    z = critical_value(alpha)
    rate = x1 / n1 if n1 else 0.0
    baseline = x2 / n2 if n2 else 0.0
    test = z_test(x1, n1, x2, n2)
    ratio = _ratio(x1, n1, x2, n2, z)
    significant = test is not None and test.p_value < alpha
    verdict: Verdict = "inconclusive"
    if significant:
        verdict = "winner" if rate > baseline else "loser"
    needed = more = None
    if not significant and n1 and n2:
        needed = sample_size_per_arm(rate, baseline, alpha, power)
        more = None if needed is None else max(0, needed - min(n1, n2))
    return Comparison(
        rate=rate,
        baseline_rate=baseline,
        absolute_uplift=rate - baseline,
        absolute_interval=_difference(x1, n1, x2, n2, z),
        relative_uplift=rate / baseline - 1 if baseline else None,
        relative_interval=None if ratio is None else Interval(ratio.low - 1, ratio.high - 1),
        z=None if test is None else test.z,
        p_value=None if test is None else test.p_value,
        verdict=verdict,
        needed_per_arm=needed,
        more_needed_per_arm=more,
    )
