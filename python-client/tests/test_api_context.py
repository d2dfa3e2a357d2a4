"""SparkContext's own API against PySpark's semantics: parallelize, range, emptyRDD, union, settings, and misuse that
must fail on the driver."""

from __future__ import annotations

import operator
import pickle

import pytest

from api_support import BIG, MIXED, PARTS, UNICODE, by_repr, slices
from conftest import TEST_MASTER, TEST_PARALLELISM
from ember import SparkConf, SparkContext


# -- parallelize ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_parallelize_keeps_records_order_and_slices(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.getNumPartitions() == n
    assert rdd.collect() == MIXED
    assert rdd.glom().collect() == slices(MIXED, n)
    assert rdd.count() == len(MIXED)


@pytest.mark.parametrize("n", PARTS)
def test_parallelize_any_iterable(sc: SparkContext, n: int) -> None:
    generated = (s.upper() for s in UNICODE)
    assert sc.parallelize(generated, n).collect() == [s.upper() for s in UNICODE]
    assert sc.parallelize(tuple(MIXED), n).collect() == MIXED
    nested = [[1, [2, (3, None)]], {"k": ("v", BIG)}, {1, 2}]
    assert sc.parallelize(nested, n).collect() == nested


@pytest.mark.parametrize("n", PARTS)
def test_parallelize_empty_and_sparse(sc: SparkContext, n: int) -> None:
    empty = sc.parallelize([], n)
    assert empty.getNumPartitions() == n
    assert empty.collect() == []
    assert empty.glom().collect() == [[]] * n
    few = [None, "ü"]
    assert sc.parallelize(few, n).glom().collect() == slices(few, n)


def test_parallelize_default_slices(sc: SparkContext) -> None:
    rdd = sc.parallelize(UNICODE)
    assert rdd.getNumPartitions() == sc.defaultParallelism
    assert rdd.glom().collect() == slices(UNICODE, sc.defaultParallelism)


# -- range ---------------------------------------------------------------------------------------------------------

RANGES = [(25,), (5, 50, 3), (50, 5, -4), (0,), (7, 7), (BIG, BIG + 40, 7), (-BIG, -BIG - 30, -9)]


def pyspark_range_slices(r: range, n: int) -> list[list[int]]:
    """PySpark's range partitioning: partition i starts at start + int(i * size / n) * step."""
    size = len(r)
    starts = [r.start + int(i * size / n) * r.step for i in range(n + 1)]
    return [list(range(starts[i], starts[i + 1], r.step)) for i in range(n)]


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("args", RANGES, ids=repr)
def test_range(sc: SparkContext, n: int, args: tuple) -> None:
    expected = range(*args)
    rdd = sc.range(*args, numSlices=n)
    assert rdd.getNumPartitions() == n
    assert rdd.glom().collect() == pyspark_range_slices(expected, n)
    assert rdd.collect() == list(expected)
    assert rdd.map(lambda x: x * 2).sum() == sum(x * 2 for x in expected)


def test_range_default_slices(sc: SparkContext) -> None:
    rdd = sc.range(10)
    assert rdd.getNumPartitions() == sc.defaultParallelism
    assert rdd.collect() == list(range(10))
    assert sc.range(2, 11, 4).collect() == list(range(2, 11, 4))


# -- emptyRDD and union --------------------------------------------------------------------------------------------

def test_empty_rdd(sc: SparkContext) -> None:
    empty = sc.emptyRDD()
    assert empty.getNumPartitions() == 0
    assert empty.collect() == []
    assert empty.glom().collect() == []
    assert empty.count() == 0
    assert empty.sum() == 0
    assert empty.isEmpty()
    assert empty.take(5) == []
    assert empty.fold(0, operator.add) == 0
    assert empty.aggregate((0, 0), lambda a, x: (a[0] + x, a[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1])) \
        == (0, 0)
    assert empty.map(lambda x: x + 1).filter(bool).collect() == []
    assert empty.union(sc.parallelize([None, "ü"], 2)).collect() == [None, "ü"]
    with pytest.raises(ValueError):
        empty.reduce(operator.add)
    with pytest.raises(ValueError):
        empty.first()


