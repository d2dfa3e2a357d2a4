"""Job results equal plain Python: transformations, actions, partitioning, take's early stop, closures, bulk data."""

from __future__ import annotations

import operator
import os
from pathlib import Path
from typing import Any, Callable

import pytest

import helper_module
from conftest import TEST_PARALLELISM
from ember import SparkContext

N = 100_000
DATA = list(range(N))
PARTITION_COUNTS = [1, 2, 7]


def slices(data: list, n: int, batch_limit: int = 1024) -> list[list]:
    """How PySpark slices a list into ``n`` partitions: it pickles the list in batches of
    min(len // n, 1024) records (at least 1), and the JVM hands out whole batches, as evenly as it can."""
    batch = max(1, min(len(data) // n, batch_limit))
    batches = [data[i:i + batch] for i in range(0, len(data), batch)]
    return [[x for b in batches[i * len(batches) // n:(i + 1) * len(batches) // n] for x in b] for i in range(n)]


def range_slices(data: list, n: int) -> list[list]:
    """How PySpark slices a range: partition i starts at element int(i * size / n); no batching."""
    starts = [int(i * len(data) / n) for i in range(n + 1)]
    return [data[starts[i]:starts[i + 1]] for i in range(n)]


# -- map / filter / flatMap / collect / sum / count ------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_map_filter_flatmap_collect(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(DATA, n)
    assert rdd.getNumPartitions() == n
    assert rdd.collect() == DATA
    assert rdd.map(lambda x: x * 3 + 1).collect() == [x * 3 + 1 for x in DATA]
    assert rdd.filter(lambda x: x % 7 == 3).collect() == [x for x in DATA if x % 7 == 3]
    assert rdd.flatMap(lambda x: [x] * (x % 3)).collect() == [y for x in DATA for y in [x] * (x % 3)]
    chained = rdd.map(lambda x: x * 2).filter(lambda x: x % 3 != 0).flatMap(lambda x: (x, -x))
    assert chained.collect() == [y for x in DATA if (x * 2) % 3 != 0 for y in (x * 2, -x * 2)]
    assert chained.getNumPartitions() == n


@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_sum_and_count(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(DATA, n)
    assert rdd.sum() == sum(DATA)
    assert rdd.count() == N
    assert rdd.map(lambda x: x * x).sum() == sum(x * x for x in DATA)
    assert rdd.filter(lambda x: x % 13 == 0).count() == len([x for x in DATA if x % 13 == 0])
    assert rdd.flatMap(lambda x: range(x % 4)).count() == sum(x % 4 for x in DATA)


@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_partitions_hold_pyspark_slices(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(DATA, n).glom().collect() == slices(DATA, n)


@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_reduce_first_take(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(DATA, n)
    assert rdd.reduce(operator.add) == sum(DATA)
    assert rdd.reduce(max) == max(DATA)
    assert rdd.map(lambda x: (x * 7919) % 100_003).reduce(min) == min((x * 7919) % 100_003 for x in DATA)
    assert rdd.first() == DATA[0]
    assert rdd.filter(lambda x: x > 54_321).first() == 54_322
    assert rdd.take(5) == DATA[:5]
    assert rdd.take(0) == []
    across = N // n + 5  # reaches into the second partition when there is one
    assert rdd.take(across) == DATA[:across]
    assert rdd.filter(lambda x: x % 20_000 == 1).take(4) == [1, 20_001, 40_001, 60_001]
    assert sc.parallelize(DATA[:10], n).take(50) == DATA[:10]


@pytest.mark.parametrize("n", PARTITION_COUNTS)
def test_map_partitions(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(DATA, n)
    assert rdd.mapPartitions(lambda it: [sum(it)]).collect() == [sum(part) for part in slices(DATA, n)]

    def first_and_size(iterator: Any) -> list:
        items = list(iterator)
        return [(items[0], len(items))] if items else []

    assert rdd.mapPartitions(first_and_size).collect() == [(p[0], len(p)) for p in slices(DATA, n) if p]
    with_index = rdd.mapPartitionsWithIndex(lambda i, it: [(i, max(it))]).collect()
    assert with_index == [(i, max(part)) for i, part in enumerate(slices(DATA, n))]


RANGE_ARGS = [(N,), (3, N, 7), (N, 0, -3), (0,)]


@pytest.mark.parametrize("n", PARTITION_COUNTS)
@pytest.mark.parametrize("args", RANGE_ARGS, ids=lambda a: "range" + repr(a))
def test_range_variants(sc: SparkContext, n: int, args: tuple) -> None:
    expected = list(range(*args))
    rdd = sc.range(*args, numSlices=n)
    assert rdd.getNumPartitions() == n
    assert rdd.collect() == expected
    assert rdd.count() == len(expected)
    assert rdd.sum() == sum(expected)
    assert rdd.glom().collect() == range_slices(expected, n)
    assert rdd.map(lambda x: x % 1000).filter(lambda x: x < 10).collect() == [x % 1000 for x in expected
                                                                              if x % 1000 < 10]
    assert sc.parallelize(range(*args), n).collect() == expected


def test_range_moves_no_data(sc: SparkContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A range is computed in the workers, a list is uploaded through the side socket."""
    stored: list[int] = []
    real_store = sc._side.store

    def spy(partitions: list[list[bytes]]) -> int:
        stored.append(sum(len(frame) for frames in partitions for frame in frames))
        return real_store(partitions)

    monkeypatch.setattr(sc._side, "store", spy)
    assert sc.range(N, numSlices=4).sum() == sum(DATA)
    assert stored == []
    assert sc.parallelize(DATA, 4).sum() == sum(DATA)
    assert len(stored) == 1 and stored[0] > N


def test_default_partitions(sc: SparkContext) -> None:
    assert sc.defaultParallelism == TEST_PARALLELISM
    rdd = sc.parallelize(DATA)
    assert rdd.getNumPartitions() == TEST_PARALLELISM
    assert rdd.collect() == DATA


def test_empty_rdds(sc: SparkContext) -> None:
    for empty in (sc.parallelize([], 3), sc.emptyRDD(), sc.parallelize(DATA[:100], 4).filter(lambda x: x < 0)):
        assert empty.collect() == []
        assert empty.count() == 0
        assert empty.sum() == 0
        assert empty.take(3) == []
        assert empty.isEmpty()
        with pytest.raises(ValueError):
            empty.reduce(operator.add)
        with pytest.raises(ValueError):
            empty.first()
    # Empty partitions among full ones are skipped, not fatal.
    assert sc.parallelize([5, 1, 4], 7).reduce(operator.add) == 10
    assert sc.parallelize([None, 3], 5).first() is None


def test_records_of_many_types_round_trip(sc: SparkContext) -> None:
    records = [None, True, 0, -1, 2 ** 70, 1.5, float("inf"), "text", "ünïcødé", b"\x00\xff", (1, "a"), [1, [2]],
               {"k": {1, 2}}, frozenset({3}), complex(1, 2)]
    assert sc.parallelize(records, 4).collect() == records
    assert sc.parallelize(records, 3).map(lambda r: (type(r).__name__, r)).collect() == [
        (type(r).__name__, r) for r in records]


# -- take stops early ------------------------------------------------------------------------------------------------

def marking(directory: Path) -> Callable[[int, Any], Any]:
    """A partition function that leaves a marker file named after each partition it computes."""
    path = str(directory)

    def mark(index: int, iterator: Any) -> Any:
        with open(os.path.join(path, str(index)), "w"):
            pass
        return iterator
    return mark


def test_take_computes_only_the_first_partition(sc: SparkContext, tmp_path: Path) -> None:
    data = list(range(200))
    rdd = sc.parallelize(data, 20).mapPartitionsWithIndex(marking(tmp_path))
    assert rdd.take(3) == [0, 1, 2]
    assert sorted(os.listdir(tmp_path)) == ["0"]
    # A full collect computes every partition (so the markers do mean what they say).
    assert rdd.collect() == data
    assert sorted(os.listdir(tmp_path), key=int) == [str(i) for i in range(20)]


def test_take_scales_up_past_empty_partitions(sc: SparkContext, tmp_path: Path) -> None:
    # Partition 0 (0..9) is empty after the filter; PySpark then tries 4 times as many partitions (1..4).
    rdd = sc.parallelize(list(range(200)), 20).mapPartitionsWithIndex(marking(tmp_path)).filter(lambda x: x >= 10)
    assert rdd.take(3) == [10, 11, 12]
    assert sorted(os.listdir(tmp_path), key=int) == ["0", "1", "2", "3", "4"]


def test_first_computes_only_the_first_partition(sc: SparkContext, tmp_path: Path) -> None:
    rdd = sc.range(1000, numSlices=10).mapPartitionsWithIndex(marking(tmp_path))
    assert rdd.first() == 0
    assert os.listdir(tmp_path) == ["0"]


# -- closures and imported modules -----------------------------------------------------------------------------------

def test_closures_over_local_variables(sc: SparkContext) -> None:
    factor = 17
    lookup = {i: chr(ord("a") + i % 26) for i in range(100)}
    threshold = [50]

    def combine(x: int) -> tuple[int, str]:
        return x * factor, lookup[x]

    def make_adder(k: int) -> Callable[[int], int]:
        return lambda x: x + k

    add_five = make_adder(5)
    rdd = sc.parallelize(list(range(100)), 3)
    assert rdd.map(combine).collect() == [(x * factor, lookup[x]) for x in range(100)]
    assert rdd.filter(lambda x: x > threshold[0]).map(add_five).collect() == [x + 5 for x in range(100) if x > 50]
    assert rdd.map(lambda x: combine(add_five(x) % 100)).collect() == [combine((x + 5) % 100) for x in range(100)]


def test_functions_from_an_imported_module(sc: SparkContext) -> None:
    rdd = sc.parallelize(list(range(1000)), 4)
    assert rdd.map(helper_module.shift).collect() == [x + helper_module.OFFSET for x in range(1000)]
    assert rdd.filter(helper_module.is_interesting).map(helper_module.shift).sum() == sum(
        x + 1000 for x in range(1000) if x % 11 == 5)
    assert rdd.map(lambda x: helper_module.shift(x) * 2).take(3) == [2000, 2002, 2004]


def test_imported_module_is_imported_in_the_worker(sc: SparkContext) -> None:
    seen = sc.parallelize(list(range(8)), 4).map(helper_module.where).collect()
    assert [x for x, *_ in seen] == list(range(8))
    for _x, pid, name, path, imported in seen:
        assert pid != os.getpid()
        assert name == "helper_module"
        assert path == os.path.realpath(helper_module.__file__)
        assert imported


# -- bulk data -------------------------------------------------------------------------------------------------------

def test_large_bytes_round_trip_through_the_side_socket(sc: SparkContext, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = [os.urandom(5_000) + i.to_bytes(4, "big") for i in range(1_000)]  # ~5 MB
    sent: list[int] = []
    real_store = sc._side.store

    def spy(partitions: list[list[bytes]]) -> int:
        sent.append(sum(len(frame) for frames in partitions for frame in frames))
        return real_store(partitions)

    monkeypatch.setattr(sc._side, "store", spy)
    rdd = sc.parallelize(payload, 4)
    assert sent and sent[0] >= 5_000_000
    assert rdd.collect() == payload
    assert rdd.map(len).sum() == sum(len(p) for p in payload)
    assert rdd.map(lambda b: b[::-1]).collect() == [p[::-1] for p in payload]
    one_big = [os.urandom(3_000_000)]
    assert sc.parallelize(one_big, 1).collect() == one_big


def test_large_closure_goes_as_a_blob(sc: SparkContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from ember import plan
    big = os.urandom(4 * plan.INLINE_COMMAND_BYTES)
    blobs: list[int] = []
    real_blob = sc._side.blob

    def spy(data: bytes) -> int:
        blobs.append(len(data))
        return real_blob(data)

    monkeypatch.setattr(sc._side, "blob", spy)
    assert sc.range(0, len(big), 997, numSlices=3).map(lambda i: big[i]).collect() == list(big[::997])
    assert blobs and blobs[0] > len(big)
