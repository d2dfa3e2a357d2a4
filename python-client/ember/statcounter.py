"""StatCounter: count, mean, variance, min and max of numbers in one pass, mergeable across partitions."""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional


def _maximum(a: Any, b: Any) -> Any:
    try:
        return max(a, b)
    except ValueError:  # NumPy arrays: element by element (numpy is loaded, since the data holds arrays)
        import numpy
        return numpy.maximum(a, b)


def _minimum(a: Any, b: Any) -> Any:
    try:
        return min(a, b)
    except ValueError:
        import numpy
        return numpy.minimum(a, b)


def _sqrt(x: Any) -> Any:
    try:
        return math.sqrt(x)
    except TypeError:
        import numpy
        return numpy.sqrt(x)


class StatCounter:
    def __init__(self, values: Optional[Iterable[float]] = None) -> None:
        self.n = 0
        self.mu = 0.0
        self.m2 = 0.0  # Sum of squared differences from the mean (Welford).
        self.maxValue = float("-inf")
        self.minValue = float("inf")
        for value in values or ():
            self.merge(value)

    def merge(self, value: float) -> "StatCounter":
        delta = value - self.mu
        self.n += 1
        self.mu += delta / self.n
        self.m2 += delta * (value - self.mu)
        self.maxValue = _maximum(self.maxValue, value)
        self.minValue = _minimum(self.minValue, value)
        return self

    def mergeStats(self, other: "StatCounter") -> "StatCounter":
        if other is self:
            return self.mergeStats(other.copy())
        if other.n == 0:
            return self
        if self.n == 0:
            self.n, self.mu, self.m2 = other.n, other.mu, other.m2
            self.maxValue, self.minValue = other.maxValue, other.minValue
            return self
        delta = other.mu - self.mu
        total = self.n + other.n
        # Weighted means stay accurate when one side is much larger (as Spark's merge does).
        if other.n * 10 < self.n:
            self.mu = self.mu + (delta * other.n) / total
        elif self.n * 10 < other.n:
            self.mu = other.mu - (delta * self.n) / total
        else:
            self.mu = (self.mu * self.n + other.mu * other.n) / total
        self.m2 += other.m2 + (delta * delta * self.n * other.n) / total
        self.n = total
        self.maxValue = _maximum(self.maxValue, other.maxValue)
        self.minValue = _minimum(self.minValue, other.minValue)
        return self

    def copy(self) -> "StatCounter":
        clone = StatCounter()
        clone.n, clone.mu, clone.m2 = self.n, self.mu, self.m2
        clone.maxValue, clone.minValue = self.maxValue, self.minValue
        return clone

    def count(self) -> int:
        return int(self.n)

    def mean(self) -> float:
        return self.mu  # A float (mu starts at 0.0), or an array for arrays of numbers.

    def sum(self) -> float:
        return self.n * self.mu

    def min(self) -> float:
        return self.minValue

    def max(self) -> float:
        return self.maxValue

    def variance(self) -> float:
        return float("nan") if self.n == 0 else self.m2 / self.n

    def sampleVariance(self) -> float:
        return float("nan") if self.n <= 1 else self.m2 / (self.n - 1)

    def stdev(self) -> float:
        return _sqrt(self.variance())

    def sampleStdev(self) -> float:
        return _sqrt(self.sampleVariance())

    def asDict(self, sample: bool = False) -> dict:
        """count, mean, sum, min, max, stdev and variance. As in PySpark, stdev and variance are the sample ones
        unless ``sample=True`` is passed, which gives the population ones (PySpark's naming, kept as it is)."""
        return {
            "count": self.count(), "mean": self.mean(), "sum": self.sum(), "min": self.min(), "max": self.max(),
            "stdev": self.stdev() if sample else self.sampleStdev(),
            "variance": self.variance() if sample else self.sampleVariance(),
        }

    def __repr__(self) -> str:
        return "(count: %s, mean: %s, stdev: %s, max: %s, min: %s)" % (
            self.count(), self.mean(), self.stdev(), self.max(), self.min())
