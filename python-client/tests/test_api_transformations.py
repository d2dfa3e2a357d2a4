"""Element-wise and structural transformations against PySpark's semantics, each checked against plain Python."""

from __future__ import annotations

import itertools
import string
from pathlib import Path
from typing import Any, Iterator

import pytest

from api_support import (BIG, MIXED, PAIRS, PARTS, UNICODE, by_repr, is_subsequence, multiset, slices)
from ember import PythonException, SparkContext, StorageLevel

NUMBERS = [(i * 7919) % 1013 - 500 for i in range(300)] + [BIG, -BIG, 2 ** 64 + 1]


# -- map / flatMap / filter ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_map(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.map(lambda x: (x, repr(x))).collect() == [(x, repr(x)) for x in MIXED]
    assert rdd.map(lambda x: None).collect() == [None] * len(MIXED)
    assert rdd.map(lambda x: x).getNumPartitions() == n
    nums = sc.parallelize(NUMBERS, n)
    assert nums.map(lambda x: x * BIG).collect() == [x * BIG for x in NUMBERS]
    assert sc.parallelize(UNICODE, n).map(str.upper).collect() == [s.upper() for s in UNICODE]


@pytest.mark.parametrize("n", PARTS)
def test_flat_map(sc: SparkContext, n: int) -> None:
    words = sc.parallelize(UNICODE, n)
    # A string is iterable: flatMap(list) yields its characters.
    assert words.flatMap(list).collect() == [c for s in UNICODE for c in s]
    assert words.flatMap(lambda s: s.split()).collect() == [w for s in UNICODE for w in s.split()]
    # Generators, empty results and nested tuples.
    nums = sc.parallelize(NUMBERS, n)
    assert nums.flatMap(lambda x: (y for y in range(abs(x) % 4))).collect() == [
        y for x in NUMBERS for y in range(abs(x) % 4)]
    assert nums.flatMap(lambda x: []).collect() == []
    assert nums.flatMap(lambda x: [(x, (None, str(x)))]).collect() == [(x, (None, str(x))) for x in NUMBERS]


