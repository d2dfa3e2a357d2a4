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
    """Count, mean, variance, max and min of numbers, kept in one pass (Welford's method) and mergeable, so each
    partition keeps one and ``RDD.stats`` merges them.

    Examples
    --------
    >>> stats = StatCounter([1, 2, 3, 4])
    >>> stats
    (count: 4, mean: 2.5, stdev: 1.118033988749895, max: 4, min: 1)
    >>> sc.parallelize([1, 2, 3, 4], 2).stats().asDict() == stats.asDict()
    True
    """

    def __init__(self, values: Optional[Iterable[float]] = None) -> None:
        self.n = 0
        self.mu = 0.0
        self.m2 = 0.0  # Sum of squared differences from the mean (Welford).
        self.maxValue = float("-inf")
        self.minValue = float("inf")
        for value in values or ():
            self.merge(value)

    def merge(self, value: float) -> "StatCounter":
        """Adds one number; returns this StatCounter.

        Examples
        --------
        >>> StatCounter([1, 2]).merge(6).mean()
        3.0
        """
        delta = value - self.mu
        self.n += 1
        self.mu += delta / self.n
        self.m2 += delta * (value - self.mu)
        self.maxValue = _maximum(self.maxValue, value)
        self.minValue = _minimum(self.minValue, value)
        return self

    def mergeStats(self, other: "StatCounter") -> "StatCounter":
        """Adds the numbers another StatCounter has seen; returns this StatCounter.

        Examples
        --------
        >>> left, right = StatCounter([1, 2]), StatCounter([3, 4])
        >>> merged = left.mergeStats(right)
        >>> merged is left, merged.count(), merged.mean(), merged.variance()
        (True, 4, 2.5, 1.25)
        """
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
        """A StatCounter of the same numbers, which later merges do not share.

        Examples
        --------
        >>> original = StatCounter([1, 2])
        >>> changed = original.copy().merge(3)
        >>> original.count(), changed.count()
        (2, 3)
        """
        clone = StatCounter()
        clone.n, clone.mu, clone.m2 = self.n, self.mu, self.m2
        clone.maxValue, clone.minValue = self.maxValue, self.minValue
        return clone

    def count(self) -> int:
        """How many numbers were merged.

        Examples
        --------
        >>> StatCounter([5, 5, 7]).count(), StatCounter().count()
        (3, 0)
        """
        return int(self.n)

    def mean(self) -> float:
        """The mean of the numbers (0.0 before any).

        Examples
        --------
        >>> StatCounter([1, 2, 3, 4]).mean()
        2.5
        """
        return self.mu  # A float (mu starts at 0.0), or an array for arrays of numbers.

    def sum(self) -> float:
        """The sum of the numbers (count times mean).

        Examples
        --------
        >>> StatCounter([1, 2, 3]).sum()
        6.0
        """
        return self.n * self.mu

    def min(self) -> float:
        """The smallest number (inf before any).

        Examples
        --------
        >>> StatCounter([3, 1, 2]).min(), StatCounter().min()
        (1, inf)
        """
        return self.minValue

    def max(self) -> float:
        """The largest number (-inf before any).

        Examples
        --------
        >>> StatCounter([3, 1, 2]).max(), StatCounter().max()
        (3, -inf)
        """
        return self.maxValue

    def variance(self) -> float:
        """The population variance (divided by the count); NaN before any number.

        Examples
        --------
        >>> StatCounter([1, 2, 3, 4]).variance(), StatCounter().variance()
        (1.25, nan)
        """
        return float("nan") if self.n == 0 else self.m2 / self.n

    def sampleVariance(self) -> float:
        """The sample variance (divided by the count minus one); NaN with fewer than two numbers.

        Examples
        --------
        >>> StatCounter([1, 2, 3, 4]).sampleVariance(), StatCounter([1]).sampleVariance()
        (1.6666666666666667, nan)
        """
        return float("nan") if self.n <= 1 else self.m2 / (self.n - 1)

    def stdev(self) -> float:
        """The population standard deviation (the square root of ``variance``).

        Examples
        --------
        >>> StatCounter([2, 4, 4, 4, 5, 5, 7, 9]).stdev()
        2.0
        """
        return _sqrt(self.variance())

    def sampleStdev(self) -> float:
        """The sample standard deviation (the square root of ``sampleVariance``).

        Examples
        --------
        >>> StatCounter([1, 2, 3, 4]).sampleStdev()
        1.2909944487358056
        """
        return _sqrt(self.sampleVariance())

    def asDict(self, sample: bool = False) -> dict:
        """count, mean, sum, min, max, stdev and variance. As in PySpark, stdev and variance are the sample ones
        unless ``sample=True`` is passed, which gives the population ones (PySpark's naming, kept as it is).

        Examples
        --------
        >>> StatCounter([1, 2, 3, 4]).asDict()  # doctest: +NORMALIZE_WHITESPACE
        {'count': 4, 'mean': 2.5, 'sum': 10.0, 'min': 1, 'max': 4, 'stdev': 1.2909944487358056,
         'variance': 1.6666666666666667}
        >>> StatCounter([1, 2, 3, 4]).asDict(sample=True)["variance"]
        1.25
        """
        return {
            "count": self.count(), "mean": self.mean(), "sum": self.sum(), "min": self.min(), "max": self.max(),
            "stdev": self.stdev() if sample else self.sampleStdev(),
            "variance": self.variance() if sample else self.sampleVariance(),
        }

    def __repr__(self) -> str:
        return "(count: %s, mean: %s, stdev: %s, max: %s, min: %s)" % (
            self.count(), self.mean(), self.stdev(), self.max(), self.min())
