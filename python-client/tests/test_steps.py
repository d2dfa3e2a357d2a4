"""Consecutive map, flatMap and filter steps run fused, as one loop per stage (ember.steps): same records in the same
order as applying the steps one after another, and the same failure for a StopIteration a step raises. A shuffle's
map side runs them in its combining loop (ember.merge)."""

from __future__ import annotations

import base64
import json
import operator
import pickle
import random
from typing import Any, Callable
from unittest.mock import patch

import cloudpickle
import pytest

from ember import SparkContext
from ember.merge import CHECK_EVERY, CombineLocally, ExternalMerger, identity
from ember.plan import PlanBuilder
from ember.steps import (FILTER, FLAT_MAP, FLAT_MAP_VALUES, KEYS, MAP, MAP_VALUES, PAIR_WITH, PAIR_WITH_ONE, VALUES,
                         RecordSteps)

# Step functions by kind: each is pure, so plain Python gives the expected records.
FUNCTIONS: dict[str, list[Callable[[Any], Any]]] = {
    MAP: [lambda x: x * 3 + 1, lambda x: -x, lambda x: x // 2],
    FLAT_MAP: [lambda x: range(x % 4), lambda x: [x, x + 1], lambda x: []],
    FILTER: [lambda x: x % 2 == 0, lambda x: x > 5, lambda x: True],
}


def plainly(records: list[int], steps: list[tuple[str, Callable[[Any], Any]]]) -> list[int]:
    for kind, f in steps:
        if kind == MAP:
            records = [f(x) for x in records]
        elif kind == FLAT_MAP:
            records = [y for x in records for y in f(x)]
        else:
            records = [x for x in records if f(x)]
    return records


PAIR_FUNCTIONS: dict[str, list[Callable[[Any], Any]]] = {
    MAP_VALUES: [lambda v: v * 2, lambda v: v - 1],
    FLAT_MAP_VALUES: [lambda v: range(v % 3), lambda v: [v, -v]],
}


def plainly_pairs(records: list[tuple[int, int]], steps: list[tuple[str, Any]]) -> list[Any]:
    """As PySpark's own definitions: mapValues is map(lambda kv: (kv[0], f(kv[1]))), and so on."""
    out: list[Any] = records
    for kind, f in steps:
        if kind == MAP_VALUES:
            out = [(k, f(v)) for k, v in out]
        elif kind == FLAT_MAP_VALUES:
            out = [(k, w) for k, v in out for w in f(v)]
        elif kind == KEYS:
            out = [k for k, _ in out]
        else:
            out = [v for _, v in out]
    return out


def random_chain(rng: random.Random, length: int) -> list[tuple[str, Callable[[Any], Any]]]:
    steps = []
    for _ in range(length):
        kind = rng.choice([MAP, FLAT_MAP, FILTER])
        steps.append((kind, rng.choice(FUNCTIONS[kind])))
    return steps


def test_fused_chains_give_what_the_steps_give_one_after_another() -> None:
    rng = random.Random(22)
    for _ in range(300):
        steps = random_chain(rng, rng.randint(1, 6))
        records = [rng.randint(-20, 20) for _ in range(rng.randint(0, 30))]
        assert list(RecordSteps(tuple(steps))(0, iter(records))) == plainly(records, steps), steps


def test_pair_steps_give_what_their_pyspark_definitions_give(sc: SparkContext) -> None:
    rng = random.Random(3)
    for _ in range(200):
        steps: list[tuple[str, Any]] = []
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice([MAP_VALUES, FLAT_MAP_VALUES])
            steps.append((kind, rng.choice(PAIR_FUNCTIONS[kind])))
        if rng.random() < 0.5:
            steps.append((rng.choice([KEYS, VALUES]), None))
        records = [(rng.randint(0, 5), rng.randint(-9, 9)) for _ in range(rng.randint(0, 20))]
        assert list(RecordSteps(tuple(steps))(0, iter(records))) == plainly_pairs(records, steps), steps
    pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
    assert pairs.mapValues(lambda v: v * 10).flatMapValues(lambda v: [v, v + 1]).values().collect() == \
        [10, 11, 20, 21, 30, 31]
    assert pairs.keys().collect() == ["a", "b", "a"]
    assert pairs.partitionBy(2).mapValues(str).partitioner == pairs.partitionBy(2).partitioner


def test_rdd_chains_run_fused_in_the_workers_with_the_same_results(sc: SparkContext) -> None:
    rng = random.Random(8)
    data = list(range(-50, 200))
    for _ in range(6):
        steps = random_chain(rng, 5)
        rdd = sc.parallelize(data, 3)
        for kind, f in steps:
            rdd = {MAP: rdd.map, FLAT_MAP: rdd.flatMap, FILTER: rdd.filter}[kind](f)
        assert rdd.collect() == plainly(data, steps)


def test_the_plan_composes_consecutive_steps_into_one_function(sc: SparkContext) -> None:
    rdd = sc.parallelize(["a b", "c"], 2).flatMap(str.split).map(lambda w: (w, len(w))).filter(lambda kv: kv[0] != "b")
    plan = PlanBuilder(sc).build(rdd, [0, 1], None, None, "pickle")
    _, inner = pickle.loads(base64.b64decode(plan["stages"][0]["command"]))
    func = cloudpickle.loads(inner).func
    assert isinstance(func, RecordSteps)
    assert [kind for kind, _ in func.steps] == [FLAT_MAP, MAP, FILTER]
    assert rdd.collect() == [("a", 1), ("c", 1)]
    json.dumps(plan)  # The plan stays plain JSON.


def test_steps_after_a_parallelized_range_fuse_too(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(10), 2).map(lambda x: x * 2).filter(lambda x: x % 3).map(str)
    plan = PlanBuilder(sc).build(rdd, [0, 1], None, None, "pickle")
    _, inner = pickle.loads(base64.b64decode(plan["stages"][0]["command"]))
    func = cloudpickle.loads(inner).func  # the range's slices, then one loop of the three steps
    assert isinstance(func.outer, RecordSteps) and [kind for kind, _ in func.outer.steps] == [MAP, FILTER, MAP]
    assert rdd.collect() == [str(x * 2) for x in range(10) if x * 2 % 3]


def _stops(x: int) -> Any:
    if x == 3:
        raise StopIteration("from the user's function")
    return [x] if x % 2 else x


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("kind", [MAP, FLAT_MAP, FILTER])
def test_a_stopiteration_anywhere_in_a_fused_chain_fails_as_in_pyspark(kind: str, position: int) -> None:
    steps: list[tuple[str, Callable[[Any], Any]]] = [(MAP, lambda x: x), (FILTER, lambda x: True),
                                                     (MAP, lambda x: x)]
    steps[position] = (kind, (lambda x: [_stops(x)]) if kind == FLAT_MAP else _stops)
    with pytest.raises(RuntimeError, match="STOP_ITERATION_OCCURRED.*from the user's function"):
        list(RecordSteps(tuple(steps))(0, iter(range(10))))


def test_a_stopiteration_in_a_fused_chain_fails_the_task(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(10), 2).map(lambda x: x + 1).flatMap(lambda x: [x]).map(_stops)
    with pytest.raises(Exception, match="STOP_ITERATION_OCCURRED"):
        rdd.collect()


# -- a shuffle's map side runs the steps before it in its own loop (ember.merge) -------------------------------------

def combine_plainly(records: list[Any], create: Callable[[Any], Any],
                    merge: Callable[[Any, Any], Any]) -> dict[Any, Any]:
    combined: dict[Any, Any] = {}
    for k, v in records:
        combined[k] = merge(combined[k], v) if k in combined else create(v)
    return combined


# The inline forms (reduceByKey's first value kept, operator.add) and general functions.
COMBINERS: list[tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]] = [
    (identity, operator.add), (identity, max), (lambda v: [v], lambda c, v: c + [v]),
    (str, lambda c, v: c + str(v))]


