"""Key-value transformations against PySpark's semantics: grouping, combining, partitioning, sorting and joins.

Grouped and joined results have no defined order, so they are compared as dicts or multisets; groupByKey's
ResultIterable values compare through list(). Sorting is global, so sorted results are compared exactly."""

from __future__ import annotations

import io
import operator
from collections import Counter, namedtuple

import pytest

from api_support import (BIG, INT_KEYS, KEYS, PAIRS, PARTS, UNICODE, by_repr, grouped, multiset, pairs_of,
                         sorted_groups)
from ember import PythonException, SparkContext, portable_hash
from ember.rdd import RDD, ResultIterable

EXPECTED_GROUPS = grouped(PAIRS)


# -- grouping --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_group_by_key(sc: SparkContext, n: int) -> None:
    result = sc.parallelize(PAIRS, n).groupByKey().collect()
    assert len(result) == len(EXPECTED_GROUPS)  # one record per key
    assert all(isinstance(vs, ResultIterable) for _, vs in result)
    assert {k: len(vs) for k, vs in result} == {k: len(vs) for k, vs in EXPECTED_GROUPS.items()}
    assert sorted_groups({k: list(vs) for k, vs in result}) == sorted_groups(EXPECTED_GROUPS)
    assert sc.parallelize(PAIRS, n).groupByKey().getNumPartitions() == n
    four = sc.parallelize(PAIRS, n).groupByKey(4)
    assert four.getNumPartitions() == 4
    assert sorted_groups(dict(four.mapValues(list).collect())) == sorted_groups(EXPECTED_GROUPS)
    assert sc.parallelize([], n).groupByKey().collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_group_by(sc: SparkContext, n: int) -> None:
    words = UNICODE * 3 + [w.upper() for w in UNICODE]
    result = dict(sc.parallelize(words, n).groupBy(len).mapValues(list).collect())
    assert sorted_groups(result) == sorted_groups(grouped((len(w), w) for w in words))
    numbers = list(range(-50, 50)) + [BIG, -BIG]
    result = dict(sc.parallelize(numbers, n).groupBy(lambda x: (x % 3, x > 0), 5).mapValues(list).collect())
    assert sorted_groups(result) == sorted_groups(grouped(((x % 3, x > 0), x) for x in numbers))


# -- combining -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", PARTS)
def test_reduce_by_key(sc: SparkContext, n: int) -> None:
    result = sc.parallelize(PAIRS, n).reduceByKey(operator.add).collect()
    assert len(result) == len(EXPECTED_GROUPS)
    assert dict(result) == {k: sum(vs) for k, vs in EXPECTED_GROUPS.items()}
    big = [(k, BIG * v) for k, v in PAIRS]
    assert dict(sc.parallelize(big, n).reduceByKey(operator.add, 3).collect()) == {
        k: sum(BIG * v for v in vs) for k, vs in EXPECTED_GROUPS.items()}
    assert sc.parallelize(PAIRS, n).reduceByKey(max, 2).getNumPartitions() == 2
    strings = [(k, str(v)) for k, v in PAIRS]
    longest = dict(sc.parallelize(strings, n).reduceByKey(lambda a, b: max(a, b, key=lambda s: (len(s), s)))
                   .collect())
    assert longest == {k: max((str(v) for v in vs), key=lambda s: (len(s), s)) for k, vs in EXPECTED_GROUPS.items()}
    assert sc.parallelize([], n).reduceByKey(operator.add).collect() == []


