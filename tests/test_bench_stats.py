"""benchmarks.stats: the median's interval that `make bench` judges issue 19's targets by."""
from __future__ import annotations

import random
from math import comb

import pytest

from benchmarks.stats import Interval, coverage, median_interval, verdict


def brute_coverage(n: int, k: int) -> float:
    """P(k-th smallest ≤ median ≤ k-th largest): at least k of n fall on each side."""
    return sum(comb(n, i) for i in range(k, n - k + 1)) / 2 ** n


@pytest.mark.parametrize("n", [1, 2, 5, 6, 11, 20, 60])
def test_coverage_is_the_binomial_probability(n):
    for k in range(1, (n + 1) // 2 + 1):
        assert coverage(n, k) == pytest.approx(brute_coverage(n, k))


def test_the_interval_is_the_narrowest_with_95_percent():
    xs = list(range(100, 120))
    random.Random(7).shuffle(xs)
    got = median_interval(xs)
    assert (got.low, got.high) == (105, 114)  # the 6th and 15th of 20
    assert got.coverage == pytest.approx(0.9586, abs=1e-4)
    eleven = median_interval(range(11))
    assert (eleven.low, eleven.high) == (1, 9) and eleven.coverage == pytest.approx(1 - 24 / 2048)
    sixty = median_interval(range(60))
    assert sixty.coverage >= 0.95 > coverage(60, sixty.low + 2)


def test_too_few_values_give_their_whole_range_and_say_so():
    five = median_interval([3, 1, 2, 5, 4])
    assert (five.low, five.high) == (1, 5) and five.coverage == pytest.approx(0.9375)
    one = median_interval([1.2])
    assert (one.low, one.high, one.coverage) == (1.2, 1.2, 0.0)
    with pytest.raises(ValueError):
        median_interval([])


def test_the_interval_holds_the_true_median_as_often_as_it_says():
    """Drawn from a skewed distribution with a known median (exponential: ln 2), like the bench's tail."""
    rng = random.Random(1)
    trials, hits = 4000, 0
    for _ in range(trials):
        got = median_interval([rng.expovariate(1.0) for _ in range(11)])
        hits += got.low <= 0.693147 <= got.high
    assert abs(hits / trials - (1 - 24 / 2048)) < 0.01


def test_verdict():
    assert verdict(Interval(1.01, 1.049, 0.95), 1.05) == "meets"
    assert verdict(Interval(1.04, 1.06, 0.95), 1.05) == "undecided"
    assert verdict(Interval(1.051, 1.07, 0.95), 1.05) == "misses"
    # two pairs both under the target say little: a 50% interval does not judge
    assert verdict(median_interval([0.99, 1.04]), 1.05) == "not judged"
    assert verdict(median_interval([0.99, 1.04, 1.0, 1.01, 1.02, 1.03]), 1.05) == "meets"
