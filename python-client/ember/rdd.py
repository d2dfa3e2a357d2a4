"""RDD: a lazily evaluated, partitioned collection, with PySpark's names and semantics.

Narrow transformations (map, filter, flatMap, mapPartitions, ...) are fused: an RDD holds its source and one
Python function ``f(partition_index, iterator) -> iterator`` that composes every transformation since the source,
so each task runs one function over its partition.
"""

from __future__ import annotations

import operator
from functools import reduce as _reduce
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional

if TYPE_CHECKING:
    from ember.context import SparkContext

PartitionFunction = Callable[[int, Iterator[Any]], Iterable[Any]]


class RDD:
    """A partitioned collection. Create RDDs with ``SparkContext.parallelize`` or ``range``."""

    def __init__(self, ctx: "SparkContext", source: dict, num_partitions: int,
                 func: Optional[PartitionFunction] = None) -> None:
        self.ctx = ctx
        self.context = ctx
        self._source = source
        self._num_partitions = num_partitions
        self._func = func
        self._name: Optional[str] = None

    def _task_function(self) -> PartitionFunction:
        func = self._func
        if func is None:
            return lambda _split, iterator: iterator
        return func

    def __repr__(self) -> str:
        return f"{type(self).__name__}[{self._name or id(self)}] with {self._num_partitions} partitions"

    # -- naming and structure ----------------------------------------------------------------------------------

    def getNumPartitions(self) -> int:
        return self._num_partitions

    def name(self) -> Optional[str]:
        return self._name

    def setName(self, name: str) -> "RDD":
        self._name = name
        return self

    # -- narrow transformations --------------------------------------------------------------------------------

    def mapPartitionsWithIndex(self, f: PartitionFunction, preservesPartitioning: bool = False) -> "RDD":
        """Returns a new RDD by applying ``f(index, iterator)`` to each partition."""
        previous = self._func
        if previous is None:
            fused = f
        else:
            def fused(split: int, iterator: Iterator[Any]) -> Iterable[Any]:
                return f(split, iter(previous(split, iterator)))
        return RDD(self.ctx, self._source, self._num_partitions, fused)

    def mapPartitions(self, f: Callable[[Iterator[Any]], Iterable[Any]],
                      preservesPartitioning: bool = False) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: f(iterator), preservesPartitioning)

    def map(self, f: Callable[[Any], Any], preservesPartitioning: bool = False) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: map(f, iterator), preservesPartitioning)

    def flatMap(self, f: Callable[[Any], Iterable[Any]], preservesPartitioning: bool = False) -> "RDD":
        return self.mapPartitionsWithIndex(
            lambda _split, iterator: chain.from_iterable(map(f, iterator)), preservesPartitioning)

    def filter(self, f: Callable[[Any], bool]) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: filter(f, iterator), True)

    def glom(self) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: [list(iterator)])

    def keyBy(self, f: Callable[[Any], Any]) -> "RDD":
        return self.map(lambda x: (f(x), x))

    # -- actions -----------------------------------------------------------------------------------------------

    def collect(self) -> list:
        """Returns all records, in partition order."""
        return list(self.ctx._run(self))

    def toLocalIterator(self) -> Iterator[Any]:
        return iter(self.ctx._run(self))

    def count(self) -> int:
        return self.mapPartitions(lambda iterator: [sum(1 for _ in iterator)]).sum()

    def sum(self) -> Any:
        return self.mapPartitions(lambda iterator: [sum(iterator)]).fold(0, operator.add)

    def fold(self, zeroValue: Any, op: Callable[[Any, Any], Any]) -> Any:
        """Folds each partition, then the partition results, starting each time from ``zeroValue``."""
        def fold_partition(iterator: Iterator[Any]) -> Iterable[Any]:
            acc = zeroValue
            for item in iterator:
                acc = op(acc, item)
            return [acc]
        return _reduce(op, self.mapPartitions(fold_partition).collect(), zeroValue)

    def reduce(self, f: Callable[[Any, Any], Any]) -> Any:
        """Reduces the records with a commutative and associative function; fails on an empty RDD."""
        def reduce_partition(iterator: Iterator[Any]) -> Iterable[Any]:
            iterator = iter(iterator)
            try:
                initial = next(iterator)
            except StopIteration:
                return []
            return [_reduce(f, iterator, initial)]
        values = self.mapPartitions(reduce_partition).collect()
        if values:
            return _reduce(f, values)
        raise ValueError("Can not reduce() empty RDD")

    def take(self, num: int) -> list:
        """The first ``num`` records. Scans one partition first, then more at a time, as PySpark does, so a
        small take does not compute the whole RDD."""
        items: list = []
        total = self.getNumPartitions()
        scanned = 0
        while len(items) < num and scanned < total:
            to_try = 1
            if scanned > 0:
                if not items:
                    to_try = scanned * 4
                else:
                    # Estimate from the density seen so far, overshooting by half, growing at most fourfold.
                    to_try = int(1.5 * num * scanned / len(items)) - scanned
                    to_try = min(max(to_try, 1), scanned * 4)
            left = num - len(items)

            def take_up_to(iterator: Iterator[Any], left: int = left) -> Iterable[Any]:
                return islice(iterator, left)

            parts = range(scanned, min(scanned + to_try, total))
            items.extend(self.ctx.runJob(self, take_up_to, parts))
            scanned += to_try
        return items[:num]

    def first(self) -> Any:
        rs = self.take(1)
        if rs:
            return rs[0]
        raise ValueError("RDD is empty")

    def isEmpty(self) -> bool:
        return self.getNumPartitions() == 0 or len(self.take(1)) == 0

    def foreach(self, f: Callable[[Any], None]) -> None:
        def process(iterator: Iterator[Any]) -> Iterable[Any]:
            for item in iterator:
                f(item)
            return []
        self.mapPartitions(process).count()

    def foreachPartition(self, f: Callable[[Iterator[Any]], None]) -> None:
        def process(iterator: Iterator[Any]) -> Iterable[Any]:
            f(iterator)
            return []
        self.mapPartitions(process).count()
