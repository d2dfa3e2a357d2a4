"""Broadcast variables and accumulators against PySpark's semantics."""

from __future__ import annotations

import math
import operator
from typing import Any, Iterator

import pytest

from api_support import BIG, MIXED, PAIRS, PARTS, UNICODE, grouped
from ember import Accumulator, AccumulatorParam, Broadcast, PythonException, SparkContext

BROADCAST_VALUE = {
    "ünïcødé": (1, (2, None, ("日本", BIG))),
    "big": BIG,
    "none": None,
    "list": list(range(200)),
    "set": frozenset(UNICODE),
    7: b"\x00\xff",
}


# -- broadcast -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_broadcast_value_in_workers_equals_driver_value(sc: SparkContext, n: int) -> None:
    b = sc.broadcast(BROADCAST_VALUE)
    assert isinstance(b, Broadcast)
    assert b.value == BROADCAST_VALUE
    # Every task sees the whole value, equal to the driver's.
    assert sc.parallelize(range(n), n).map(lambda _: b.value).collect() == [BROADCAST_VALUE] * n
    lookup = sc.parallelize(list(BROADCAST_VALUE) * 2, n).map(lambda k: (k, b.value[k])).collect()
    assert lookup == [(k, BROADCAST_VALUE[k]) for k in list(BROADCAST_VALUE) * 2]
    assert sc.parallelize(range(200), n).filter(lambda x: x % 3 == 0).map(lambda x: b.value["list"][x] + BIG) \
        .collect() == [x + BIG for x in range(200) if x % 3 == 0]


def test_broadcast_value_is_one_object_per_worker(sc: SparkContext) -> None:
    b = sc.broadcast(list(range(1000)))
    result = sc.parallelize(range(6), 3).mapPartitions(lambda it: [b.value is b.value and len(b.value)]).collect()
    assert result == [1000, 1000, 1000]


@pytest.mark.parametrize("n", PARTS)
def test_broadcast_across_shuffle_stages(sc: SparkContext, n: int) -> None:
    weights = sc.broadcast({k: i + 1 for i, k in enumerate(dict.fromkeys(k for k, _ in PAIRS))})
    offset = sc.broadcast(BIG)
    result = (sc.parallelize(PAIRS, n).map(lambda kv: (kv[0], kv[1] * weights.value[kv[0]]))
              .reduceByKey(operator.add).mapValues(lambda v: v + offset.value).collect())
    w = {k: i + 1 for i, k in enumerate(dict.fromkeys(k for k, _ in PAIRS))}
    assert dict(result) == {k: sum(v * w[k] for v in vs) + BIG for k, vs in grouped(PAIRS).items()}


def test_broadcast_of_large_value(sc: SparkContext) -> None:
    payload = bytes(range(256)) * 20_000  # ~5 MB
    b = sc.broadcast(payload)
    assert sc.parallelize(range(0, len(payload), 100_003), 3).map(lambda i: b.value[i]).collect() == [
        payload[i] for i in range(0, len(payload), 100_003)]
    assert sc.parallelize([0], 1).map(lambda _: len(b.value)).collect() == [len(payload)]


def test_broadcast_unpersist_then_reuse(sc: SparkContext) -> None:
    b = sc.broadcast({"ü": [1, 2, 3], "big": BIG})
    rdd = sc.parallelize(range(6), 3)
    assert rdd.map(lambda x: b.value["big"] + x).collect() == [BIG + x for x in range(6)]
    b.unpersist()
    # The driver still has the value, and a later job ships it again.
    assert b.value == {"ü": [1, 2, 3], "big": BIG}
    assert rdd.map(lambda x: b.value["ü"][x % 3]).collect() == [[1, 2, 3][x % 3] for x in range(6)]
    b.unpersist()
    b.unpersist()
    assert rdd.map(lambda x: (x, b.value["big"])).collect() == [(x, BIG) for x in range(6)]


def test_broadcast_destroy_then_use_raises(sc: SparkContext) -> None:
    b = sc.broadcast([1, 2, 3])
    rdd = sc.parallelize(range(4), 2)
    assert rdd.map(lambda x: b.value[x % 3]).collect() == [1, 2, 3, 1]
    b.destroy()
    with pytest.raises(Exception):
        rdd.map(lambda x: b.value[x % 3]).collect()
    # Other broadcasts and jobs are unaffected.
    other = sc.broadcast("ü")
    assert rdd.map(lambda x: other.value * x).collect() == ["ü" * x for x in range(4)]


def test_broadcast_of_none_and_empty_values(sc: SparkContext) -> None:
    values = [None, "", (), 0, frozenset()]
    broadcasts = [sc.broadcast(v) for v in values]
    assert [b.value for b in broadcasts] == values
    assert sc.parallelize([0], 1).map(lambda _: [b.value for b in broadcasts]).collect() == [values]
    # Unpersisting only drops the workers' copies: the driver keeps the value and later jobs get it again.
    for b in broadcasts:
        b.unpersist()
    assert [b.value for b in broadcasts] == values
    assert sc.parallelize([0, 1], 2).map(lambda _: [b.value for b in broadcasts]).collect() == [values, values]


# -- accumulators ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_int_and_float_accumulators(sc: SparkContext, n: int) -> None:
    ints = sc.accumulator(0)
    floats = sc.accumulator(0.5)
    big = sc.accumulator(BIG)
    assert isinstance(ints, Accumulator)

    def visit(x: int) -> None:
        ints.add(x)
        floats.add(x / 4)
        big.add(BIG)

    data = list(range(-30, 70))
    sc.parallelize(data, n).foreach(visit)
    assert ints.value == sum(data)
    assert math.isclose(floats.value, 0.5 + sum(x / 4 for x in data))
    assert big.value == BIG + BIG * len(data)
    # The driver may set and add too.
    ints.value = 5
    ints += 10
    ints.add(1)
    assert ints.value == 16


