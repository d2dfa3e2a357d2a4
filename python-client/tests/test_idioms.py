"""User functions Ember recognises by their bytecode (ember.idioms) and runs inline: only the exact shapes, and
with the results and errors of calling them."""

from __future__ import annotations

import functools
import operator
import types
from collections import Counter
from typing import Any, Callable

import cloudpickle
import pytest

from ember import SparkContext, idioms
from ember.steps import MAP, PAIR_WITH, PAIR_WITH_ONE, RecordSteps

SCALE = 3


def pair_with_name(record: Any) -> tuple[Any, str]:
    return (record, "name")


def pair_twice(record: Any) -> tuple[Any, int]:
    return record, 2


def add_named(left: Any, right: Any) -> Any:
    return left + right


def pairing_generator(record: Any) -> Any:
    yield (record, 1)


# Functions that pair a record with a literal constant, and that constant.
PAIRING: list[tuple[Callable[[Any], Any], Any]] = [
    (lambda w: (w, 1), 1), (lambda x: (x, 0), 0), (lambda x: (x, -1), -1), (lambda x: (x, 1.0), 1.0),
    (lambda x: (x, True), True), (lambda x: (x, None), None), (lambda x: (x, (1, "a")), (1, "a")),
    (lambda x: (x, b"\x00"), b"\x00"), (lambda x: (x, 10 ** 30), 10 ** 30), (pair_with_name, "name"),
    (pair_twice, 2)]

# Functions that look alike but do something else (or may: a closure, a global, a default can change).
NOT_PAIRING: list[Callable[..., Any]] = [
    lambda w: (1, w), lambda w: (w, w), lambda w: [w, 1], lambda w: (w, 1, 1), lambda w: (w,),
    lambda w: (w, SCALE), lambda w: (w, SCALE * 2), lambda w: (w.lower(), 1), lambda w, n=1: (w, n),
    lambda *w: (w, 1), lambda w, *, n=1: (w, 1), lambda w: ((w, 1)[0], 1), pairing_generator,
    functools.partial(lambda w, n: (w, n), n=1), len, operator.itemgetter(0), str.split, tuple]


@pytest.mark.parametrize("f,constant", PAIRING)
def test_pairing_with_a_literal_constant_is_recognised(f: Callable[[Any], Any], constant: Any) -> None:
    assert idioms.pair_constant(f) == (True, constant)
    record = object()
    assert f(record) == (record, constant)


@pytest.mark.parametrize("f", NOT_PAIRING)
def test_other_functions_are_not(f: Callable[..., Any]) -> None:
    assert idioms.pair_constant(f) == (False, None)
    assert idioms.map_step(f) == (MAP, f)


def test_a_closure_over_a_constant_is_not_recognised() -> None:
    n = 1
    assert idioms.pair_constant(lambda w: (w, n)) == (False, None)


def test_map_step_takes_one_as_its_own_kind_and_other_constants_as_values() -> None:
    assert idioms.map_step(lambda w: (w, 1)) == (PAIR_WITH_ONE, None)
    # True == 1 and 1.0 == 1, but their sums are not ints: only the int 1 counts.
    assert idioms.map_step(lambda w: (w, True)) == (PAIR_WITH, True)
    assert idioms.map_step(lambda w: (w, 1.0)) == (PAIR_WITH, 1.0)
    assert idioms.map_step(pair_twice) == (PAIR_WITH, 2)


def test_functions_shipped_to_workers_are_recognised_there_too() -> None:
    # The driver recognises them, but a function cloudpickle rebuilt is what a worker's own code would see.
    assert idioms.pair_constant(cloudpickle.loads(cloudpickle.dumps(lambda w: (w, 1)))) == (True, 1)
    assert idioms.is_plain_add(cloudpickle.loads(cloudpickle.dumps(lambda a, b: a + b)))


@pytest.mark.parametrize("f", [lambda a, b: a + b, lambda x, y: x + y, add_named])
def test_adding_two_parameters_in_order_is_operator_add(f: Callable[[Any, Any], Any]) -> None:
    assert idioms.is_plain_add(f)
    assert idioms.as_operator(f) is operator.add


@pytest.mark.parametrize("f", [
    lambda a, b: b + a, lambda a, b: a - b, lambda a, b: a + a, lambda a, b: a + b + 0, lambda a, b: (a + b,),
    lambda a, b=0: a + b, lambda a, b, c=0: a + b, lambda a: a + a, operator.add, max, sum])
def test_other_two_argument_functions_are_kept(f: Callable[..., Any]) -> None:
    assert not idioms.is_plain_add(f)
    assert idioms.as_operator(f) is f


def test_b_plus_a_is_not_a_plus_b() -> None:
    # Why the order is checked: for strings and lists + is not commutative.
    assert (lambda a, b: b + a)("x", "y") != operator.add("x", "y")