# The last step of a map side: a call, or a pairing with a constant made inline (with 1, a flatMap's records are
# counted in C when the combiners are reduceByKey's add).
PAIRINGS: list[tuple[str, Any]] = [(MAP, lambda x: (x % 7, x)), (PAIR_WITH_ONE, None), (PAIR_WITH, 2),
                                   (PAIR_WITH, "s")]


def pair_plainly(step: tuple[str, Any]) -> Callable[[Any], Any]:
    kind, f = step
    return f if kind == MAP else lambda x: (x, 1 if kind == PAIR_WITH_ONE else f)


def test_the_map_sides_loop_gives_what_the_steps_and_a_dictionary_give() -> None:
    rng = random.Random(5)
    for _ in range(300):
        pairing = rng.choice(PAIRINGS)
        steps = random_chain(rng, rng.randint(0, 4)) + [pairing]
        records = [rng.randint(-20, 20) for _ in range(rng.randint(0, 3 * CHECK_EVERY))]
        create, merge = rng.choice(COMBINERS)
        fused = CombineLocally(create, merge, merge).after(RecordSteps(tuple(steps)))
        assert [kind for kind, _ in fused.record_steps] == [kind for kind, _ in steps]
        expected = combine_plainly(plainly(records, steps[:-1] + [(MAP, pair_plainly(pairing))]), create, merge)
        # No memory limit reached: one combiner per key, in the order the keys came.
        assert list(fused(0, iter(records))) == list(expected.items()), steps