@pytest.mark.parametrize("n", PARTS)
def test_filter(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.filter(lambda x: x is None).collect() == [None]
    assert rdd.filter(lambda x: isinstance(x, str)).collect() == [x for x in MIXED if isinstance(x, str)]
    assert rdd.filter(bool).collect() == [x for x in MIXED if x]
    assert rdd.filter(lambda x: False).collect() == []
    filtered = rdd.filter(lambda x: isinstance(x, int))
    assert filtered.getNumPartitions() == n
    assert filtered.glom().collect() == [[x for x in part if isinstance(x, int)] for part in slices(MIXED, n)]


# -- partition-wise ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_map_partitions(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(NUMBERS, n)
    assert rdd.mapPartitions(lambda it: [sum(it)]).collect() == [sum(p) for p in slices(NUMBERS, n)]

    def running_max(iterator: Iterator[int]) -> Iterator[int]:
        best = None
        for x in iterator:
            best = x if best is None else max(best, x)
            yield best

    assert rdd.mapPartitions(running_max).collect() == [
        y for p in slices(NUMBERS, n) for y in itertools.accumulate(p, max)]
    # Every partition is passed in, even an empty one.
    sparse = sc.parallelize([None, "ü"], n)
    assert sparse.mapPartitions(lambda it: [len(list(it))]).collect() == [len(p) for p in slices([None, "ü"], n)]


@pytest.mark.parametrize("n", PARTS)
def test_map_partitions_with_index(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.mapPartitionsWithIndex(lambda i, it: [(i, list(it))]).collect() == list(enumerate(slices(MIXED, n)))
    assert rdd.mapPartitionsWithIndex(lambda i, it: ((i, x) for x in it)).collect() == [
        (i, x) for i, p in enumerate(slices(MIXED, n)) for x in p]


@pytest.mark.parametrize("n", PARTS)
def test_glom(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(NUMBERS, n).glom().collect() == slices(NUMBERS, n)
    assert sc.parallelize(NUMBERS, n).glom().map(len).collect() == [len(p) for p in slices(NUMBERS, n)]


# -- pair helpers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_key_by_keys_values(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(MIXED, n)
    assert rdd.keyBy(repr).collect() == [(repr(x), x) for x in MIXED]
    pairs = sc.parallelize(PAIRS, n)
    assert pairs.keys().collect() == [k for k, _ in PAIRS]
    assert pairs.values().collect() == [v for _, v in PAIRS]


@pytest.mark.parametrize("n", PARTS)
def test_map_values_and_flat_map_values(sc: SparkContext, n: int) -> None:
    pairs = sc.parallelize(PAIRS, n)
    assert pairs.mapValues(lambda v: (v, None, str(v))).collect() == [(k, (v, None, str(v))) for k, v in PAIRS]
    assert pairs.flatMapValues(lambda v: range(v % 3)).collect() == [(k, x) for k, v in PAIRS for x in range(v % 3)]
    words = sc.parallelize([("ü", "a b"), (None, ""), ((1, (2,)), "日 本 語")], n)
    assert words.flatMapValues(str.split).collect() == [("ü", "a"), ("ü", "b"), ((1, (2,)), "日"),
                                                        ((1, (2,)), "本"), ((1, (2,)), "語")]


# -- set-like operations ---------------------------------------------------------------------------------------------

DUPLICATED = MIXED + MIXED[::2] + [None, None, "ü", "ü", BIG]


@pytest.mark.parametrize("n", PARTS)
def test_distinct(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(DUPLICATED, n)
    result = rdd.distinct().collect()
    assert len(result) == len(set(DUPLICATED))
    assert multiset(result) == multiset(set(DUPLICATED))
    assert rdd.distinct().getNumPartitions() == n
    assert multiset(rdd.distinct(4).collect()) == multiset(set(DUPLICATED))
    assert rdd.distinct(4).getNumPartitions() == 4
    assert sc.parallelize([], n).distinct().collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_intersection(sc: SparkContext, n: int) -> None:
    left = DUPLICATED
    right = MIXED[5:] + ["ü", "only right", 12345]
    result = sc.parallelize(left, n).intersection(sc.parallelize(right, 2)).collect()
    # No duplicates in the output, even where both sides had them.
    assert len(result) == len(set(result))
    assert set(result) == set(left) & set(right)
    assert sc.parallelize(left, n).intersection(sc.parallelize([], 2)).collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_subtract(sc: SparkContext, n: int) -> None:
    left = DUPLICATED
    right = MIXED[::3] + ["not in left"]
    result = sc.parallelize(left, n).subtract(sc.parallelize(right, 2)).collect()
    # Duplicates of the left side that are not in the right side are kept.
    assert multiset(result) == multiset(x for x in left if x not in set(right))
    assert multiset(sc.parallelize(left, n).subtract(sc.parallelize([], 1)).collect()) == multiset(left)
    assert sc.parallelize(left, n).subtract(sc.parallelize(left, 3), 5).getNumPartitions() == 5
    assert sc.parallelize(left, n).subtract(sc.parallelize(left, 3)).collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_cartesian(sc: SparkContext, n: int) -> None:
    left = MIXED[:9]
    right = ["ü", None, (1, (BIG,)), 4]
    product = sc.parallelize(left, n).cartesian(sc.parallelize(right, 2))
    assert product.getNumPartitions() == n * 2
    assert multiset(product.collect()) == multiset(itertools.product(left, right))
    assert sc.parallelize(left, n).cartesian(sc.parallelize([], 3)).collect() == []
    assert multiset(sc.parallelize(right, 1).cartesian(sc.parallelize(right, n)).collect()) == multiset(
        itertools.product(right, right))


# -- zips ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_zip(sc: SparkContext, n: int) -> None:
    left = sc.parallelize(MIXED, n)
    right = sc.parallelize(list(range(len(MIXED))), n)
    assert left.zip(right).collect() == list(zip(MIXED, range(len(MIXED))))
    assert left.zip(left.map(repr)).collect() == [(x, repr(x)) for x in MIXED]
    assert sc.parallelize([], n).zip(sc.parallelize([], n)).collect() == []


def test_zip_mismatched_partitions_raises(sc: SparkContext) -> None:
    with pytest.raises(ValueError, match="same number of partitions"):
        sc.parallelize([1, 2, 3], 3).zip(sc.parallelize([1, 2, 3], 2))
    # Same partition count, different sizes per partition: fails when run.
    with pytest.raises(Exception, match="same number of elements"):
        sc.parallelize([1, 2, 3], 2).zip(sc.parallelize([1, 2, 3, 4], 2)).collect()


@pytest.mark.parametrize("n", PARTS)
def test_zip_with_index(sc: SparkContext, n: int) -> None:
    assert sc.parallelize(MIXED, n).zipWithIndex().collect() == [(x, i) for i, x in enumerate(MIXED)]
    kept = [x for x in NUMBERS if x % 5 == 0]
    filtered = sc.parallelize(NUMBERS, n).filter(lambda x: x % 5 == 0)
    assert filtered.zipWithIndex().collect() == [(x, i) for i, x in enumerate(kept)]
    assert sc.parallelize([], n).zipWithIndex().collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_zip_with_unique_id(sc: SparkContext, n: int) -> None:
    expected = [(x, i * n + k) for k, part in enumerate(slices(MIXED, n)) for i, x in enumerate(part)]
    result = sc.parallelize(MIXED, n).zipWithUniqueId().collect()
    assert result == expected
    assert len({uid for _, uid in result}) == len(MIXED)


# -- sampling --------------------------------------------------------------------------------------------------------

SAMPLED = list(range(2000))


@pytest.mark.parametrize("n", PARTS)
def test_sample_without_replacement(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(SAMPLED, n)
    assert rdd.sample(False, 0.0, 3).collect() == []
    assert rdd.sample(False, 1.0, 3).collect() == SAMPLED
    first = rdd.sample(False, 0.3, 42).collect()
    assert rdd.sample(False, 0.3, 42).collect() == first  # the same seed gives the same sample
    assert is_subsequence(first, SAMPLED)  # records keep their order, none repeats
    assert len(set(first)) == len(first)
    assert 0 < len(first) < len(SAMPLED)
    assert sc.parallelize([], n).sample(False, 0.5, 1).collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_sample_with_replacement(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(SAMPLED, n)
    assert rdd.sample(True, 0.0, 3).collect() == []
    first = rdd.sample(True, 0.5, 7).collect()
    assert rdd.sample(True, 0.5, 7).collect() == first
    assert set(first) <= set(SAMPLED)
    assert first == sorted(first)  # copies of a record sit together, records in order
    assert 0 < len(first)
    many = rdd.sample(True, 3.0, 11).collect()
    assert set(many) <= set(SAMPLED) and len(many) > len(SAMPLED)


def test_sample_rejects_negative_fraction(sc: SparkContext) -> None:
    with pytest.raises(ValueError):
        sc.parallelize([1, 2, 3]).sample(False, -0.1)


@pytest.mark.parametrize("n", PARTS)
def test_random_split(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(SAMPLED, n)
    splits = rdd.randomSplit([1.0, 2.0, 3.0], seed=17)
    parts = [s.collect() for s in splits]
    assert sorted(itertools.chain.from_iterable(parts)) == SAMPLED  # they cover everything, each record once
    for a, b in itertools.combinations(parts, 2):
        assert not set(a) & set(b)
    for part in parts:
        assert is_subsequence(part, SAMPLED)
    assert [s.collect() for s in rdd.randomSplit([1.0, 2.0, 3.0], seed=17)] == parts
    halves = [s.collect() for s in rdd.randomSplit([0.5, 0.5], seed=3)]
    assert sorted(halves[0] + halves[1]) == SAMPLED


# -- repartitioning ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("m", [1, 4, 10])
def test_repartition(sc: SparkContext, n: int, m: int) -> None:
    rdd = sc.parallelize(MIXED * 3, n).repartition(m)
    assert rdd.getNumPartitions() == m
    assert multiset(rdd.collect()) == multiset(MIXED * 3)
    assert multiset(x for part in rdd.glom().collect() for x in part) == multiset(MIXED * 3)


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("m", [1, 2, 5])
def test_coalesce_without_shuffle(sc: SparkContext, n: int, m: int) -> None:
    data = MIXED * 3
    rdd = sc.parallelize(data, n).coalesce(m)
    assert rdd.getNumPartitions() == min(n, m)  # without a shuffle the count never grows
    assert rdd.collect() == data  # and the order stays
    glommed = rdd.glom().collect()
    assert len(glommed) == min(n, m)
    assert [x for part in glommed for x in part] == data


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("m", [1, 2, 11])
def test_coalesce_with_shuffle(sc: SparkContext, n: int, m: int) -> None:
    rdd = sc.parallelize(MIXED * 3, n).coalesce(m, shuffle=True)
    assert rdd.getNumPartitions() == m
    assert multiset(rdd.collect()) == multiset(MIXED * 3)


# -- pipe ------------------------------------------------------------------------------------------------------------

UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


@pytest.mark.parametrize("n", PARTS)
def test_pipe(sc: SparkContext, n: int) -> None:
    texts = UNICODE + ["hello world", "MiXeD cAsE"]
    assert sc.parallelize(texts, n).pipe("tr a-z A-Z").collect() == [s.translate(UPPER) for s in texts]
    # Non-strings go through str(); empty partitions give no output.
    assert sc.parallelize(MIXED, n).pipe("cat").collect() == [str(x) for x in MIXED]
    assert sc.parallelize([], n).pipe("cat").collect() == []
    assert sc.parallelize(["ü"], n).pipe("cat").collect() == ["ü"]


def test_pipe_env_and_check_code(sc: SparkContext) -> None:
    out = sc.parallelize(["x", "y"], 2).pipe("sh -c 'cat >/dev/null; echo $EMBER_PIPE_VALUE'",
                                            env={"EMBER_PIPE_VALUE": "wert-ü"}).collect()
    assert out == ["wert-ü", "wert-ü"]
    failing = sc.parallelize(["a", "b"], 1).pipe("sh -c 'cat >/dev/null; exit 3'", checkCode=True)
    with pytest.raises(Exception):
        failing.collect()
    # Without checkCode the exit status is ignored.
    assert sc.parallelize(["a", "b"], 1).pipe("sh -c 'cat >/dev/null; exit 3'").collect() == []


# -- persistence -----------------------------------------------------------------------------------------------------

def appending_to(path: Path) -> Any:
    """A partition function that appends one line per partition it computes to ``path``."""
    target = str(path)

    def mark(index: int, iterator: Iterator[Any]) -> Iterator[Any]:
        with open(target, "a") as f:
            f.write(f"{index}\n")
        return iterator
    return mark


def computed(path: Path) -> list[int]:
    return sorted(int(line) for line in path.read_text().split()) if path.exists() else []


@pytest.mark.parametrize("n", PARTS)
def test_cache_computes_once_and_unpersist_recomputes(sc: SparkContext, tmp_path: Path, n: int) -> None:
    log = tmp_path / "computed.log"
    calls = sc.accumulator(0)

    def counted(x: Any) -> Any:
        calls.add(1)
        return x

    rdd = sc.parallelize(MIXED, n).mapPartitionsWithIndex(appending_to(log)).map(counted)
    cached = rdd.cache()
    assert cached is rdd
    assert cached.is_cached
    assert cached.getStorageLevel() == StorageLevel.MEMORY_ONLY
    assert cached.count() == len(MIXED)
    assert cached.collect() == MIXED
    assert by_repr(cached.map(repr).collect()) == by_repr(repr(x) for x in MIXED)
    assert calls.value == len(MIXED)
    assert computed(log) == list(range(n))
    cached.unpersist()
    assert not cached.is_cached
    assert cached.getStorageLevel() == StorageLevel(False, False, False, False, 1)
    assert cached.collect() == MIXED
    assert calls.value == 2 * len(MIXED)
    assert computed(log) == sorted(list(range(n)) * 2)


def test_persist_with_level_and_shared_by_branches(sc: SparkContext, tmp_path: Path) -> None:
    log = tmp_path / "computed.log"
    rdd = sc.parallelize(NUMBERS, 3).mapPartitionsWithIndex(appending_to(log))
    assert rdd.persist(StorageLevel.MEMORY_AND_DISK) is rdd
    assert rdd.getStorageLevel() == StorageLevel.MEMORY_AND_DISK
    # One job reading the persisted RDD twice (a narrow branch and a shuffled one) computes it once.
    both = rdd.map(lambda x: (x % 2, 1)).union(rdd.map(lambda x: (x % 2, 1)).reduceByKey(lambda a, b: a + b))
    result = both.collect()
    assert len(result) == len(NUMBERS) + 2
    assert computed(log) == [0, 1, 2]
    assert rdd.sum() == sum(NUMBERS)
    assert computed(log) == [0, 1, 2]
    rdd.unpersist()
    assert rdd.sum() == sum(NUMBERS)
    assert computed(log) == [0, 0, 1, 1, 2, 2]


def test_unpersist_of_a_never_cached_rdd(sc: SparkContext) -> None:
    rdd = sc.parallelize(MIXED, 2)
    assert rdd.unpersist() is rdd
    assert rdd.collect() == MIXED


def test_failing_function_in_transformation_reaches_driver(sc: SparkContext) -> None:
    with pytest.raises(PythonException, match="ZeroDivisionError"):
        sc.parallelize([1, 0, 2], 3).map(lambda x: 1 // x).collect()
    assert sc.parallelize([1, 4, 2], 3).map(lambda x: 4 // x).collect() == [4, 1, 2]