def test_shuffles_of_empty_rdd(sc: SparkContext) -> None:
    """With no partitions, the default number of reduce partitions is 0: the shuffle is empty, not an error."""
    empty = sc.emptyRDD()
    assert empty.sortByKey().collect() == []
    assert empty.distinct().collect() == []
    assert empty.map(lambda x: (x, 1)).reduceByKey(operator.add).collect() == []
    assert empty.map(lambda x: (x, 1)).groupByKey().collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_union(sc: SparkContext, n: int) -> None:
    a = sc.parallelize(MIXED, n)
    b = sc.parallelize(UNICODE, 2)
    c = sc.range(BIG, BIG + 5, numSlices=1)
    union = sc.union([a, b, c])
    assert union.getNumPartitions() == n + 2 + 1
    assert union.collect() == MIXED + UNICODE + list(range(BIG, BIG + 5))
    assert union.glom().collect() == slices(MIXED, n) + slices(UNICODE, 2) + [list(range(BIG, BIG + 5))]
    assert a.union(b).collect() == MIXED + UNICODE
    assert (a + b).collect() == MIXED + UNICODE
    assert a.union(a).collect() == MIXED + MIXED
    assert sc.union([a]).collect() == MIXED
    assert sc.union([sc.emptyRDD(), a, sc.parallelize([], 3)]).collect() == MIXED
    # Unions of transformed and shuffled parents.
    mapped = a.map(repr)
    reduced = sc.parallelize([(k % 3, k) for k in range(30)], n).reduceByKey(operator.add)
    together = mapped.union(reduced).union(mapped.filter(lambda s: "ü" in s))
    expected_reduced = [(k, sum(x for x in range(30) if x % 3 == k)) for k in range(3)]
    assert by_repr(together.collect()) == by_repr([repr(x) for x in MIXED] + expected_reduced
                                                  + [repr(x) for x in MIXED if "ü" in repr(x)])


# -- settings ------------------------------------------------------------------------------------------------------

def test_default_parallelism_and_conf(sc: SparkContext) -> None:
    assert sc.defaultParallelism == TEST_PARALLELISM
    conf = sc.getConf()
    assert isinstance(conf, SparkConf)
    assert conf.get("spark.master") == TEST_MASTER
    assert conf.get("spark.app.name") == "ember-tests"
    assert conf.get("no.such.key") is None
    assert conf.get("no.such.key", "fallback") == "fallback"
    # getConf returns a copy: changing it does not change the context's configuration.
    conf.set("spark.app.name", "changed").set("ember.test.extra", "1")
    assert sc.getConf().get("spark.app.name") == "ember-tests"
    assert not sc.getConf().contains("ember.test.extra")


def test_set_log_level(sc: SparkContext) -> None:
    for level in ("ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN", "warn", "Info"):
        sc.setLogLevel(level)
    for bad in ("LOUD", "", "WARNING"):
        with pytest.raises(ValueError):
            sc.setLogLevel(bad)
    sc.setLogLevel("WARN")
    assert sc.parallelize([1, 2, 3], 2).sum() == 6


# -- misuse --------------------------------------------------------------------------------------------------------

def test_rdd_used_inside_a_transformation_raises_spark_5063(sc: SparkContext) -> None:
    outer = sc.parallelize([1, 2, 3], 2)
    inner = sc.parallelize([10, 20], 2)
    with pytest.raises(Exception, match="SPARK-5063"):
        outer.map(lambda x: inner.count() * x).collect()
    with pytest.raises(Exception, match="SPARK-5063"):
        outer.filter(lambda x: x in inner.collect()).count()
    # The context is fine afterwards.
    assert outer.map(lambda x: x * 2).collect() == [2, 4, 6]


def test_context_used_inside_a_transformation_raises_spark_5063(sc: SparkContext) -> None:
    with pytest.raises(Exception, match="SPARK-5063"):
        sc.parallelize([1, 2], 2).map(lambda x: sc.parallelize([x]).count()).collect()


def test_rdd_cannot_be_pickled_or_broadcast(sc: SparkContext) -> None:
    rdd = sc.parallelize([1, 2], 2)
    with pytest.raises(Exception, match="SPARK-5063"):
        pickle.dumps(rdd)
    with pytest.raises(Exception, match="SPARK-5063"):
        sc.broadcast(rdd)


def test_spark_defaults_lines_without_a_key_are_skipped(tmp_path) -> None:
    from ember.conf import load_defaults
    defaults = tmp_path / "spark-defaults.conf"
    defaults.write_text("= orphan value\n: another\nspark.app.name  from-file\nspark.ember.x=1\nother.key 2\n")
    assert load_defaults(str(defaults)) == {"spark.app.name": "from-file", "spark.ember.x": "1"}