class VectorAccumulatorParam(AccumulatorParam):
    """The example of PySpark's accumulator documentation."""

    def zero(self, value: list) -> list:
        return [0.0] * len(value)

    def addInPlace(self, val1: list, val2: list) -> list:
        for i in range(len(val1)):
            val1[i] += val2[i]
        return val1


class ListAccumulatorParam(AccumulatorParam):
    def zero(self, value: list) -> list:
        return []

    def addInPlace(self, val1: list, val2: list) -> list:
        val1.extend(val2)
        return val1


@pytest.mark.parametrize("n", PARTS)
def test_custom_accumulator_params(sc: SparkContext, n: int) -> None:
    vector = sc.accumulator([1.0, 2.0, 3.0], VectorAccumulatorParam())
    items = sc.accumulator([], ListAccumulatorParam())

    def visit(x: Any) -> None:
        vector.add([1.0, 2.0, 3.0])
        items.add([x])

    sc.parallelize(MIXED, n).foreach(visit)
    assert vector.value == [1.0 + len(MIXED), 2.0 + 2 * len(MIXED), 3.0 + 3 * len(MIXED)]
    assert sorted(map(repr, items.value)) == sorted(map(repr, MIXED))
    # The documented example: 1 + 2 + 3 added as [x] * 3 to [1, 2, 3].
    va = sc.accumulator([1.0, 2.0, 3.0], VectorAccumulatorParam())
    sc.parallelize([1, 2, 3], n).foreach(lambda x: va.add([x] * 3))
    assert va.value == [1.0 + 6, 2.0 + 6, 3.0 + 6]


@pytest.mark.parametrize("n", PARTS)
def test_accumulator_counts_once_per_action(sc: SparkContext, n: int) -> None:
    calls = sc.accumulator(0)

    def counted(x: Any) -> Any:
        calls.add(1)
        return x

    rdd = sc.parallelize(MIXED, n).map(counted)
    assert rdd.count() == len(MIXED)
    assert calls.value == len(MIXED)
    assert rdd.collect() == MIXED
    assert calls.value == 2 * len(MIXED)  # two actions: each task's update applied once per action


@pytest.mark.parametrize("n", PARTS)
def test_accumulator_in_a_shuffle_map_stage(sc: SparkContext, n: int) -> None:
    calls = sc.accumulator(0)

    def counted(kv: tuple) -> tuple:
        calls.add(1)
        return kv

    reduced = sc.parallelize(PAIRS, n).map(counted).reduceByKey(operator.add)
    assert dict(reduced.collect()) == {k: sum(vs) for k, vs in grouped(PAIRS).items()}
    assert calls.value == len(PAIRS)
    # A later job on the same shuffled RDD reads the shuffle output again instead of rerunning the map side.
    assert reduced.count() == len(grouped(PAIRS))
    assert calls.value == len(PAIRS)


@pytest.mark.parametrize("n", PARTS)
def test_accumulator_with_cache(sc: SparkContext, n: int) -> None:
    calls = sc.accumulator(0)
    rdd = sc.parallelize(UNICODE, n).map(lambda s: (calls.add(1), s)[1]).cache()
    assert rdd.collect() == UNICODE
    assert rdd.count() == len(UNICODE)
    assert rdd.map(len).sum() == sum(map(len, UNICODE))
    assert calls.value == len(UNICODE)
    rdd.unpersist()
    assert rdd.count() == len(UNICODE)
    assert calls.value == 2 * len(UNICODE)


def test_accumulator_in_map_partitions_and_empty_rdd(sc: SparkContext) -> None:
    per_partition = sc.accumulator(0)

    def note(index: int, iterator: Iterator[int]) -> Iterator[int]:
        per_partition.add(10 ** index)
        return iterator

    assert sc.parallelize(range(10), 4).mapPartitionsWithIndex(note).collect() == list(range(10))
    assert per_partition.value == sum(10 ** i for i in range(4))
    empty = sc.accumulator(0)
    sc.parallelize([], 3).foreach(lambda x: empty.add(1))
    sc.emptyRDD().foreach(lambda x: empty.add(1))
    assert empty.value == 0


def test_accumulator_value_cannot_be_read_in_a_task(sc: SparkContext) -> None:
    acc = sc.accumulator(0)
    with pytest.raises(PythonException, match="cannot be accessed inside tasks"):
        sc.parallelize([1, 2], 2).map(lambda x: acc.value + x).collect()


def test_accumulator_without_param_for_other_types_raises(sc: SparkContext) -> None:
    with pytest.raises(TypeError):
        sc.accumulator([1, 2])
    with pytest.raises(TypeError):
        sc.accumulator("text")


def test_accumulators_and_broadcast_together(sc: SparkContext) -> None:
    words = sc.broadcast(set(UNICODE[:4]))
    hits = sc.accumulator(0)
    misses = sc.accumulator(0)

    def classify(w: str) -> str:
        if w in words.value:
            hits.add(1)
        else:
            misses.add(1)
        return w

    data = UNICODE * 3
    assert sc.parallelize(data, 4).map(classify).collect() == data
    assert hits.value == sum(1 for w in data if w in set(UNICODE[:4]))
    assert misses.value == sum(1 for w in data if w not in set(UNICODE[:4]))
    assert hits.value + misses.value == len(data)