@pytest.mark.parametrize("n", PARTS)
def test_fold_by_key(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(PAIRS, n)
    assert dict(rdd.foldByKey(0, operator.add).collect()) == {k: sum(vs) for k, vs in EXPECTED_GROUPS.items()}
    small = [(k, v % 5 + 1) for k, v in PAIRS]
    product = dict(sc.parallelize(small, n).foldByKey(1, operator.mul, 3).collect())
    expected_product = {}
    for k, v in small:
        expected_product[k] = expected_product.get(k, 1) * v
    assert product == expected_product
    # A mutable zero value is copied for each key, never shared.
    lists = dict(rdd.mapValues(lambda v: [v]).foldByKey([], operator.add).collect())
    assert sorted_groups(lists) == sorted_groups(EXPECTED_GROUPS)


@pytest.mark.parametrize("n", PARTS)
def test_aggregate_by_key(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(PAIRS, n)
    sums_counts = dict(rdd.aggregateByKey((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1),
                                          lambda a, b: (a[0] + b[0], a[1] + b[1])).collect())
    assert sums_counts == {k: (sum(vs), len(vs)) for k, vs in EXPECTED_GROUPS.items()}

    def add_to_set(s: set, v: int) -> set:
        s.add(v % 4)  # allowed: seqFunc may modify and return its first argument
        return s

    def merge_sets(a: set, b: set) -> set:
        a |= b
        return a

    sets = dict(rdd.aggregateByKey(set(), add_to_set, merge_sets, 4).collect())
    assert sets == {k: {v % 4 for v in vs} for k, vs in EXPECTED_GROUPS.items()}


@pytest.mark.parametrize("n", PARTS)
def test_combine_by_key(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(PAIRS, n)
    combined = dict(rdd.combineByKey(lambda v: (v, 1), lambda c, v: (c[0] + v, c[1] + 1),
                                     lambda a, b: (a[0] + b[0], a[1] + b[1])).collect())
    assert combined == {k: (sum(vs), len(vs)) for k, vs in EXPECTED_GROUPS.items()}

    def append(c: list, v: int) -> list:
        c.append(v)
        return c

    def extend(a: list, b: list) -> list:
        a.extend(b)
        return a

    lists = rdd.combineByKey(lambda v: [v], append, extend, 5)
    assert lists.getNumPartitions() == 5
    assert sorted_groups(dict(lists.collect())) == sorted_groups(EXPECTED_GROUPS)


def test_unhashable_key_fails_with_python_exception(sc: SparkContext) -> None:
    with pytest.raises(PythonException, match="unhashable"):
        sc.parallelize([([1], 1), ([1], 2), ([2], 3)], 2).reduceByKey(operator.add).collect()
    with pytest.raises(PythonException, match="unhashable"):
        sc.parallelize([({"k": 1}, 1)], 1).groupByKey().collect()
    assert dict(sc.parallelize([((1,), 1), ((1,), 2)], 2).reduceByKey(operator.add).collect()) == {(1,): 3}


# -- partitioning ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 3, 7, 16])
def test_partition_by_places_keys_by_portable_hash(sc: SparkContext, monkeypatch: pytest.MonkeyPatch,
                                                  n: int) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # as the workers have it; int keys hash alike under any seed
    pairs = pairs_of(INT_KEYS, 200)
    partitioned = sc.parallelize(pairs, 3).partitionBy(n)
    assert partitioned.getNumPartitions() == n
    glommed = partitioned.glom().collect()
    assert len(glommed) == n
    for index, part in enumerate(glommed):
        assert all(portable_hash(k) % n == index for k, _ in part), (index, part)
    assert multiset(pair for part in glommed for pair in part) == multiset(pairs)


def test_group_by_key_shuffles_the_records_themselves_and_groups_after_the_shuffle(sc: SparkContext) -> None:
    """As Spark's own groupByKey (not PySpark's): no grouping before the shuffle, which would shrink nothing since
    every value is shuffled anyway. The shuffle reads the pairs as they are; a partitioned RDD is not shuffled again."""
    pairs = sc.parallelize(PAIRS, 3)
    node = pairs.groupByKey()
    while node._kind != RDD.SHUFFLE:
        node = node._parents[0]
    assert node._parents == [pairs]
    partitioned = pairs.partitionBy(2)
    regrouped = partitioned.groupByKey(2)
    assert regrouped.partitioner == partitioned.partitioner
    node = regrouped
    while node is not partitioned:
        assert node._kind != RDD.SHUFFLE
        node = node._parents[0]
    assert sorted_groups({k: list(vs) for k, vs in regrouped.collect()}) == sorted_groups(EXPECTED_GROUPS)


@pytest.mark.parametrize("n", PARTS)
def test_partition_by_custom_function(sc: SparkContext, n: int) -> None:
    pairs = [(w, i) for i, w in enumerate(UNICODE * 4)]
    glommed = sc.parallelize(pairs, 2).partitionBy(n, len).glom().collect()
    for index, part in enumerate(glommed):
        assert all(len(k) % n == index for k, _ in part)
    assert multiset(pair for part in glommed for pair in part) == multiset(pairs)
    # Grouping by a partitioner keeps every key's records in one partition.
    grouped_parts = sc.parallelize(pairs, 2).partitionBy(n, len).groupByKey(n, len).glom().collect()
    for index, part in enumerate(grouped_parts):
        assert all(len(k) % n == index for k, _ in part)


# -- sorting ---------------------------------------------------------------------------------------------------------

SORT_KEYS = [(i * 7919) % 1013 - 500 for i in range(300)] + [BIG, -BIG, 2 ** 64 + 1, 0, 0]
SORT_PAIRS = [(k, f"v{i}ü") for i, k in enumerate(SORT_KEYS)]


def assert_sorted_ranges(glommed: list[list], key, ascending: bool) -> None:
    """Each partition is sorted and holds a key range entirely before the next partition's."""
    flat_keys = [key(record) for part in glommed for record in part]
    assert flat_keys == sorted(flat_keys, reverse=not ascending)
    assert sum(1 for part in glommed if part) > 1  # the data really was spread over ranges


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("ascending", [True, False])
def test_sort_by_key(sc: SparkContext, n: int, ascending: bool) -> None:
    rdd = sc.parallelize(SORT_PAIRS, n)
    result = rdd.sortByKey(ascending).collect()
    assert [k for k, _ in result] == sorted(SORT_KEYS, reverse=not ascending)
    assert multiset(result) == multiset(SORT_PAIRS)
    for parts in (1, 3, 5):
        sorted_rdd = rdd.sortByKey(ascending, parts)
        assert sorted_rdd.getNumPartitions() == parts
        glommed = sorted_rdd.glom().collect()
        assert [k for part in glommed for k, _ in part] == sorted(SORT_KEYS, reverse=not ascending)
        if parts > 1:
            assert_sorted_ranges(glommed, lambda kv: kv[0], ascending)


@pytest.mark.parametrize("n", PARTS)
def test_sort_by_key_with_keyfunc(sc: SparkContext, n: int) -> None:
    words = UNICODE + [w.upper() for w in UNICODE] + ["apple", "Banana", "cherry", "Äpfel"]
    pairs = [(w, i) for i, w in enumerate(words)]
    result = sc.parallelize(pairs, n).sortByKey(True, 3, keyfunc=str.lower).collect()
    assert [k.lower() for k, _ in result] == sorted(w.lower() for w in words)
    assert multiset(result) == multiset(pairs)
    descending = sc.parallelize(pairs, n).sortByKey(False, 2, keyfunc=lambda k: (len(k), k)).collect()
    assert [k for k, _ in descending] == sorted(words, key=lambda k: (len(k), k), reverse=True)
    nested = [((i % 3, (str(i % 5), -i)), None) for i in range(60)]
    assert sc.parallelize(nested, n).sortByKey(numPartitions=4).collect() == sorted(nested)


@pytest.mark.parametrize("n", PARTS)
def test_sort_by_key_of_empty_rdd(sc: SparkContext, n: int) -> None:
    assert sc.parallelize([], n).sortByKey().collect() == []
    assert sc.parallelize([], n).sortByKey(False, 3).collect() == []
    assert sc.parallelize([], n).sortBy(lambda x: x).collect() == []


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("ascending", [True, False])
def test_sort_by(sc: SparkContext, n: int, ascending: bool) -> None:
    rdd = sc.parallelize(SORT_KEYS, n)
    assert rdd.sortBy(lambda x: x, ascending).collect() == sorted(SORT_KEYS, reverse=not ascending)
    by_abs = rdd.sortBy(abs, ascending, 4)
    assert by_abs.getNumPartitions() == 4
    result = by_abs.collect()
    assert [abs(x) for x in result] == sorted((abs(x) for x in SORT_KEYS), reverse=not ascending)
    assert multiset(result) == multiset(SORT_KEYS)
    assert_sorted_ranges(by_abs.glom().collect(), abs, ascending)
    words = sc.parallelize(UNICODE * 2, n)
    assert words.sortBy(lambda w: w[::-1], ascending, 3).collect() == sorted(
        UNICODE * 2, key=lambda w: w[::-1], reverse=not ascending)


# -- joins -----------------------------------------------------------------------------------------------------------

# Keys overlap partly; both sides repeat keys; values include None, unicode and big ints.
LEFT = [(KEYS[(i * 5) % 9], None if i % 7 == 0 else f"l{i}ü") for i in range(40)]
RIGHT = [(KEYS[3 + (i * 4) % 9], (i, BIG + i)) for i in range(30)]


def plain_join(left: list, right: list, keep_left: bool, keep_right: bool) -> list:
    right_groups, left_groups = grouped(right), grouped(left)
    out = []
    for k, v in left:
        if k in right_groups:
            out.extend((k, (v, w)) for w in right_groups[k])
        elif keep_left:
            out.append((k, (v, None)))
    if keep_right:
        out.extend((k, (None, w)) for k, w in right if k not in left_groups)
    return out


JOINS = {
    "join": (False, False),
    "leftOuterJoin": (True, False),
    "rightOuterJoin": (False, True),
    "fullOuterJoin": (True, True),
}


@pytest.mark.parametrize("n", PARTS)
@pytest.mark.parametrize("method", list(JOINS))
def test_joins(sc: SparkContext, n: int, method: str) -> None:
    left, right = sc.parallelize(LEFT, n), sc.parallelize(RIGHT, 2)
    keep_left, keep_right = JOINS[method]
    joined = getattr(left, method)(right)
    assert multiset(joined.collect()) == multiset(plain_join(LEFT, RIGHT, keep_left, keep_right))
    assert getattr(left, method)(right, 5).getNumPartitions() == 5
    # Against an empty side.
    empty = sc.parallelize([], 3)
    assert multiset(getattr(left, method)(empty).collect()) == multiset(plain_join(LEFT, [], keep_left, keep_right))
    assert multiset(getattr(empty, method)(right).collect()) == multiset(
        plain_join([], RIGHT, keep_left, keep_right))


@pytest.mark.parametrize("n", PARTS)
def test_self_join(sc: SparkContext, n: int) -> None:
    rdd = sc.parallelize(PAIRS[:60], n)
    assert multiset(rdd.join(rdd).collect()) == multiset(plain_join(PAIRS[:60], PAIRS[:60], False, False))


@pytest.mark.parametrize("n", PARTS)
def test_cogroup(sc: SparkContext, n: int) -> None:
    result = sc.parallelize(LEFT, n).cogroup(sc.parallelize(RIGHT, 2)).collect()
    keys = set(k for k, _ in LEFT) | set(k for k, _ in RIGHT)
    assert len(result) == len(keys)
    left_groups, right_groups = grouped(LEFT), grouped(RIGHT)
    as_lists = {k: (by_repr(list(a)), by_repr(list(b))) for k, (a, b) in result}
    assert as_lists == {k: (by_repr(left_groups.get(k, [])), by_repr(right_groups.get(k, []))) for k in keys}
    assert sc.parallelize(LEFT, n).cogroup(sc.parallelize(RIGHT, 2), 4).getNumPartitions() == 4


@pytest.mark.parametrize("n", PARTS)
def test_group_with(sc: SparkContext, n: int) -> None:
    third = [(k, -i) for i, k in enumerate(KEYS[::2])]
    result = sc.parallelize(LEFT, n).groupWith(sc.parallelize(RIGHT, 2), sc.parallelize(third, 1)).collect()
    sources = [grouped(LEFT), grouped(RIGHT), grouped(third)]
    keys = set().union(*sources)
    assert {k: tuple(by_repr(list(g)) for g in groups) for k, groups in result} == {
        k: tuple(by_repr(s.get(k, [])) for s in sources) for k in keys}
    two = dict(sc.parallelize(LEFT, n).groupWith(sc.parallelize(RIGHT, 2)).mapValues(
        lambda gs: tuple(len(g) for g in gs)).collect())
    assert two == {k: (len(sources[0].get(k, [])), len(sources[1].get(k, []))) for k in set(sources[0]) | set(
        sources[1])}


@pytest.mark.parametrize("n", PARTS)
def test_subtract_by_key(sc: SparkContext, n: int) -> None:
    result = sc.parallelize(LEFT, n).subtractByKey(sc.parallelize(RIGHT, 2)).collect()
    right_keys = {k for k, _ in RIGHT}
    assert multiset(result) == multiset((k, v) for k, v in LEFT if k not in right_keys)
    assert multiset(sc.parallelize(LEFT, n).subtractByKey(sc.parallelize([], 1)).collect()) == multiset(LEFT)
    assert sc.parallelize(LEFT, n).subtractByKey(sc.parallelize(RIGHT, 2), 3).getNumPartitions() == 3


def test_count_of_keys_after_shuffles(sc: SparkContext) -> None:
    """Chained shuffles: word count, then count of counts."""
    words = [w for i, s in enumerate(UNICODE * 5) for w in (s + f" w{i % 4}").split()]
    counts = sc.parallelize(words, 3).map(lambda w: (w, 1)).reduceByKey(operator.add)
    histogram = counts.map(lambda kv: (kv[1], 1)).reduceByKey(operator.add, 2)
    expected = Counter(Counter(words).values())
    assert dict(histogram.collect()) == dict(expected)


Point = namedtuple("Point", "x y")


def test_a_map_task_puts_each_record_where_portable_hash_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """write_buckets hashes keys of the common types directly, as portable_hash would; every other key (None,
    tuples and their subclasses, other objects) goes through portable_hash itself."""
    from ember import serializers as ser
    from ember import worker

    monkeypatch.setenv("PYTHONHASHSEED", "0")  # as workers have it (this process hashes strings alike anyway)
    keys = [0, -1, 2 ** 70, "ü", b"b", 1.5, True, None, (1, "a"), (None, (2,)), Point(1, 2), frozenset({3}), ()]
    records = [(k, i) for i, k in enumerate(keys * 3)]
    out = io.BytesIO()
    worker.write_buckets(iter(records), portable_hash, 5, out)
    out.seek(0)
    placed = {}
    while out.tell() < len(out.getvalue()):
        bucket = ser.read_int(out)
        for record in ser.loads_batch(ser.read_frame(out)):
            placed[record] = bucket
    assert placed == {record: portable_hash(record[0]) % 5 for record in records}
    # Why a tuple's subclass must not take the direct way: its hash() is not its portable_hash.
    assert hash(Point(1, 2)) != portable_hash(Point(1, 2))
    # Without PYTHONHASHSEED the first key fails, as portable_hash fails, whatever its type.
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.setattr("ember.rdd._hash_seed_checked", False)
    with pytest.raises(RuntimeError, match="PYTHONHASHSEED"):
        worker.write_buckets(iter([(1, 1)]), portable_hash, 5, io.BytesIO())


def test_a_keys_join_output_pairs_each_left_value_with_each_right_value_in_order() -> None:
    from ember.rdd import _JoinPairs

    tagged = [(1, "w1"), (0, "v1"), (1, "w2"), (0, None)]
    for keep_left, keep_right in JOINS.values():
        assert list(_JoinPairs(keep_left, keep_right)(tagged)) == [("v1", "w1"), ("v1", "w2"), (None, "w1"),
                                                                   (None, "w2")]
        lefts_only = list(_JoinPairs(keep_left, keep_right)([(0, "v"), (0, None)]))
        assert lefts_only == ([("v", None), (None, None)] if keep_left else [])
        rights_only = list(_JoinPairs(keep_left, keep_right)([(1, "w"), (1, "x")]))
        assert rights_only == ([(None, "w"), (None, "x")] if keep_right else [])
