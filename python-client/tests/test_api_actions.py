"""Actions against PySpark's semantics, each result computed again with plain Python."""

from __future__ import annotations

import heapq
import math
import operator
import random
import statistics
from collections import Counter
from functools import reduce
from typing import Any, Iterator

import pytest

from api_support import BIG, KEYS, MIXED, PAIRS, PARTS, UNICODE, grouped, multiset, slices
from ember import SparkContext

NUMBERS = [(i * 7919) % 1013 - 500 for i in range(400)]
FLOATS = [math.sin(i) * 1000 + i / 7 for i in range(500)]
WITH_BIG = NUMBERS + [BIG, -BIG, 2 ** 64 + 1, -(2 ** 65)]


# -- collecting ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_collect_and_collect_as_map(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(MIXED, n).collect() == MIXED
    # Later records win for repeated keys, as dict() of the collected list gives.
    assert sc.parallelize(PAIRS, n).collectAsMap() == dict(PAIRS)
    nested = [((i, ("ü", None)), [i, BIG]) for i in range(20)]
    assert sc.parallelize(nested, n).collectAsMap() == dict(nested)
    assert sc.parallelize([], n).collectAsMap() == {}


@pytest.mark.parametrize("n", PARTS)
def test_count(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(MIXED, n).count() == len(MIXED)
    assert sc.parallelize([None] * 13, n).count() == 13
    assert sc.parallelize([], n).count() == 0
    assert sc.parallelize(NUMBERS, n).filter(lambda x: x > 0).count() == sum(1 for x in NUMBERS if x > 0)


@pytest.mark.parametrize("n", PARTS)
def test_count_by_value(sc: SparkContext, n: int) -> None:
    data = MIXED * 3 + [None, "ü", "ü", BIG] + [i % 5 for i in range(40)]
    assert dict(sc.parallelize(data, n).countByValue()) == dict(Counter(data))
    assert dict(sc.parallelize([], n).countByValue()) == {}


@pytest.mark.parametrize("n", PARTS)
def test_count_by_key(sc: SparkContext, n: int) -> None:
    assert dict(sc.parallelize(PAIRS, n).countByKey()) == dict(Counter(k for k, _ in PAIRS))
    assert dict(sc.parallelize([], n).countByKey()) == {}


@pytest.mark.parametrize("n", PARTS)
def test_first_and_take(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.first() == MIXED[0]
    assert sc.parallelize([None, 1], n).first() is None
    for num in (0, 1, 2, len(MIXED) // 2, len(MIXED) - 1, len(MIXED), len(MIXED) + 10):
        assert rdd.take(num) == MIXED[:num]
    assert rdd.filter(lambda x: isinstance(x, str)).take(3) == [x for x in MIXED if isinstance(x, str)][:3]
    assert sc.parallelize([], n).take(3) == []


def test_first_of_empty_rdd_raises(sc: SparkContext) -> None:
    with pytest.raises(ValueError, match="RDD is empty"):
        sc.parallelize([], 3).first()
    with pytest.raises(ValueError, match="RDD is empty"):
        sc.parallelize([1, 2], 2).filter(lambda x: x > 5).first()


@pytest.mark.parametrize("n", PARTS)
def test_is_empty(sc: SparkContext, n: int) -> None:
    assert sc.parallelize([], n).isEmpty()
    assert not sc.parallelize([None], n).isEmpty()
    assert not sc.parallelize(MIXED, n).isEmpty()
    assert sc.parallelize(MIXED, n).filter(lambda x: False).isEmpty()
    assert not sc.parallelize(MIXED, n).filter(lambda x: x == "plain").isEmpty()
    assert sc.emptyRDD().isEmpty()


@pytest.mark.parametrize("n", PARTS)
def test_lookup(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(PAIRS, n)
    groups = grouped(PAIRS)
    for key in KEYS:
        assert rdd.lookup(key) == groups.get(key, [])  # in the RDD's order
    assert rdd.lookup("missing") == []
    # On a partitioned RDD (values then come from one partition; their order there is not specified).
    partitioned = rdd.partitionBy(4)
    reduced = rdd.reduceByKey(operator.add)
    for key in KEYS:
        assert sorted(partitioned.lookup(key)) == sorted(groups.get(key, []))
        assert reduced.lookup(key) == ([sum(groups[key])] if key in groups else [])


# -- ordering ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_take_ordered(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    for num in (0, 1, 5, len(WITH_BIG), len(WITH_BIG) + 3):
        assert rdd.takeOrdered(num) == sorted(WITH_BIG)[:num]
    assert rdd.takeOrdered(7, key=lambda x: -x) == sorted(WITH_BIG, key=lambda x: -x)[:7]
    assert rdd.takeOrdered(7, key=abs) == heapq.nsmallest(7, WITH_BIG, key=abs)
    words = sc.parallelize(UNICODE, n)
    assert words.takeOrdered(4) == sorted(UNICODE)[:4]
    assert words.takeOrdered(4, key=lambda w: (len(w), w)) == sorted(UNICODE, key=lambda w: (len(w), w))[:4]
    assert sc.parallelize([], n).takeOrdered(3) == []


@pytest.mark.parametrize("n", PARTS)
def test_top(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    for num in (0, 1, 5, len(WITH_BIG), len(WITH_BIG) + 3):
        assert rdd.top(num) == sorted(WITH_BIG, reverse=True)[:num]
    assert rdd.top(6, key=lambda x: -x) == sorted(WITH_BIG)[:6]
    assert rdd.top(6, key=abs) == heapq.nlargest(6, WITH_BIG, key=abs)
    nested = [(i % 4, ("ü" * (i % 3), -i)) for i in range(50)]
    assert sc.parallelize(nested, n).top(5) == sorted(nested, reverse=True)[:5]
    assert sc.parallelize(UNICODE, n).top(3, key=len) == heapq.nlargest(3, UNICODE, key=len)
    assert sc.parallelize([], n).top(3) == []


def test_take_ordered_rejects_negative_and_top_gives_nothing_as_in_pyspark(sc: SparkContext) -> None:
    with pytest.raises(ValueError):
        sc.parallelize([1, 2]).takeOrdered(-1)
    assert sc.parallelize([1, 2]).top(-1) == []  # PySpark's heapq.nlargest(-1, ...)
    with pytest.raises(ValueError, match="empty RDD"):
        sc.emptyRDD().top(3)


# -- takeSample --------------------------------------------------------------------------------------------------------

POPULATION = list(range(1000, 1300))


@pytest.mark.parametrize("n", PARTS)
def test_take_sample_without_replacement(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(POPULATION, n)
    for num in (1, 10, 150):
        sample = rdd.takeSample(False, num, seed=5)
        assert len(sample) == num
        assert len(set(sample)) == num  # no record twice
        assert set(sample) <= set(POPULATION)
        assert rdd.takeSample(False, num, seed=5) == sample  # reproducible with a seed
    # Asking for at least everything gives everything, shuffled.
    for num in (len(POPULATION), len(POPULATION) + 50):
        everything = rdd.takeSample(False, num, seed=9)
        assert sorted(everything) == POPULATION
    assert rdd.takeSample(False, 0, seed=1) == []
    assert sc.parallelize([], n).takeSample(False, 5, seed=1) == []


@pytest.mark.parametrize("n", PARTS)
def test_take_sample_with_replacement(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(POPULATION, n)
    for num in (1, 20, 500, 1000):
        sample = rdd.takeSample(True, num, seed=13)
        assert len(sample) == num
        assert set(sample) <= set(POPULATION)
        assert rdd.takeSample(True, num, seed=13) == sample
    assert len(set(rdd.takeSample(True, 1000, seed=2))) < 1000  # more than the population: records repeat
    assert sc.parallelize([], n).takeSample(True, 5, seed=1) == []
    assert sc.parallelize([None, "ü"], n).takeSample(True, 6, seed=3).count(None) + \
        sc.parallelize([None, "ü"], n).takeSample(True, 6, seed=3).count("ü") == 6


def test_take_sample_rejects_negative(sc: SparkContext) -> None:
    with pytest.raises(ValueError):
        sc.parallelize([1, 2, 3]).takeSample(False, -1)


# -- reductions --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_reduce(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(WITH_BIG, n).reduce(operator.add) == sum(WITH_BIG)
    assert sc.parallelize(WITH_BIG, n).reduce(max) == max(WITH_BIG)
    assert sc.parallelize(UNICODE, n).reduce(lambda a, b: a if len(a) >= len(b) else b) == reduce(
        lambda a, b: a if len(a) >= len(b) else b, UNICODE)
    assert sc.parallelize([None], n).reduce(lambda a, b: a) is None
    # Empty partitions among non-empty ones are skipped.
    assert sc.parallelize([5, BIG], 7).reduce(operator.add) == 5 + BIG


@pytest.mark.parametrize("n", PARTS)
def test_reduce_of_empty_rdd_raises(sc: SparkContext, n: int) -> None:
    with pytest.raises(ValueError, match=r"^Can not reduce\(\) empty RDD$"):
        sc.parallelize([], n).reduce(operator.add)
    with pytest.raises(ValueError, match=r"^Can not reduce\(\) empty RDD$"):
        sc.emptyRDD().reduce(operator.add)


@pytest.mark.parametrize("n", [1, 3, 7, 20])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_tree_reduce(sc: SparkContext, n: int, depth: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    assert rdd.treeReduce(operator.add, depth) == sum(WITH_BIG)
    assert rdd.treeReduce(min, depth) == min(WITH_BIG)
    with pytest.raises(ValueError):
        sc.parallelize([], n).treeReduce(operator.add, depth)


def test_tree_reduce_rejects_depth_zero(sc: SparkContext) -> None:
    with pytest.raises(ValueError):
        sc.parallelize([1, 2]).treeReduce(operator.add, 0)


@pytest.mark.parametrize("n", PARTS)
def test_fold(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(WITH_BIG, n).fold(0, operator.add) == sum(WITH_BIG)
    assert sc.parallelize([], n).fold(0, operator.add) == 0
    assert sc.parallelize(NUMBERS, n).fold(-BIG, max) == max(NUMBERS)
    assert sc.parallelize(UNICODE, n).fold("", lambda a, b: a + b) == "".join(
        "".join(part) for part in slices(UNICODE, n))


@pytest.mark.parametrize("n", PARTS)
def test_fold_op_may_modify_its_first_argument(sc: SparkContext, n: int) -> None:
    """PySpark: "op(t1, t2) is allowed to modify t1 and return it as its result value" -- each partition folds into
    its own copy of zeroValue."""
    def extend(acc: list, item: list) -> list:
        acc.extend(item)
        return acc

    data = [[x] for x in range(40)]
    result = sc.parallelize(data, n).fold([], extend)
    assert sorted(result) == list(range(40))


@pytest.mark.parametrize("n", PARTS)
def test_aggregate(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    assert rdd.aggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1),
                         lambda a, b: (a[0] + b[0], a[1] + b[1])) == (sum(WITH_BIG), len(WITH_BIG))

    def add_item(acc: list, x: Any) -> list:
        acc.append(x)  # allowed: both functions may modify and return their first argument
        return acc

    def merge(a: list, b: list) -> list:
        a.extend(b)
        return a

    assert Counter(map(repr, sc.parallelize(MIXED, n).aggregate([], add_item, merge))) == Counter(map(repr, MIXED))
    assert sc.parallelize([], n).aggregate((0, 0), lambda acc, x: acc, lambda a, b: a) == (0, 0)


@pytest.mark.parametrize("n", [1, 3, 7, 20])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_tree_aggregate(sc: SparkContext, n: int, depth: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    seq = lambda acc, x: (acc[0] + x, acc[1] + 1)  # noqa: E731
    comb = lambda a, b: (a[0] + b[0], a[1] + b[1])  # noqa: E731
    assert rdd.treeAggregate((0, 0), seq, comb, depth) == (sum(WITH_BIG), len(WITH_BIG))
    assert sc.parallelize([], n).treeAggregate((0, 0), seq, comb, depth) == (0, 0)
    assert sc.emptyRDD().treeAggregate((0, 0), seq, comb, depth) == (0, 0)


# -- numbers -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_sum_min_max(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(WITH_BIG, n)
    assert rdd.sum() == sum(WITH_BIG)
    assert rdd.min() == min(WITH_BIG)
    assert rdd.max() == max(WITH_BIG)
    assert rdd.max(key=abs) == max(WITH_BIG, key=abs)
    assert rdd.min(key=lambda x: (x % 97, x)) == min(WITH_BIG, key=lambda x: (x % 97, x))
    assert math.isclose(sc.parallelize(FLOATS, n).sum(), math.fsum(FLOATS), rel_tol=1e-9)
    words = sc.parallelize(UNICODE, n)
    assert words.max() == max(UNICODE)
    assert words.min() == min(UNICODE)
    assert words.max(key=len) == max(UNICODE, key=len)
    assert words.min(key=lambda w: (-len(w), w)) == min(UNICODE, key=lambda w: (-len(w), w))
    assert sc.parallelize([], n).sum() == 0
    with pytest.raises(ValueError):
        sc.parallelize([], n).max()
    with pytest.raises(ValueError):
        sc.parallelize([], n).min()


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("data", [NUMBERS, FLOATS, [2.5, -1.0, 7.25]], ids=["ints", "floats", "three"])
def test_statistics(sc: SparkContext, n: int, data: list) -> None:
    rdd = sc.parallelize(data, n)

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)

    assert close(rdd.mean(), statistics.fmean(data))
    assert close(rdd.variance(), statistics.pvariance(data))
    assert close(rdd.stdev(), statistics.pstdev(data))
    assert close(rdd.sampleVariance(), statistics.variance(data))
    assert close(rdd.sampleStdev(), statistics.stdev(data))
    stats = rdd.stats()
    assert stats.count() == len(data)
    assert close(stats.mean(), statistics.fmean(data))
    assert close(stats.sum(), math.fsum(data))
    assert stats.min() == min(data)
    assert stats.max() == max(data)
    assert close(stats.variance(), statistics.pvariance(data))
    assert close(stats.stdev(), statistics.pstdev(data))
    assert close(stats.sampleVariance(), statistics.variance(data))
    assert close(stats.sampleStdev(), statistics.stdev(data))


def test_statistics_of_one_record(sc: SparkContext) -> None:
    stats = sc.parallelize([BIG], 3).stats()
    assert stats.count() == 1
    assert math.isclose(stats.mean(), float(BIG))
    assert stats.variance() == 0.0
    assert math.isnan(stats.sampleVariance())
    assert math.isnan(sc.parallelize([4.0], 2).sampleStdev())


@pytest.mark.parametrize("n", PARTS)
def test_statistics_of_empty_rdd(sc: SparkContext, n: int) -> None:
    """PySpark's StatCounter starts at n=0, mu=0.0, max=-inf, min=inf; variance of nothing is NaN."""
    stats = sc.parallelize([], n).stats()
    assert stats.count() == 0
    assert stats.sum() == 0.0
    assert stats.max() == float("-inf")
    assert stats.min() == float("inf")
    assert math.isnan(stats.variance())
    assert math.isnan(stats.sampleVariance())
    assert math.isnan(sc.parallelize([], n).stdev())
    assert stats.mean() == 0.0
    assert sc.parallelize([], n).mean() == 0.0


# -- histogram ---------------------------------------------------------------------------------------------------------

def plain_histogram(data: list, edges: list) -> list[int]:
    """Counts per bucket [edges[i], edges[i+1]), the last bucket closed; None, NaN and values outside are skipped."""
    counts = [0] * (len(edges) - 1)
    for x in data:
        if x is None or (isinstance(x, float) and math.isnan(x)) or x < edges[0] or x > edges[-1]:
            continue
        for i in range(len(counts)):
            if edges[i] <= x < edges[i + 1] or (i == len(counts) - 1 and x == edges[-1]):
                counts[i] += 1
                break
    return counts


def pyspark_even_edges(low: Any, high: Any, buckets: int) -> list:
    """PySpark's bucket edges for histogram(int): integer steps when they divide the range exactly."""
    inc = int((high - low) / buckets)
    if inc * buckets != high - low:
        inc = (high - low) * 1.0 / buckets
    edges = [i * inc + low for i in range(buckets)]
    edges.append(high)
    return edges


HIST_INTS = [(i * 37) % 101 for i in range(500)]  # 0..100
HIST_FLOATS = [x / 3 for x in range(-30, 61)] + [None, float("nan")]


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("buckets", [1, 2, 8, 10, 33])
def test_histogram_even_buckets(sc: SparkContext, n: int, buckets: int) -> None:
    edges, counts = sc.parallelize(HIST_INTS, n).histogram(buckets)
    expected_edges = pyspark_even_edges(min(HIST_INTS), max(HIST_INTS), buckets) if buckets > 1 else [
        min(HIST_INTS), max(HIST_INTS)]
    assert len(edges) == len(expected_edges)
    assert all(math.isclose(a, b) for a, b in zip(edges, expected_edges))
    assert counts == plain_histogram(HIST_INTS, expected_edges)
    assert sum(counts) == len(HIST_INTS)
    # None and NaN are ignored.
    f_edges, f_counts = sc.parallelize(HIST_FLOATS, n).histogram(buckets)
    numbers = [x for x in HIST_FLOATS if x is not None and not math.isnan(x)]
    assert f_edges[0] == min(numbers) and f_edges[-1] == max(numbers)
    assert f_counts == plain_histogram(numbers, f_edges)


@pytest.mark.parametrize("n", PARTS)
def test_histogram_explicit_buckets(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(HIST_INTS + [None, -5, 1000], n)
    for edges in ([0, 10, 20, 50, 100], [0, 25, 50, 75, 100], [5, 6], [-10, 0, 0.5, 99.5, 101], [20, 40, 60]):
        result_edges, counts = rdd.histogram(edges)
        assert result_edges == edges
        assert counts == plain_histogram(HIST_INTS + [None, -5, 1000], edges)
    huge = [0, 1, 2 ** 64, BIG - 1, BIG, 3 * BIG, -BIG]
    edges, counts = sc.parallelize(huge, n).histogram([0, 2 ** 64, BIG, 2 * BIG, 4 * BIG])
    assert counts == plain_histogram(huge, [0, 2 ** 64, BIG, 2 * BIG, 4 * BIG])
    # Buckets of any ordered type (strings do not support '-').
    words = ["apple", "banana", "kiwi", "zebra", "Ärger", "ü"]
    edges, counts = sc.parallelize(words, n).histogram(["a", "m", "z", "ü"])
    assert counts == plain_histogram(words, ["a", "m", "z", "ü"])


def test_histogram_docstring_examples(sc: SparkContext) -> None:
    """The examples of PySpark's RDD.histogram docstring; the buckets come back as they were given."""
    rdd = sc.parallelize(range(51))
    data = list(range(51))
    assert rdd.histogram(2) == ([0, 25, 50], plain_histogram(data, [0, 25, 50]))
    assert rdd.histogram([0, 5, 25, 50]) == ([0, 5, 25, 50], plain_histogram(data, [0, 5, 25, 50]))
    assert rdd.histogram([0, 15, 30, 45, 60]) == ([0, 15, 30, 45, 60], plain_histogram(data, [0, 15, 30, 45, 60]))
    words = ["ab", "ac", "b", "bd", "ef"]
    assert sc.parallelize(words).histogram(("a", "b", "c")) == (("a", "b", "c"),
                                                                 plain_histogram(words, ["a", "b", "c"]))


def test_histogram_edge_cases(sc: SparkContext) -> None:
    assert sc.parallelize([7, 7, 7], 2).histogram(4) == ([7, 7], [3])
    with pytest.raises(ValueError):
        sc.parallelize([], 2).histogram(3)
    with pytest.raises(ValueError):
        sc.parallelize([None, float("nan")], 2).histogram(3)
    with pytest.raises(ValueError):
        sc.parallelize([1, 2], 2).histogram(0)
    with pytest.raises(ValueError):
        sc.parallelize([1, 2], 2).histogram([3, 1, 2])
    with pytest.raises(ValueError):
        sc.parallelize([1, 2], 2).histogram([1])
    with pytest.raises(ValueError):
        sc.parallelize([1, 2], 2).histogram([1, 1, 2])
    with pytest.raises(ValueError):
        sc.parallelize([1, 2], 2).histogram([1, None])
    with pytest.raises(TypeError):
        sc.parallelize([1, 2], 2).histogram("10")


# -- side effects ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_foreach(sc: SparkContext, n: int) -> None:
    total = sc.accumulator(0)
    seen = sc.accumulator(0)

    def visit(x: int) -> None:
        total.add(x)
        seen.add(1)

    assert sc.parallelize(WITH_BIG, n).foreach(visit) is None
    assert total.value == sum(WITH_BIG)
    assert seen.value == len(WITH_BIG)
    sc.parallelize([], n).foreach(visit)
    assert seen.value == len(WITH_BIG)


@pytest.mark.parametrize("n", PARTS)
def test_foreach_partition(sc: SparkContext, n: int) -> None:
    calls = sc.accumulator(0)
    sizes = sc.accumulator(0)
    sums = sc.accumulator(0)

    def visit(iterator: Iterator[int]) -> None:
        items = list(iterator)
        calls.add(1)
        sizes.add(len(items))
        sums.add(sum(items) * len(items))

    assert sc.parallelize(NUMBERS[:10], n).foreachPartition(visit) is None
    assert calls.value == n  # called for every partition, empty ones too
    assert sizes.value == 10
    assert sums.value == sum(sum(p) * len(p) for p in slices(NUMBERS[:10], n))


def test_many_actions_on_one_rdd_agree(sc: SparkContext) -> None:
    rng = random.Random(4)
    data = [rng.randint(-BIG, BIG) for _ in range(300)]
    rdd = sc.parallelize(data, 5)
    assert rdd.sum() == sum(data)
    assert rdd.max() == max(data)
    assert rdd.min() == min(data)
    assert rdd.top(3) == sorted(data, reverse=True)[:3]
    assert rdd.takeOrdered(3) == sorted(data)[:3]
    assert rdd.count() == len(data)
    assert multiset(rdd.distinct().collect()) == multiset(set(data))