def test_the_map_sides_loop_hands_on_its_combiners_when_memory_runs_out() -> None:
    # Every check finds memory short: the combiners leave after every CHECK_EVERY input records (a tenth of that
    # after a flatMap), and the reduce side's merge of the parts gives the whole.
    for steps, every in (((MAP, lambda x: (x % 10, 1)),), CHECK_EVERY), \
                         (((FLAT_MAP, lambda x: [x, x]), (MAP, lambda x: (x % 10, 1))), CHECK_EVERY // 10), \
                         (((FLAT_MAP, lambda x: [x % 10] * 2), (PAIR_WITH_ONE, None)), CHECK_EVERY // 10):
        merger = ExternalMerger(identity, operator.add, operator.add, limit=0)
        # A stand-in for the process's memory that follows what the merger holds (as in test_merge).
        with patch("ember.merge.resident_bytes", lambda: len(merger.data) * 1000):
            parts = list(merger.combine_partially(iter(range(3 * CHECK_EVERY)), steps))
        assert merger.passes == 3 * CHECK_EVERY // every
        reduce_side = ExternalMerger(identity, operator.add, operator.add, limit=1 << 40)
        reduce_side.merge_combined(parts)
        per_record = 2 if len(steps) == 2 else 1
        assert dict(reduce_side.items()) == {k: per_record * 3 * CHECK_EVERY // 10 for k in range(10)}


@pytest.mark.parametrize("where", ["step", "create", "merge"])
def test_a_stopiteration_in_the_map_sides_loop_fails_as_in_pyspark(where: str) -> None:
    def stop() -> Any:
        raise StopIteration("from the user's function")

    def pair(x: int) -> tuple[int, int]:
        return (x % 3, stop() if where == "step" and x == 3 else x)

    # 2 is key 2's first value (its combiner is created), 4 is key 1's second (merged).
    create = (lambda v: stop() if v == 2 else v) if where == "create" else identity
    merge = (lambda c, v: stop() if v == 4 else c + v) if where == "merge" else operator.add
    fused = CombineLocally(create, merge, merge).after(RecordSteps(((MAP, pair),)))
    with pytest.raises(RuntimeError, match="STOP_ITERATION_OCCURRED.*from the user's function"):
        list(fused(0, iter(range(10))))


def test_a_stopiteration_in_a_counted_flatmap_fails_as_in_pyspark() -> None:
    def words(line: str) -> list[str]:
        if line == "stop":
            raise StopIteration("from the user's function")
        return line.split()

    fused = CombineLocally(identity, operator.add, operator.add).after(
        RecordSteps(((FLAT_MAP, words), (PAIR_WITH_ONE, None))))
    with pytest.raises(RuntimeError, match="STOP_ITERATION_OCCURRED.*from the user's function"):
        list(fused(0, iter(["a b", "stop", "c"])))


def test_a_word_counts_map_side_is_one_loop_in_the_plan(sc: SparkContext) -> None:
    lines = ["a b a", "c", "", "b a"]
    counts = sc.parallelize(lines, 2).flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add)
    plan = PlanBuilder(sc).build(counts, [0, 1], None, None, "pickle")
    _, inner = pickle.loads(base64.b64decode(plan["stages"][0]["command"]))
    func = cloudpickle.loads(inner).func
    combine = func.outer if hasattr(func, "outer") else func  # after the parallelized data's source function
    assert isinstance(combine, CombineLocally)
    # (w, 1) is made inline, and counted as collections.Counter counts (ember.idioms).
    assert combine.record_steps == ((FLAT_MAP, str.split), (PAIR_WITH_ONE, None))
    assert sorted(counts.collect()) == [("a", 3), ("b", 2), ("c", 1)]
    sums = sc.parallelize(range(100), 3).map(lambda x: (x % 4, x)).filter(lambda kv: kv[1] % 5)
    expected = combine_plainly([(x % 4, x) for x in range(100) if x % 5], identity, operator.add)
    assert sorted(sums.reduceByKey(operator.add).collect()) == sorted(expected.items())
    assert sorted(sums.foldByKey(0, operator.add).collect()) == sorted(expected.items())
    assert sorted(sums.aggregateByKey((0, 0), lambda a, v: (a[0] + v, a[1] + 1),
                                      lambda a, b: (a[0] + b[0], a[1] + b[1])).collect()) == \
        sorted((k, (s, sum(1 for x in range(100) if x % 5 and x % 4 == k))) for k, s in expected.items())