def test_inline_pairs_give_what_calling_the_functions_gives() -> None:
    records = ["a", 1, None, (2, 3), 1.5]
    for f, _ in PAIRING:
        step = idioms.map_step(f)
        assert step[0] in (PAIR_WITH, PAIR_WITH_ONE)
        assert list(RecordSteps((step,))(0, iter(records))) == [f(r) for r in records]


def test_a_word_count_written_with_lambdas_counts_in_the_workers(sc: SparkContext) -> None:
    lines = ["the cat and the hat", "", "a cat", "The end the", "tab\tand  spaces"] * 400
    rdd = sc.parallelize(lines, 3).flatMap(lambda line: line.split()).map(lambda w: (w, 1))
    counts = rdd.reduceByKey(lambda a, b: a + b, 2)
    expected = Counter(w for line in lines for w in line.split())
    assert sorted(counts.collect()) == sorted(expected.items())
    # Other constants and value types keep their meaning: 1.0 sums to floats, True to ints, "x" concatenates.
    floats = rdd.map(lambda wv: wv[0]).map(lambda w: (w, 1.0)).reduceByKey(lambda a, b: a + b)
    assert sorted(floats.collect()) == sorted((w, float(n)) for w, n in expected.items())
    assert all(type(v) is float for _, v in floats.collect())
    flags = rdd.map(lambda wv: wv[0]).map(lambda w: (w, True)).reduceByKey(lambda a, b: a + b)
    assert sorted(flags.collect()) == sorted((w, True if n == 1 else n) for w, n in expected.items())
    letters = sc.parallelize(["b", "a", "b"], 2).map(lambda w: (w, "x")).reduceByKey(lambda a, b: a + b)
    assert sorted(letters.collect()) == [("a", "x"), ("b", "xx")]


def test_an_unhashable_word_fails_the_task_as_it_would_uncounted(sc: SparkContext) -> None:
    rdd = sc.parallelize([[1, 2]], 1).flatMap(lambda x: [x]).map(lambda w: (w, 1)).reduceByKey(operator.add)
    with pytest.raises(Exception, match="unhashable type: 'list'"):
        rdd.collect()


class Halting:
    """A value whose + raises StopIteration, as a user's class might."""

    def __add__(self, other: Any) -> Any:
        raise StopIteration("from __add__")


def test_actions_with_a_plus_b_give_what_calling_it_gives(sc: SparkContext) -> None:
    words = ["b", "a", "c", "d", "e", "f", "g"]
    rdd = sc.parallelize(words, 3)
    # + on strings is not commutative: reduce and fold keep the order of records and partitions.
    assert rdd.reduce(lambda a, b: a + b) == "bacdefg"
    assert rdd.fold("", lambda a, b: a + b) == "bacdefg"
    assert rdd.aggregate("", lambda acc, w: acc + w, lambda x, y: x + y) == "bacdefg"
    assert rdd.map(lambda w: (w < "d", w)).reduceByKeyLocally(lambda a, b: a + b) == {True: "bac", False: "defg"}
    numbers = sc.parallelize(range(1000), 4)
    assert numbers.reduce(lambda a, b: a + b) == sum(range(1000))
    assert numbers.map(lambda x: [x]).fold([], lambda a, b: a + b) == list(range(1000))


def test_a_stopiteration_from_plus_still_fails_the_task_as_in_pyspark(sc: SparkContext) -> None:
    halting = sc.parallelize([1, 2, 3], 2).map(lambda _: Halting())
    message = "Caught StopIteration thrown from user's code; failing the task"
    for action in (lambda: halting.reduce(lambda a, b: a + b), lambda: halting.fold(Halting(), lambda a, b: a + b),
                   lambda: halting.aggregate(Halting(), lambda a, b: a + b, lambda a, b: a + b),
                   lambda: halting.map(lambda h: (1, h)).reduceByKey(lambda a, b: a + b).collect(),
                   lambda: halting.map(lambda h: (1, h)).reduceByKeyLocally(lambda a, b: a + b)):
        with pytest.raises(RuntimeError, match=message):
            action()


def test_parameters_are_matched_by_slot_not_by_name() -> None:
    # A code object built by hand may give two slots one name: (y, 1) below reads a slot that is not a parameter.
    def second(x: Any, y: Any) -> tuple[Any, int]:
        return (y, 1)

    one_parameter = second.__code__.replace(co_argcount=1, co_varnames=("x", "x"))
    assert idioms.pair_constant(types.FunctionType(one_parameter, {})) == (False, None)

    def swapped(a: Any, b: Any) -> Any:
        return b + a

    renamed = swapped.__code__.replace(co_varnames=("b", "a"))  # Reads as a + b by name; still slot 1 + slot 0.
    assert not idioms.is_plain_add(types.FunctionType(renamed, {}))
