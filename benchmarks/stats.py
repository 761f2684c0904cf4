"""How far the median of a few alternated pairs can be trusted, and whether it meets a target.

Single render ÷ transcode pairs of the 10.5 s clip range over ±10% on this shared machine, with
a long upper tail (another tenant's burst slows one side of one pair), so a mean and its standard
error would mislead. The median's interval from order statistics assumes nothing about the
noise's shape, only that the pairs are independent: the true median lies between the k-th
smallest and the k-th largest of n values with probability 1 − 2·P(Binomial(n, ½) ≤ k − 1).
With 11 pairs that is the 2nd to the 10th value (98.8%), with 20 the 6th to the 15th (95.9%).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb

LEVEL = 0.95  # what an interval must cover before it judges a target


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    coverage: float  # the probability that [low, high] holds the true median


def coverage(n: int, k: int) -> float:
    """The probability that the k-th smallest to the k-th largest of n values hold the median."""
    return 1.0 - 2.0 * sum(comb(n, i) for i in range(k)) / 2 ** n


def median_interval(values, level: float = LEVEL) -> Interval:
    """The narrowest order-statistic interval with at least `level` coverage. Fewer than six
    values have none (five give 93.8% at best): their whole range, with the coverage it has."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    k = 1
    while k < (n + 1) // 2 and coverage(n, k + 1) >= level:
        k += 1
    return Interval(xs[k - 1], xs[n - k], coverage(n, k))


def verdict(interval: Interval, target: float) -> str:
    """'meets' a ceiling when the whole interval is at or below it, 'misses' when the whole
    interval is above it, 'undecided' when the interval spans it (more pairs narrow it), and
    'not judged' when the interval covers less than LEVEL (fewer than six pairs)."""
    if interval.coverage < LEVEL:
        return "not judged"
    if interval.high <= target:
        return "meets"
    if interval.low > target:
        return "misses"
    return "undecided"
