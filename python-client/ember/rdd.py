"""RDD: a lazily evaluated, partitioned collection, with PySpark's names, arguments and semantics.

An RDD is a node in a lineage: a source (driver data or generated partitions), a narrow transformation of one
parent, a union of several, or a shuffle of one parent by key. When an action runs, the lineage is compiled into
stages (see ``ember.plan``): narrow transformations are fused into one Python function per stage, and stages split
at shuffles and at persisted RDDs.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import math
import operator
import os
import random
import shlex
import subprocess
import sys
import threading
import warnings
from collections import _count_elements, defaultdict  # type: ignore[attr-defined]  # Counter's loop, in C
from functools import partial
from functools import reduce as _reduce
from itertools import chain, islice
from typing import (TYPE_CHECKING, Any, Callable, Generic, Hashable, Iterable, Iterator, Optional, Sequence, TypeVar,
                    Union)

from ember import idioms, steps
from ember.errors import stop_iteration_error as _stop_iteration
from ember.merge import CombineLocally, ExternalMerger, append_to_group, extend_group, identity, start_group
from ember.statcounter import StatCounter
from ember.steps import RecordSteps
from ember.storagelevel import StorageLevel

if TYPE_CHECKING:
    from types import FrameType

    from ember.context import SparkContext

PartitionFunction = Callable[[int, Iterator[Any]], Iterable[Any]]

# The type parameters of RDD's signatures (for type checkers only): T the records of an RDD, U those of a new one;
# in a pair RDD, RDD[tuple[K, V]], K the keys (hashable, as a shuffle needs) and V the values.
T = TypeVar("T")
U = TypeVar("U")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
# mypy 1.13 binds a self-typed method (keys(), groupByKey(), ...) wrongly when RDD's own code calls it on an RDD whose
# type mentions T; those few internal calls carry a "type: ignore" that says "self-typed call". Callers outside the
# class are checked correctly.


_hash_seed_checked = False


def _check_hash_seed() -> None:
    """PySpark's check, once per process rather than per key (looking up os.environ cost more than the hash)."""
    global _hash_seed_checked
    if "PYTHONHASHSEED" not in os.environ:
        raise RuntimeError("Randomness of hash of string should be disabled via PYTHONHASHSEED")
    _hash_seed_checked = True


def portable_hash(x: Hashable) -> int:
    """A hash that is the same in every worker: PySpark's rules (tuples combine their items; None hashes to 0),
    with ``PYTHONHASHSEED`` fixed so strings hash alike across processes."""
    if not _hash_seed_checked:
        _check_hash_seed()
    if x is None:
        return 0
    if isinstance(x, tuple):
        h = 0x345678
        for item in x:
            h ^= portable_hash(item)
            h *= 1000003
            h &= sys.maxsize
        h ^= len(x)
        if h == -1:
            h = -2
        return int(h)
    return hash(x)


class Partitioner:
    """How a shuffled RDD's keys map to partitions; equal partitioners let joins skip a shuffle."""

    def __init__(self, numPartitions: int, partitionFunc: Callable[[Any], int]) -> None:
        self.numPartitions = numPartitions
        self.partitionFunc = partitionFunc

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Partitioner) and self.numPartitions == other.numPartitions
                and self.partitionFunc == other.partitionFunc)

    def __hash__(self) -> int:
        return hash((self.numPartitions, id(self.partitionFunc)))

    def __call__(self, k: Any) -> int:
        return self.partitionFunc(k) % self.numPartitions


class ResultIterable(Generic[T]):
    """The values of one key after groupByKey or cogroup: iterable, sized, and re-iterable.

    Examples
    --------
    >>> values = sc.parallelize([("a", 1), ("a", 2)]).groupByKey().collect()[0][1]
    >>> len(values), sorted(values), sorted(values)
    (2, [1, 2], [1, 2])
    """

    def __init__(self, data: list[T]) -> None:
        self.data = data
        self.index = 0
        self.maxindex = len(data)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResultIterable):
            return self.data == other.data
        return NotImplemented

    def __repr__(self) -> str:
        return f"ResultIterable({self.data!r})"


class RDD(Generic[T]):
    """A partitioned collection of records (of type ``T`` for a type checker). Create RDDs with
    ``SparkContext.parallelize``, ``range`` or ``textFile``; transformations (``map``, ``filter``, ``reduceByKey``,
    ...) describe new RDDs without computing anything, and actions (``collect``, ``count``, ``saveAsTextFile``, ...)
    run jobs.

    Examples
    --------
    >>> words = sc.parallelize(["to", "be", "or", "not", "to", "be"])
    >>> counts = words.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
    >>> sorted(counts.collect())
    [('be', 2), ('not', 1), ('or', 1), ('to', 2)]
    """

    # Kinds of lineage node.
    SOURCE, NARROW, UNION, SHUFFLE = "source", "narrow", "union", "shuffle"

    # Attributes only some RDDs have (read with getattr, so declared here without a value): set by
    # PlanBuilder._materialize on an aligned union computed in a stage of its own, and by files.open_files on an RDD
    # over files the JVM reads (its input's id, for malformedCount).
    _materialized: bool
    _file_input_id: int

    def __init__(self, ctx: "SparkContext", kind: str, num_partitions: int, *, segment: Optional[dict] = None,
                 func: Optional[PartitionFunction] = None, parents: Sequence["RDD[Any]"] = (),
                 partitioner: Optional[Partitioner] = None, source: Optional[str] = None) -> None:
        """``source`` names what a source node reads, Spark's way (``ParallelCollectionRDD``, ``EmptyRDD``, ...),
        for repr and toDebugString."""
        self.ctx = ctx
        self._kind = kind
        self._num_partitions = num_partitions
        self._segment = segment
        self._func = func
        self._parents = list(parents)
        self.partitioner = partitioner
        self._assigned_id: Optional[int] = None
        self._creation = _creation_site()
        self._source_class = source or "PythonRDD"
        self._name: Optional[str] = None
        self.is_cached = False
        self._storage_level = StorageLevel(False, False, False, False, 1)
        self.is_checkpointed = False
        # is_checkpointed (PySpark's attribute) says it is marked for a reliable checkpoint; the checkpoint itself is
        # made after the next job that computes it ("reliable" or "local" waits in _checkpoint_wanted till then).
        self._checkpoint_wanted: Optional[str] = None
        self._checkpoint_done = False
        self._checkpoint_file: Optional[str] = None
        self._locally_checkpointed = False
        # Made by RDDBarrier: the stage that computes this RDD runs as a barrier stage.
        self._barrier = False
        # A union of co-partitioned RDDs: partition i reads partition i of each parent (SparkContext.union).
        self._aligned = False
        if kind == RDD.SHUFFLE:
            self._shuffle_id = ctx._new_shuffle_id()
            ctx._on_release(self, "dropShuffle", self._shuffle_id)

    @property
    def context(self) -> "SparkContext":
        """The SparkContext this RDD belongs to.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).context is sc
        True
        """
        return self.ctx

    def id(self) -> int:
        """A number unique among this context's RDDs. As in PySpark, it is given when first asked for (so an RDD
        fused into a pipeline gets none), and ids grow in that order.

        Examples
        --------
        >>> first, second = sc.parallelize([1]), sc.parallelize([2])
        >>> first.id() < second.id(), first.id() == first.id()
        (True, True)
        """
        return self._id

    @property
    def _id(self) -> int:
        if self._assigned_id is None:
            self._assigned_id = self.ctx._new_rdd_id()
        return self._assigned_id

    def __repr__(self) -> str:
        """As Spark's: ``[name ]Class[id] at operation at file:line``, the class named after what the node is."""
        name = f"{self._name} " if self._name else ""
        return f"{name}{self._node_class()}[{self._id}] at {self._creation}"

    def _node_class(self) -> str:
        if self._checkpoint_file is not None:
            return "ReliableCheckpointRDD"
        if self._kind == RDD.SOURCE:
            return self._source_class
        return {RDD.NARROW: "PythonRDD", RDD.UNION: "UnionRDD", RDD.SHUFFLE: "ShuffledRDD"}[self._kind]

    def __getnewargs__(self) -> Any:
        raise RuntimeError(
            "It appears that you are attempting to broadcast an RDD or reference an RDD from an action or "
            "transformation. RDD transformations and actions can only be invoked by the driver, not inside of other "
            "transformations; for example, rdd1.map(lambda x: rdd2.values.count() * x) is invalid because the "
            "values transformation and count action cannot be performed inside of the rdd1.map transformation. "
            "For more information, see SPARK-5063.")

    # -- naming, structure, persistence --------------------------------------------------------------------------

    def getNumPartitions(self) -> int:
        """The number of partitions of this RDD.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4], 3).getNumPartitions()
        3
        >>> sc.parallelize([1, 2, 3, 4], 3).coalesce(1).getNumPartitions()
        1
        """
        return self._num_partitions

    def name(self) -> Optional[str]:
        """The name given with ``setName``, or None.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2])
        >>> rdd.name() is None
        True
        >>> rdd.setName("numbers").name()
        'numbers'
        """
        return self._name

    def setName(self, name: str) -> "RDD[T]":
        """Names this RDD (``repr`` and ``toDebugString`` show the name) and returns it.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2]).setName("numbers")
        >>> repr(rdd)  # doctest: +ELLIPSIS
        'numbers ParallelCollectionRDD[...] at parallelize at ...'
        """
        self._name = name
        return self

    def toDebugString(self) -> bytes:
        """The lineage, as Spark prints it: one line per RDD, `` |  `` within a stage, `` +-(n) `` where the map
        side of a shuffle starts another; a persisted RDD shows its storage level.

        Examples
        --------
        >>> pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> print(pairs.reduceByKey(lambda a, b: a + b).toDebugString().decode())  # doctest: +ELLIPSIS
        (2) PythonRDD[...] at reduceByKey at ... []
         |  ShuffledRDD[...] at reduceByKey at ... []
         +-(2) PythonRDD[...] at reduceByKey at ... []
            |  ParallelCollectionRDD[...] at parallelize at ... []
        """
        lines: list[str] = []

        def walk(rdd: RDD, prefix: str, head: str) -> None:
            level = f"[{rdd._storage_level}]" if rdd.is_cached else "[]"
            lines.append(f"{head}{rdd!r} {level}")
            for parent in rdd._parents:
                if rdd._kind == RDD.SHUFFLE:
                    walk(parent, prefix + "   ", f"{prefix} +-({parent._num_partitions}) ")
                else:
                    walk(parent, prefix, f"{prefix} |  ")

        walk(self, "", f"({self._num_partitions}) ")
        return "\n".join(lines).encode("utf-8")

    def cache(self) -> "RDD[T]":
        """Keeps the computed partitions in the engine (memory first, disk past its budget) for later jobs;
        ``persist`` with ``StorageLevel.MEMORY_ONLY``. Returns this RDD.

        Examples
        --------
        >>> squares = sc.parallelize(range(5)).map(lambda x: x * x).cache()
        >>> squares.is_cached, squares.sum(), squares.count()
        (True, 30, 5)
        >>> squares = squares.unpersist()
        """
        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY) -> "RDD[T]":
        """Keeps the computed partitions in the engine for later jobs (in memory, spilling to disk past the
        engine's budget, whatever the level); the level of a persisted RDD cannot be changed, as in Spark.
        Returns this RDD.

        Examples
        --------
        >>> rdd = sc.parallelize(range(10)).persist(StorageLevel.MEMORY_AND_DISK)
        >>> print(rdd.getStorageLevel())
        Disk Memory Serialized 1x Replicated
        >>> rdd.count()
        10
        >>> rdd.persist(StorageLevel.DISK_ONLY)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: Cannot change storage level of an RDD after it was already assigned a level ...
        >>> rdd = rdd.unpersist()
        """
        if not isinstance(storageLevel, StorageLevel):
            raise TypeError(f"storageLevel must be of type ember.StorageLevel, got {storageLevel!r}")
        if self.is_cached and storageLevel != self._storage_level:
            raise ValueError(f"Cannot change storage level of an RDD after it was already assigned a level (it is "
                             f"{self._storage_level!r}); unpersist() it first")
        self.is_cached = True
        self._storage_level = storageLevel
        return self

    def unpersist(self, blocking: bool = False) -> "RDD[T]":
        """Drops this RDD's persisted partitions from the engine and marks it as not persisted; later jobs compute
        it again. Returns this RDD.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2]).cache()
        >>> rdd.unpersist().is_cached
        False
        >>> print(rdd.getStorageLevel())
        Serialized 1x Replicated
        """
        if self.is_cached:
            self.is_cached = False
            self._storage_level = StorageLevel(False, False, False, False, 1)
            self.ctx._unpersist_rdd(self._id)
        return self

    def getStorageLevel(self) -> StorageLevel:
        """How this RDD is persisted: ``StorageLevel(False, False, False, False, 1)`` when it is not.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2])
        >>> rdd.getStorageLevel()
        StorageLevel(False, False, False, False, 1)
        >>> rdd.cache().getStorageLevel() == StorageLevel.MEMORY_ONLY
        True
        >>> rdd = rdd.unpersist()
        """
        return self._storage_level

    def checkpoint(self) -> None:
        """Marks this RDD for a reliable checkpoint: after the next job that computes it, its partitions are written
        under ``sc.setCheckpointDir``'s directory and its lineage is cut, so later jobs read those files (and no
        longer need the shuffles it came from). Cache it first to spare the second computation.

        Examples
        --------
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sc.setCheckpointDir(d)
        ...     rdd = sc.parallelize(range(6), 2).map(lambda x: x * 10)
        ...     rdd.checkpoint()
        ...     marked = rdd.isCheckpointed()
        ...     total = rdd.sum()
        ...     written = rdd.isCheckpointed()
        ...     again = rdd.collect()
        >>> marked, total, written
        (False, 150, True)
        >>> again
        [0, 10, 20, 30, 40, 50]
        """
        if self.ctx._checkpoint_dir is None:
            raise RuntimeError("Checkpoint directory has not been set in the SparkContext: call "
                               "sc.setCheckpointDir(path) first")
        if not self._checkpoint_done:
            self.is_checkpointed = True
            self._checkpoint_wanted = "reliable"

    def localCheckpoint(self) -> None:
        """Marks this RDD for a local checkpoint: it is kept in the engine (memory, then disk) from the next job that
        computes it on, as Spark keeps it in the executors' block stores; faster, but lost with the context.

        Examples
        --------
        >>> rdd = sc.parallelize(range(4), 2).map(lambda x: x + 1)
        >>> rdd.localCheckpoint()
        >>> rdd.isLocallyCheckpointed(), rdd.isCheckpointed()
        (True, False)
        >>> rdd.collect()
        [1, 2, 3, 4]
        >>> rdd.isCheckpointed(), rdd.getStorageLevel() == StorageLevel.MEMORY_AND_DISK
        (True, True)
        """
        if not self.is_cached:
            self.persist(StorageLevel.MEMORY_AND_DISK)
        self._locally_checkpointed = True
        if not self._checkpoint_done:
            self._checkpoint_wanted = "local"

    def isCheckpointed(self) -> bool:
        """Whether a job has checkpointed this RDD (reliably or locally) since it was marked.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2, 3])
        >>> rdd.isCheckpointed()
        False
        >>> rdd.localCheckpoint()
        >>> rdd.count()
        3
        >>> rdd.isCheckpointed()
        True
        """
        return self._checkpoint_done

    def isLocallyCheckpointed(self) -> bool:
        """Whether this RDD is marked for a local checkpoint.

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2, 3])
        >>> rdd.isLocallyCheckpointed()
        False
        >>> rdd.localCheckpoint()
        >>> rdd.isLocallyCheckpointed()
        True
        """
        return self._locally_checkpointed

    def getCheckpointFile(self) -> Optional[str]:
        """The ``file:`` URI of a reliable checkpoint's directory, or None.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sc.setCheckpointDir(d)
        ...     rdd = sc.parallelize([1, 2, 3])
        ...     rdd.checkpoint()
        ...     before = rdd.getCheckpointFile()
        ...     _ = rdd.count()
        ...     inside = rdd.getCheckpointFile().startswith("file:" + os.path.abspath(d) + os.sep)
        >>> before is None, inside
        (True, True)
        """
        return None if self._checkpoint_file is None else "file:" + self._checkpoint_file

    def _checkpoint_after_job(self) -> None:
        """Called after a job that computed this marked RDD: writes a reliable checkpoint and cuts the lineage."""
        wanted, self._checkpoint_wanted = self._checkpoint_wanted, None
        if wanted == "local":
            self._checkpoint_done = True
            return
        from ember import files
        directory = os.path.join(self.ctx._checkpoint_dir, f"rdd-{self._id}")  # type: ignore[arg-type]  # is set
        files.write_checkpoint(self, directory)
        self._kind, self._parents, self._segment = RDD.SOURCE, [], {"kind": "empty"}
        self._func = files.checkpoint_reader(directory, self._num_partitions)
        self._checkpoint_file = directory
        self._checkpoint_done = True

    # -- narrow transformations --------------------------------------------------------------------------------

    def barrier(self) -> "RDDBarrier[T]":
        """Marks the stage of the next mapPartitions as a barrier stage: its tasks all start together (or the job
        fails at once when they outnumber the context's slots) and may sync with ``BarrierTaskContext``.

        Examples
        --------
        >>> from ember import BarrierTaskContext
        >>> def partition_sums(iterator):
        ...     return BarrierTaskContext.get().allGather(str(sum(iterator)))
        >>> sc.parallelize([1, 2, 3, 4], 2).barrier().mapPartitions(partition_sums).collect()
        ['3', '7', '3', '7']
        """
        return RDDBarrier(self)

    def _is_barrier(self) -> bool:
        """Whether this RDD is computed in a barrier stage: made by RDDBarrier, or fused into such a stage."""
        rdd: Optional[RDD] = self
        while rdd is not None:
            if rdd._barrier:
                return True
            rdd = rdd._parents[0] if rdd._kind == RDD.NARROW and not rdd._parents[0].is_cached else None
        return False

    def mapPartitionsWithIndex(self, f: Callable[[int, Iterator[T]], Iterable[U]],
                               preservesPartitioning: bool = False) -> "RDD[U]":
        """Returns a new RDD by applying ``f(index, iterator)`` to each partition. ``preservesPartitioning`` says
        that ``f`` keeps each pair's key, so the partitioner is kept (a later join or reduceByKey needs no shuffle).

        Examples
        --------
        >>> rdd = sc.parallelize([1, 2, 3, 4], 2)
        >>> rdd.mapPartitionsWithIndex(lambda index, iterator: [(index, sum(iterator))]).collect()
        [(0, 3), (1, 7)]
        """
        return RDD(self.ctx, RDD.NARROW, self._num_partitions, func=f, parents=[self],
                   partitioner=self.partitioner if preservesPartitioning else None)

    def mapPartitions(self, f: Callable[[Iterator[T]], Iterable[U]],
                      preservesPartitioning: bool = False) -> "RDD[U]":
        """Returns a new RDD by applying ``f`` to the iterator of each partition's records.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4], 2).mapPartitions(lambda iterator: [sum(iterator)]).collect()
        [3, 7]
        >>> def running_total(iterator):
        ...     total = 0
        ...     for x in iterator:
        ...         total += x
        ...         yield total
        >>> sc.parallelize([1, 2, 3, 4], 2).mapPartitions(running_total).collect()
        [1, 3, 3, 7]
        """
        return self.mapPartitionsWithIndex(_WithoutIndex(f), preservesPartitioning)

    def mapPartitionsWithSplit(self, f: Callable[[int, Iterator[T]], Iterable[U]],
                               preservesPartitioning: bool = False) -> "RDD[U]":
        """Deprecated: use mapPartitionsWithIndex (this warns with a FutureWarning, then calls it).

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     rdd = sc.parallelize([1, 2, 3, 4], 2).mapPartitionsWithSplit(lambda split, iterator: [split])
        >>> rdd.collect(), [w.category.__name__ for w in caught]
        ([0, 1], ['FutureWarning'])
        """
        warnings.warn("mapPartitionsWithSplit is deprecated; use mapPartitionsWithIndex instead", FutureWarning,
                      stacklevel=2)
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def map(self, f: Callable[[T], U], preservesPartitioning: bool = False) -> "RDD[U]":
        """Returns a new RDD of ``f(record)`` for each record.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).map(lambda x: x * 2).collect()
        [2, 4, 6]
        >>> sc.parallelize(["a", "bb"]).map(len).collect()
        [1, 2]
        """
        return self.mapPartitionsWithIndex(RecordSteps((idioms.map_step(f),)), preservesPartitioning)

    def flatMap(self, f: Callable[[T], Iterable[U]], preservesPartitioning: bool = False) -> "RDD[U]":
        """Returns a new RDD of all the records of the iterables ``f`` returns, one after another.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).flatMap(lambda x: range(x)).collect()
        [0, 0, 1, 0, 1, 2]
        >>> sc.parallelize(["a b", "c"]).flatMap(str.split).collect()
        ['a', 'b', 'c']
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.FLAT_MAP, f),)), preservesPartitioning)

    def filter(self, f: Callable[[T], object]) -> "RDD[T]":
        """Returns a new RDD of the records for which ``f`` is true; the partitioning is kept.

        Examples
        --------
        >>> sc.parallelize(range(10)).filter(lambda x: x % 3 == 0).collect()
        [0, 3, 6, 9]
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.FILTER, f),)), True)

    def glom(self) -> "RDD[list[T]]":
        """Returns an RDD with one record per partition: the list of its records.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4, 5], 2).glom().collect()
        [[1, 2], [3, 4, 5]]
        """
        return self.mapPartitionsWithIndex(lambda _split, iterator: [list(iterator)])

    def keyBy(self, f: Callable[[T], K]) -> "RDD[tuple[K, T]]":
        """Returns an RDD of ``(f(record), record)`` pairs.

        Examples
        --------
        >>> sc.parallelize(["apple", "fig"]).keyBy(len).collect()
        [(5, 'apple'), (3, 'fig')]
        """
        return self.map(lambda x: (f(x), x))

    def keys(self: "RDD[tuple[K, V]]") -> "RDD[K]":
        """Returns the keys of a pair RDD.

        Examples
        --------
        >>> sc.parallelize([("a", 1), ("b", 2)]).keys().collect()
        ['a', 'b']
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.KEYS, None),)))

    def values(self: "RDD[tuple[K, V]]") -> "RDD[V]":
        """Returns the values of a pair RDD.

        Examples
        --------
        >>> sc.parallelize([("a", 1), ("b", 2)]).values().collect()
        [1, 2]
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.VALUES, None),)))

    def mapValues(self: "RDD[tuple[K, V]]", f: Callable[[V], U]) -> "RDD[tuple[K, U]]":
        """Applies ``f`` to the value of each pair, keeping its key (and the RDD's partitioner).

        Examples
        --------
        >>> sc.parallelize([("a", [1, 2]), ("b", [3])]).mapValues(len).collect()
        [('a', 2), ('b', 1)]
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.MAP_VALUES, f),)), preservesPartitioning=True)

    def flatMapValues(self: "RDD[tuple[K, V]]", f: Callable[[V], Iterable[U]]) -> "RDD[tuple[K, U]]":
        """Pairs each key with every item of ``f(value)``, keeping the RDD's partitioner.

        Examples
        --------
        >>> sc.parallelize([("a", "xy"), ("b", "z")]).flatMapValues(list).collect()
        [('a', 'x'), ('a', 'y'), ('b', 'z')]
        """
        return self.mapPartitionsWithIndex(RecordSteps(((steps.FLAT_MAP_VALUES, f),)), preservesPartitioning=True)

    def sample(self, withReplacement: bool, fraction: float, seed: Optional[int] = None) -> "RDD[T]":
        """Samples each record with probability ``fraction`` (or, with replacement, a Poisson number of times).
        The same seed gives the same sample of the same partitions.

        Examples
        --------
        >>> rdd = sc.parallelize(range(100), 4)
        >>> picked = rdd.sample(False, 0.2, seed=7).collect()
        >>> picked == rdd.sample(False, 0.2, seed=7).collect()
        True
        >>> set(picked) <= set(range(100)), 5 < len(picked) < 40
        (True, True)
        """
        if fraction < 0.0:
            raise ValueError(f"Fraction must be nonnegative, got {fraction}")
        base = seed if seed is not None else random.randrange(sys.maxsize)

        def sample_partition(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            rng = random.Random(base ^ split)
            if withReplacement:
                for item in iterator:
                    for _ in range(_poisson(rng, fraction)):
                        yield item
            else:
                for item in iterator:
                    if rng.random() < fraction:
                        yield item

        return self.mapPartitionsWithIndex(sample_partition, True)

    def randomSplit(self, weights: Sequence[float], seed: Optional[int] = None) -> list["RDD[T]"]:
        """Splits into RDDs whose sizes follow ``weights``; every record lands in exactly one of them.

        Examples
        --------
        >>> train, test = sc.parallelize(range(20), 2).randomSplit([3, 1], seed=11)
        >>> sorted(train.collect() + test.collect()) == list(range(20))
        True
        >>> set(train.collect()) & set(test.collect())
        set()
        """
        if any(w < 0 for w in weights):
            raise ValueError("Weights must be nonnegative")
        total = float(sum(weights))
        if total <= 0:
            raise ValueError("Sum of weights must be positive")
        bounds = [0.0]
        for w in weights:
            bounds.append(bounds[-1] + w / total)
        base = seed if seed is not None else random.randrange(sys.maxsize)

        def split_range(lower: float, upper: float) -> PartitionFunction:
            def keep(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
                rng = random.Random(base ^ split)
                for item in iterator:
                    draw = rng.random()
                    if lower <= draw < upper:
                        yield item
            return keep

        return [self.mapPartitionsWithIndex(split_range(bounds[i], bounds[i + 1]), True)
                for i in range(len(weights))]

    def sampleByKey(self: "RDD[tuple[K, V]]", withReplacement: bool, fractions: dict[K, float],
                    seed: Optional[int] = None) -> "RDD[tuple[K, V]]":
        """Samples each (key, value) record with the fraction of its key (every key must have one).

        Examples
        --------
        >>> pairs = sc.parallelize([(k, i) for k in "ab" for i in range(10)], 2)
        >>> picked = pairs.sampleByKey(False, {"a": 1.0, "b": 0.0}, seed=5).collect()
        >>> len(picked), sorted({k for k, _ in picked})
        (10, ['a'])
        """
        for key, fraction in fractions.items():
            if fraction < 0.0:
                raise ValueError(f"Negative fraction value: {fraction} (key {key!r})")
        base = seed if seed is not None else random.randrange(sys.maxsize)

        def sample_partition(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            rng = random.Random(base ^ split)
            for record in iterator:
                fraction = fractions[record[0]]
                if withReplacement:
                    for _ in range(_poisson(rng, fraction)):
                        yield record
                elif rng.random() < fraction:
                    yield record

        return self.mapPartitionsWithIndex(sample_partition, True)

    def pipe(self, command: str, env: Optional[dict[str, str]] = None, checkCode: bool = False) -> "RDD[str]":
        """Feeds each partition's records (``str(record)``, one per line) to a command and returns its output lines.
        As in PySpark, the command runs with ``env`` as its whole environment (empty when not given); with
        ``checkCode``, a non-zero exit fails the task.

        Examples
        --------
        >>> sc.parallelize(["hello", "world"], 1).pipe("tr a-z A-Z").collect()
        ['HELLO', 'WORLD']
        >>> sc.parallelize([3, 1, 2], 1).pipe("sort").collect()
        ['1', '2', '3']
        """
        environment = dict(env or {})

        def run(iterator: Iterator[Any]) -> Iterator[str]:
            proc = subprocess.Popen(shlex.split(command), env=environment, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)

            def feed() -> None:
                try:
                    for item in iterator:
                        proc.stdin.write((str(item).rstrip("\n") + "\n").encode("utf-8"))  # type: ignore[union-attr]
                except BrokenPipeError:
                    pass  # The command stopped reading; its exit code tells the rest.
                finally:
                    try:
                        proc.stdin.close()  # type: ignore[union-attr]  # a pipe
                    except BrokenPipeError:
                        pass

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            for line in proc.stdout:  # type: ignore[union-attr]  # a pipe
                yield line.rstrip(b"\n").decode("utf-8")
            writer.join()
            code = proc.wait()
            if checkCode and code:
                raise RuntimeError(f"[PIPE_FUNCTION_EXITED] Pipe function `{command}` exited with error code {code}.")

        return self.mapPartitions(run)

    # -- unions and shuffles -----------------------------------------------------------------------------------

    def union(self, other: "RDD[U]") -> "RDD[Union[T, U]]":
        """The records of this RDD, then those of ``other`` (duplicates are kept); see ``SparkContext.union``.

        Examples
        --------
        >>> first, second = sc.parallelize([1, 2], 1), sc.parallelize([2, 3], 1)
        >>> first.union(second).collect()
        [1, 2, 2, 3]
        >>> (first + second).getNumPartitions()
        2
        """
        return self.ctx.union([self, other])  # type: ignore[list-item]  # a union of two record types

    def __add__(self, other: "RDD[U]") -> "RDD[Union[T, U]]":
        if not isinstance(other, RDD):
            raise TypeError
        return self.union(other)  # type: ignore[arg-type]  # self-typed call

    def _defaultReducePartitions(self) -> int:
        configured = self.ctx._conf.get("spark.default.parallelism")
        return int(configured) if configured else self.getNumPartitions()

    def partitionBy(self: "RDD[tuple[K, V]]", numPartitions: Optional[int],
                    partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, V]]":
        """Shuffles (key, value) records so each key lands in partition ``partitionFunc(key) % numPartitions``.
        Records keep their order within each map partition; map partitions follow one another in order.

        Examples
        --------
        >>> pairs = sc.parallelize([(1, "a"), (2, "b"), (3, "c"), (4, "d")], 2)
        >>> pairs.partitionBy(2).glom().collect()
        [[(2, 'b'), (4, 'd')], [(1, 'a'), (3, 'c')]]
        >>> pairs.partitionBy(2, lambda key: 0 if key < 4 else 1).glom().collect()
        [[(1, 'a'), (2, 'b'), (3, 'c')], [(4, 'd')]]
        """
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        if numPartitions < 0 or (numPartitions == 0 and self.getNumPartitions() > 0):
            raise ValueError(f"Number of partitions must be positive, got {numPartitions}")
        partitioner = Partitioner(numPartitions, partitionFunc)
        if self.partitioner == partitioner:
            return self
        return RDD(self.ctx, RDD.SHUFFLE, numPartitions, parents=[self], partitioner=partitioner)

    def combineByKey(self: "RDD[tuple[K, V]]", createCombiner: Callable[[V], U], mergeValue: Callable[[U, V], U],
                     mergeCombiners: Callable[[U, U], U], numPartitions: Optional[int] = None,
                     partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, U]]":
        """Combines the values of each key: locally in each map task first, then across tasks after a shuffle.
        ``createCombiner`` makes a combiner of a key's first value, ``mergeValue`` adds another value to it and
        ``mergeCombiners`` joins the combiners of two tasks.

        Examples
        --------
        >>> pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> sums_and_counts = pairs.combineByKey(lambda v: (v, 1),
        ...                                      lambda c, v: (c[0] + v, c[1] + 1),
        ...                                      lambda c1, c2: (c1[0] + c2[0], c1[1] + c2[1]))
        >>> sorted(sums_and_counts.collect())
        [('a', (4, 2)), ('b', (2, 1))]
        """
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        functions = (createCombiner, idioms.as_operator(mergeValue), idioms.as_operator(mergeCombiners))
        locally = self.mapPartitionsWithIndex(CombineLocally(*functions), preservesPartitioning=True)
        return locally.partitionBy(numPartitions, partitionFunc).mapPartitions(_MergeCombiners(*functions), True)

    def reduceByKey(self: "RDD[tuple[K, V]]", func: Callable[[V, V], V], numPartitions: Optional[int] = None,
                    partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, V]]":
        """Merges the values of each key with an associative and commutative function, in each map task first.

        Examples
        --------
        >>> from operator import add
        >>> pairs = sc.parallelize([("a", 1), ("b", 1), ("a", 1)])
        >>> sorted(pairs.reduceByKey(add).collect())
        [('a', 2), ('b', 1)]
        >>> pairs.reduceByKey(add, 3).getNumPartitions()
        3
        """
        return self.combineByKey(identity, func, func, numPartitions, partitionFunc)

    def reduceByKeyLocally(self: "RDD[tuple[K, V]]", func: Callable[[V, V], V]) -> dict[K, V]:
        """Merges the values of each key as ``reduceByKey`` does, but returns the result to the driver as a dict.

        Examples
        --------
        >>> from operator import add
        >>> totals = sc.parallelize([("a", 1), ("b", 1), ("a", 1)]).reduceByKeyLocally(add)
        >>> sorted(totals.items())
        [('a', 2), ('b', 1)]
        """
        func = idioms.as_operator(func)

        def reduce_partition(iterator: Iterator[Any]) -> Iterable[dict]:
            return [_guarded(_merge_into, {}, iterator, func)]

        def merge_maps(m1: dict, m2: dict) -> dict:
            return _guarded(_merge_into, m1, m2.items(), func)

        return self.mapPartitions(reduce_partition).reduce(merge_maps)

    def foldByKey(self: "RDD[tuple[K, V]]", zeroValue: V, func: Callable[[V, V], V],
                  numPartitions: Optional[int] = None,
                  partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, V]]":
        """Merges the values of each key with ``func``, starting from (a copy of) ``zeroValue`` in each map task;
        the zero value should not change the result (0 for addition, 1 for multiplication, ...).

        Examples
        --------
        >>> from operator import add, mul
        >>> pairs = sc.parallelize([("a", 2), ("b", 5), ("a", 3)], 2)
        >>> sorted(pairs.foldByKey(0, add).collect())
        [('a', 5), ('b', 5)]
        >>> sorted(pairs.foldByKey(1, mul).collect())
        [('a', 6), ('b', 5)]
        """
        return self.combineByKey(lambda v: func(copy.deepcopy(zeroValue), v), func, func, numPartitions,
                                 partitionFunc)

    def aggregateByKey(self: "RDD[tuple[K, V]]", zeroValue: U, seqFunc: Callable[[U, V], U],
                       combFunc: Callable[[U, U], U], numPartitions: Optional[int] = None,
                       partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, U]]":
        """Aggregates the values of each key into a result of another type: ``seqFunc`` adds a value to an
        accumulator that starts as (a copy of) ``zeroValue`` in each map task, ``combFunc`` merges two of them.

        Examples
        --------
        >>> pairs = sc.parallelize([("a", 1), ("a", 5), ("b", 2)], 2)
        >>> sums_and_counts = pairs.aggregateByKey((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1),
        ...                                        lambda a, b: (a[0] + b[0], a[1] + b[1]))
        >>> sorted(sums_and_counts.collect())
        [('a', (6, 2)), ('b', (2, 1))]
        """
        return self.combineByKey(lambda v: seqFunc(copy.deepcopy(zeroValue), v), seqFunc, combFunc,
                                 numPartitions, partitionFunc)

    def groupByKey(self: "RDD[tuple[K, V]]", numPartitions: Optional[int] = None,
                   partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, ResultIterable[V]]]":
        """Groups the values of each key into one ResultIterable. To aggregate them (a sum, say), reduceByKey or
        aggregateByKey do it without holding every value of a key at once.

        Examples
        --------
        >>> pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> sorted(pairs.groupByKey().mapValues(sorted).collect())
        [('a', [1, 3]), ('b', [2])]
        """
        # No combining before the shuffle (as in Spark's own groupByKey): every value is shuffled anyway, so grouping
        # them first shrinks nothing, and costs a table of every key the map task saw. Past the worker's memory
        # limit that table was handed on in parts, so a key could leave a map task in several lists.
        shuffled = self.partitionBy(numPartitions, partitionFunc)
        return shuffled.mapPartitions(_GroupValues(), preservesPartitioning=True).mapValues(ResultIterable)

    def groupBy(self, f: Callable[[T], K], numPartitions: Optional[int] = None,
                partitionFunc: Callable[[K], int] = portable_hash) -> "RDD[tuple[K, ResultIterable[T]]]":
        """Groups the records by ``f(record)``: one (key, ResultIterable of records) pair per key.

        Examples
        --------
        >>> odd_even = sc.parallelize([1, 2, 3, 4, 5]).groupBy(lambda x: x % 2)
        >>> sorted(odd_even.mapValues(sorted).collect())
        [(0, [2, 4]), (1, [1, 3, 5])]
        """
        return self.map(lambda x: (f(x), x)).groupByKey(numPartitions, partitionFunc)  # type: ignore[return-value]

    def distinct(self, numPartitions: Optional[int] = None) -> "RDD[T]":
        """The distinct records (they must be hashable); runs a shuffle.

        Examples
        --------
        >>> sorted(sc.parallelize([3, 1, 3, 2, 1]).distinct().collect())
        [1, 2, 3]
        """
        return self.map(lambda x: (x, None)).reduceByKey(
            lambda x, _: x, numPartitions).map(lambda kv: kv[0])  # type: ignore  # self-typed call

    def cogroup(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, U]]", numPartitions: Optional[int] = None
                ) -> "RDD[tuple[K, tuple[ResultIterable[V], ResultIterable[U]]]]":
        """For each key of either RDD: the key and a tuple of its values in this RDD and in ``other``.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1), ("b", 4)])
        >>> right = sc.parallelize([("a", 2)])
        >>> sorted((k, (list(v), list(w))) for k, (v, w) in left.cogroup(right).collect())
        [('a', ([1], [2])), ('b', ([4], []))]
        """
        return _cogroup([self, other], numPartitions)

    def groupWith(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, Any]]", *others: "RDD[tuple[K, Any]]"
                  ) -> "RDD[tuple[K, tuple[ResultIterable[Any], ...]]]":
        """``cogroup`` of this RDD with any number of others: each key with a tuple of its values in each.

        Examples
        --------
        >>> first = sc.parallelize([("a", 1), ("b", 4)])
        >>> second = sc.parallelize([("a", 2)])
        >>> third = sc.parallelize([("b", 42)])
        >>> sorted((k, tuple(map(list, groups))) for k, groups in first.groupWith(second, third).collect())
        [('a', ([1], [2], [])), ('b', ([4], [], [42]))]
        """
        return _cogroup([self, other, *others], None)

    def join(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, U]]", numPartitions: Optional[int] = None
             ) -> "RDD[tuple[K, tuple[V, U]]]":
        """Inner join by key: a (key, (v, w)) pair for each value v of a key here and each w of it in ``other``.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1), ("b", 4)])
        >>> right = sc.parallelize([("a", 2), ("a", 3), ("c", 9)])
        >>> sorted(left.join(right).collect())
        [('a', (1, 2)), ('a', (1, 3))]
        """
        return _join(self, other, numPartitions, keep_left=False, keep_right=False)

    def leftOuterJoin(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, U]]", numPartitions: Optional[int] = None
                      ) -> "RDD[tuple[K, tuple[V, Optional[U]]]]":
        """Join by key that keeps every pair of this RDD: a key missing from ``other`` gets None as its value.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1), ("b", 4)])
        >>> right = sc.parallelize([("a", 2)])
        >>> sorted(left.leftOuterJoin(right).collect())
        [('a', (1, 2)), ('b', (4, None))]
        """
        return _join(self, other, numPartitions, keep_left=True, keep_right=False)

    def rightOuterJoin(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, U]]", numPartitions: Optional[int] = None
                       ) -> "RDD[tuple[K, tuple[Optional[V], U]]]":
        """Join by key that keeps every pair of ``other``: a key missing from this RDD gets None as its value.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1)])
        >>> right = sc.parallelize([("a", 2), ("b", 4)])
        >>> sorted(left.rightOuterJoin(right).collect())
        [('a', (1, 2)), ('b', (None, 4))]
        """
        return _join(self, other, numPartitions, keep_left=False, keep_right=True)

    def fullOuterJoin(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, U]]", numPartitions: Optional[int] = None
                      ) -> "RDD[tuple[K, tuple[Optional[V], Optional[U]]]]":
        """Join by key that keeps the pairs of both RDDs, with None for the side a key is missing from.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1), ("b", 4)])
        >>> right = sc.parallelize([("a", 2), ("c", 8)])
        >>> sorted(left.fullOuterJoin(right).collect())
        [('a', (1, 2)), ('b', (4, None)), ('c', (None, 8))]
        """
        return _join(self, other, numPartitions, keep_left=True, keep_right=True)

    def subtractByKey(self: "RDD[tuple[K, V]]", other: "RDD[tuple[K, Any]]", numPartitions: Optional[int] = None
                      ) -> "RDD[tuple[K, V]]":
        """The pairs of this RDD whose key is not in ``other``.

        Examples
        --------
        >>> left = sc.parallelize([("a", 1), ("b", 4), ("b", 5)])
        >>> right = sc.parallelize([("a", 3), ("c", 0)])
        >>> sorted(left.subtractByKey(right).collect())
        [('b', 4), ('b', 5)]
        """
        def only_left(pair: tuple) -> bool:
            _key, (left, right) = pair
            return bool(left) and not right

        return self.cogroup(other, numPartitions).filter(only_left).flatMapValues(lambda groups: groups[0])

    def subtract(self, other: "RDD[Any]", numPartitions: Optional[int] = None) -> "RDD[T]":
        """The records of this RDD that are not in ``other`` (each copy of them, when a record repeats).

        Examples
        --------
        >>> sorted(sc.parallelize([1, 1, 2, 3, 4]).subtract(sc.parallelize([2, 4, 6])).collect())
        [1, 1, 3]
        """
        keyed_other = other.map(lambda x: (x, True))
        return self.map(lambda x: (x, True)).subtractByKey(keyed_other, numPartitions).keys()  # type: ignore

    def intersection(self, other: "RDD[Any]") -> "RDD[T]":
        """The distinct records that are in both RDDs.

        Examples
        --------
        >>> sorted(sc.parallelize([1, 2, 3, 3]).intersection(sc.parallelize([3, 3, 4, 1])).collect())
        [1, 3]
        """
        return (self.map(lambda v: (v, None)).cogroup(other.map(lambda v: (v, None)))  # type: ignore[return-value]
                .filter(lambda kv: all(kv[1])).keys())

    def sortByKey(self: "RDD[tuple[K, V]]", ascending: bool = True, numPartitions: Optional[int] = None,
                  keyfunc: Callable[[K], Any] = lambda x: x) -> "RDD[tuple[K, V]]":
        """Sorts by key across partitions: range-partitions by sampled bounds, then sorts each partition, so
        ``collect`` gives the pairs in order. ``keyfunc`` maps each key to what is compared.

        Examples
        --------
        >>> pairs = sc.parallelize([("b", 2), ("C", 3), ("a", 1)], 2)
        >>> pairs.sortByKey().collect()
        [('C', 3), ('a', 1), ('b', 2)]
        >>> pairs.sortByKey(ascending=False, keyfunc=str.lower).collect()
        [('C', 3), ('b', 2), ('a', 1)]
        """
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator: Iterator[Any]) -> Iterator[Any]:
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending))

        if numPartitions == 1:
            rdd = self.coalesce(1) if self.getNumPartitions() > 1 else self
            return rdd.mapPartitions(sort_partition, True)
        size = self.count()
        if not size:
            return self
        fraction = min(numPartitions * 20.0 / size, 1.0)
        samples = sorted(self.sample(False, fraction, 1).map(lambda kv: keyfunc(kv[0])).collect())
        bounds = [samples[int(len(samples) * (i + 1) / numPartitions)] for i in range(numPartitions - 1)] \
            if samples else []

        def range_partition(k: Any) -> int:
            p = bisect.bisect_left(bounds, keyfunc(k))
            return p if ascending else numPartitions - 1 - p

        return self.partitionBy(numPartitions, range_partition).mapPartitions(sort_partition, True)

    def sortBy(self, keyfunc: Callable[[T], Any], ascending: bool = True,
               numPartitions: Optional[int] = None) -> "RDD[T]":
        """Sorts the records by ``keyfunc(record)`` across partitions (see ``sortByKey``).

        Examples
        --------
        >>> sc.parallelize(["bb", "a", "ccc"]).sortBy(len).collect()
        ['a', 'bb', 'ccc']
        >>> sc.parallelize([("x", 3), ("y", 1), ("z", 2)]).sortBy(lambda kv: kv[1], ascending=False).collect()
        [('x', 3), ('z', 2), ('y', 1)]
        """
        return self.keyBy(keyfunc).sortByKey(ascending, numPartitions).values()  # type: ignore[return-value]

    def repartitionAndSortWithinPartitions(self: "RDD[tuple[K, V]]", numPartitions: Optional[int] = None,
                                           partitionFunc: Callable[[K], int] = portable_hash,
                                           ascending: bool = True,
                                           keyfunc: Callable[[K], Any] = lambda x: x) -> "RDD[tuple[K, V]]":
        """Repartitions (key, value) records by ``partitionFunc`` and sorts each new partition by key.

        Examples
        --------
        >>> pairs = sc.parallelize([(3, "c"), (1, "a"), (4, "d"), (2, "b")], 2)
        >>> pairs.repartitionAndSortWithinPartitions(2, lambda key: key % 2).glom().collect()
        [[(2, 'b'), (4, 'd')], [(1, 'a'), (3, 'c')]]
        """
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator: Iterator[Any]) -> Iterator[Any]:
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending))

        return self.partitionBy(numPartitions, partitionFunc).mapPartitions(sort_partition, True)

    def repartition(self, numPartitions: int) -> "RDD[T]":
        """Exactly ``numPartitions`` partitions, the records dealt round-robin by a shuffle (``coalesce`` with
        ``shuffle=True``).

        Examples
        --------
        >>> rdd = sc.parallelize(range(10), 2).repartition(4)
        >>> rdd.getNumPartitions(), sorted(rdd.collect()) == list(range(10))
        (4, True)
        """
        return self.coalesce(numPartitions, shuffle=True)

    def coalesce(self, numPartitions: int, shuffle: bool = False) -> "RDD[T]":
        """Fewer (or, with shuffle, any number of) partitions. Without shuffle, neighbouring partitions are merged
        in order; with shuffle, records are dealt round-robin.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4, 5, 6], 3).coalesce(2).glom().collect()
        [[1, 2], [3, 4, 5, 6]]
        >>> sc.parallelize([1, 2, 3], 3).coalesce(5).getNumPartitions()
        3
        """
        if numPartitions < 1:
            raise ValueError(f"Number of partitions must be positive, got {numPartitions}")
        parts = self.getNumPartitions()
        if shuffle:
            def deal(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
                for i, item in enumerate(iterator, start=split):
                    yield i % numPartitions, item
            return (self.mapPartitionsWithIndex(deal).partitionBy(numPartitions, identity)
                    .map(lambda kv: kv[1]))
        if numPartitions >= parts:
            return self

        def group_of(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            # Partition i takes parents [i * parts // n, (i + 1) * parts // n), as Spark groups them.
            target = ((split + 1) * numPartitions - 1) // parts
            return ((target, item) for item in iterator)

        return (self.mapPartitionsWithIndex(group_of).partitionBy(numPartitions, identity)
                .map(lambda kv: kv[1]))

    def cartesian(self, other: "RDD[U]") -> "RDD[tuple[T, U]]":
        """Every pair (a, b); partition i * m + j pairs partition i of this RDD with partition j of ``other``.

        Examples
        --------
        >>> sorted(sc.parallelize([1, 2]).cartesian(sc.parallelize(["x", "y"])).collect())
        [(1, 'x'), (1, 'y'), (2, 'x'), (2, 'y')]
        """
        n, m = self.getNumPartitions(), other.getNumPartitions()

        def left(i: int, iterator: Iterator[Any]) -> Iterator[Any]:
            items = list(iterator)
            for j in range(m):
                for item in items:
                    yield i * m + j, (0, item)

        def right(j: int, iterator: Iterator[Any]) -> Iterator[Any]:
            items = list(iterator)
            for i in range(n):
                for item in items:
                    yield i * m + j, (1, item)

        def pair_up(iterator: Iterator[Any]) -> Iterator[Any]:
            lefts: list[Any] = []
            rights: list[Any] = []
            for _, (side, item) in iterator:
                (lefts if side == 0 else rights).append(item)
            return ((a, b) for a in lefts for b in rights)

        tagged = self.ctx.union([self.mapPartitionsWithIndex(left), other.mapPartitionsWithIndex(right)])
        return tagged.partitionBy(n * m, identity).mapPartitions(pair_up)

    def zip(self, other: "RDD[U]") -> "RDD[tuple[T, U]]":
        """Pairs the i-th record of each partition with the i-th of the same partition of ``other``; both must have
        as many partitions, and as many records in each.

        Examples
        --------
        >>> numbers = sc.parallelize(range(4), 2)
        >>> numbers.zip(numbers.map(lambda x: x * x)).collect()
        [(0, 0), (1, 1), (2, 4), (3, 9)]
        """
        if self.getNumPartitions() != other.getNumPartitions():
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        n = self.getNumPartitions()

        def pair_up(iterator: Iterator[Any]) -> Iterator[Any]:
            lefts: list[Any] = []
            rights: list[Any] = []
            for _, (side, item) in iterator:
                (lefts if side == 0 else rights).append(item)
            if len(lefts) != len(rights):
                raise ValueError("Can only zip RDDs with same number of elements in each partition")
            return zip(lefts, rights)

        tagged: RDD[Any] = self.ctx.union([
            self.mapPartitionsWithIndex(lambda i, it: ((i, (0, x)) for x in it)),
            other.mapPartitionsWithIndex(lambda i, it: ((i, (1, x)) for x in it))])
        return tagged.partitionBy(n, identity).mapPartitions(pair_up)

    def zipWithIndex(self) -> "RDD[tuple[T, int]]":
        """Pairs each record with its position in the RDD (partition by partition); runs a job to count.

        Examples
        --------
        >>> sc.parallelize(["a", "b", "c", "d"], 3).zipWithIndex().collect()
        [('a', 0), ('b', 1), ('c', 2), ('d', 3)]
        """
        starts = [0]
        if self.getNumPartitions() > 1:
            counts = self.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
            for count in counts[:-1]:
                starts.append(starts[-1] + count)

        def number(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            for i, item in enumerate(iterator, starts[split]):
                yield item, i

        return self.mapPartitionsWithIndex(number)

    def zipWithUniqueId(self) -> "RDD[tuple[T, int]]":
        """Pairs each record with an id no other record has: the k-th record of partition p of n gets k * n + p.
        Unlike ``zipWithIndex``, it runs no job.

        Examples
        --------
        >>> sc.parallelize(["w", "x", "y", "z"], 2).zipWithUniqueId().collect()
        [('w', 0), ('x', 2), ('y', 1), ('z', 3)]
        """
        n = self.getNumPartitions()

        def number(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            for i, item in enumerate(iterator):
                yield item, i * n + split

        return self.mapPartitionsWithIndex(number)

    # -- actions -----------------------------------------------------------------------------------------------

    def collect(self) -> list[T]:
        """Returns all records, in partition order. They must fit in the driver's memory (and within
        ``spark.driver.maxResultSize``); ``take`` or ``toLocalIterator`` bring less at a time.

        Examples
        --------
        >>> sc.parallelize([3, 1, 2], 2).collect()
        [3, 1, 2]
        """
        return list(self.ctx._run(self))

    def collectWithJobGroup(self, groupId: str, description: str, interruptOnCancel: bool = False) -> list[T]:
        """Deprecated: collect() in a job group (use setJobGroup, or job tags, then collect). The thread's job group
        is what it was before afterwards.

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     sc.parallelize([1, 2]).collectWithJobGroup("report", "collects the report")
        [1, 2]
        >>> sc.getLocalProperty("spark.jobGroup.id") is None
        True
        """
        warnings.warn("Deprecated in 3.1, Use pyspark.InheritableThread with the pinned thread mode enabled.",
                      FutureWarning, stacklevel=2)
        previous = {key: self.ctx.getLocalProperty(key) for key in
                    ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")}
        self.ctx.setJobGroup(groupId, description, interruptOnCancel)
        try:
            return self.collect()
        finally:
            for key, value in previous.items():
                self.ctx.setLocalProperty(key, value)

    def toLocalIterator(self, prefetchPartitions: bool = False) -> Iterator[T]:
        """The records, one partition's job at a time, so the driver holds one partition at most; with
        ``prefetchPartitions``, the next partition's job runs while this one's records are consumed.

        Examples
        --------
        >>> rdd = sc.parallelize(range(6), 3)
        >>> [x * 10 for x in rdd.toLocalIterator()]
        [0, 10, 20, 30, 40, 50]
        >>> list(rdd.toLocalIterator(prefetchPartitions=True))
        [0, 1, 2, 3, 4, 5]
        """
        total = self.getNumPartitions()
        if not prefetchPartitions:
            for split in range(total):
                yield from self.ctx._run(self, [split])
            return
        from concurrent.futures import ThreadPoolExecutor

        from ember.util import inheritable_thread_target
        # The jobs run on the prefetching thread with this thread's local properties (job group, tags) and, as that
        # thread's stack does not reach the caller, with the caller's call site.
        from ember.plan import CALL_SITE_PROPERTY, call_site
        site = self.ctx.getLocalProperty(CALL_SITE_PROPERTY)
        self.ctx.setLocalProperty(CALL_SITE_PROPERTY, site or call_site())
        try:
            fetch = inheritable_thread_target(lambda split: list(self.ctx._run(self, [split])))
        finally:
            self.ctx.setLocalProperty(CALL_SITE_PROPERTY, site)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ember-prefetch") as prefetcher:
            upcoming = prefetcher.submit(fetch, 0) if total else None
            for split in range(total):
                records = upcoming.result()  # type: ignore[union-attr]  # set while split < total
                upcoming = prefetcher.submit(fetch, split + 1) if split + 1 < total else None
                yield from records

    def collectAsMap(self: "RDD[tuple[K, V]]") -> dict[K, V]:
        """Returns the pairs as a dict; for a key that repeats, its last pair wins.

        Examples
        --------
        >>> sc.parallelize([("a", 1), ("b", 2), ("a", 3)]).collectAsMap()
        {'a': 3, 'b': 2}
        """
        return dict(self.collect())

    def count(self) -> int:
        """The number of records.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3]).count()
        3
        >>> sc.emptyRDD().count()
        0
        """
        return self.mapPartitions(_count_partition).sum()

    def countApprox(self, timeout: int, confidence: float = 0.95) -> int:
        """The count; Ember computes it exactly (within any timeout).

        Examples
        --------
        >>> sc.parallelize(range(100), 4).countApprox(timeout=1000)
        100
        """
        return self.count()

    def sumApprox(self, timeout: int, confidence: float = 0.95) -> "BoundedFloat":
        """The sum as a BoundedFloat; Ember computes it exactly, so its bounds are the sum itself.

        Examples
        --------
        >>> total = sc.parallelize([1, 2, 3.5]).sumApprox(timeout=1000)
        >>> total, total.low, total.high, total.confidence
        (6.5, 6.5, 6.5, 0.95)
        """
        total = float(self.sum())  # type: ignore[arg-type]  # numbers
        return BoundedFloat(total, confidence, total, total)

    def meanApprox(self, timeout: int, confidence: float = 0.95) -> "BoundedFloat":
        """The mean as a BoundedFloat; Ember computes it exactly, so its bounds are the mean itself.

        Examples
        --------
        >>> mean = sc.parallelize([1, 2, 3, 4]).meanApprox(timeout=1000, confidence=0.9)
        >>> mean, mean.low, mean.high, mean.confidence
        (2.5, 2.5, 2.5, 0.9)
        """
        mean = float(self.mean())
        return BoundedFloat(mean, confidence, mean, mean)

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        """About how many distinct records there are, from a HyperLogLog sketch per partition (as Spark's, with
        ``relativeSD`` its relative accuracy); no shuffle.

        Examples
        --------
        >>> estimate = sc.parallelize([i % 500 for i in range(2000)], 4).countApproxDistinct()
        >>> 450 <= estimate <= 550
        True
        """
        if relativeSD < 0.000017:
            raise ValueError("relativeSD should be greater than 0.000017")
        precision = max(4, min(18, math.ceil(2.0 * math.log2(1.106 / relativeSD))))

        def sketch(iterator: Iterator[Any]) -> Iterable[bytearray]:
            registers = bytearray(1 << precision)
            shift = 64 - precision
            for item in iterator:
                h = _mix64(portable_hash(item))
                index = h >> shift
                rank = (64 - precision) - (h & ((1 << shift) - 1)).bit_length() + 1
                if rank > registers[index]:
                    registers[index] = rank
            return [registers]

        def merge(a: bytearray, b: bytearray) -> bytearray:
            return bytearray(max(x, y) for x, y in zip(a, b))

        return _hyperloglog_estimate(self.mapPartitions(sketch).fold(bytearray(1 << precision), merge))

    def countByValue(self) -> dict[T, int]:
        """How many times each distinct record occurs, as a dict (a ``defaultdict(int)``) on the driver.

        Examples
        --------
        >>> sorted(sc.parallelize(["a", "b", "a", "c", "a"]).countByValue().items())
        [('a', 3), ('b', 1), ('c', 1)]
        """
        def count_partition(iterator: Iterator[Any]) -> Iterable[dict]:
            counts: dict = defaultdict(int)
            _count_elements(counts, iterator)  # Counter.update's loop, in C: counts[item] = counts.get(item, 0) + 1
            return [counts]

        def merge(a: dict, b: dict) -> dict:
            for k, v in b.items():
                a[k] += v
            return a

        return self.mapPartitions(count_partition).fold(defaultdict(int), merge)

    def countByKey(self: "RDD[tuple[K, V]]") -> dict[K, int]:
        """How many pairs each key has, as a dict (a ``defaultdict(int)``) on the driver.

        Examples
        --------
        >>> sorted(sc.parallelize([("a", 1), ("b", 1), ("a", 2)]).countByKey().items())
        [('a', 2), ('b', 1)]
        """
        return self.map(lambda kv: kv[0]).countByValue()

    def lookup(self: "RDD[tuple[K, V]]", key: K) -> list[V]:
        """The values of ``key``, in partition order.

        Examples
        --------
        >>> pairs = sc.parallelize([("a", 1), ("b", 2), ("a", 3)])
        >>> pairs.lookup("a"), pairs.lookup("z")
        ([1, 3], [])
        """
        return self.filter(lambda kv: kv[0] == key).values().collect()

    def sum(self) -> T:
        """The sum of the records (0 for an empty RDD).

        Examples
        --------
        >>> sc.parallelize([1, 2, 3.5]).sum()
        6.5
        >>> sc.parallelize([], 2).sum()
        0
        """
        return self.mapPartitions(_sum_partition).fold(0, operator.add)  # type: ignore

    def fold(self, zeroValue: T, op: Callable[[T, T], T]) -> T:
        """Folds each partition, then the partition results, each time starting from ``zeroValue``; so the zero
        value should not change a result (0 for addition), as it is used once per partition and once more.

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4], 2).fold(0, add)
        10
        >>> sc.parallelize([1, 2, 3, 4], 2).fold(1, add)
        13
        """
        op = idioms.as_operator(op)
        return _guarded(_reduce, op, self.mapPartitions(_FoldPartition(zeroValue, op)).collect(), zeroValue)

    def aggregate(self, zeroValue: U, seqOp: Callable[[U, T], U], combOp: Callable[[U, U], U]) -> U:
        """Aggregates the records into a result of another type: ``seqOp`` adds a record to a partition's
        accumulator, which starts as (a copy of) ``zeroValue``; ``combOp`` merges the partitions' accumulators.

        Examples
        --------
        >>> sum_and_count = sc.parallelize([1, 2, 3, 4], 2).aggregate(
        ...     (0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1]))
        >>> sum_and_count
        (10, 4)
        """
        seqOp, combOp = idioms.as_operator(seqOp), idioms.as_operator(combOp)

        def aggregate_partition(iterator: Iterator[Any]) -> Iterable[Any]:
            return [_guarded(_reduce, seqOp, iterator, copy.deepcopy(zeroValue))]
        return _guarded(_reduce, combOp, self.mapPartitions(aggregate_partition).collect(), zeroValue)

    def treeAggregate(self, zeroValue: U, seqOp: Callable[[U, T], U], combOp: Callable[[U, U], U],
                      depth: int = 2) -> U:
        """``aggregate``, with the partitions' results merged in a tree of about ``depth`` levels on the workers
        instead of all on the driver (for many partitions with large results).

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize(range(100), 10).treeAggregate(0, add, add, depth=2)
        4950
        >>> sc.parallelize(["a", "bb", "ccc"], 3).treeAggregate(0, lambda n, s: n + len(s), add)
        6
        """
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        if self.getNumPartitions() == 0:
            return zeroValue
        partials = self.mapPartitions(lambda it: [_reduce(seqOp, it, copy.deepcopy(zeroValue))])
        # Combine partition results in groups on the workers until few are left, then on the driver.
        scale = max(int(math.ceil(math.pow(partials.getNumPartitions(), 1.0 / depth))), 2)
        while partials.getNumPartitions() > scale + int(math.ceil(partials.getNumPartitions() / scale)):
            groups = int(partials.getNumPartitions() / scale)
            partials = (partials.mapPartitionsWithIndex(
                lambda i, it, g=groups: ((i % g, x) for x in it))  # type: ignore  # a lambda with a default argument
                        .reduceByKey(combOp, groups).values())
        return _reduce(combOp, partials.collect(), zeroValue)

    def reduce(self, f: Callable[[T, T], T]) -> T:
        """Reduces the records with a commutative and associative function; fails on an empty RDD.

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize([1, 2, 3, 4, 5]).reduce(add)
        15
        >>> sc.parallelize(["b", "c", "a"]).reduce(min)
        'a'
        >>> sc.emptyRDD().reduce(add)
        Traceback (most recent call last):
            ...
        ValueError: Can not reduce() empty RDD
        """
        f = idioms.as_operator(f)
        values = self.mapPartitions(_ReducePartition(f)).collect()
        if values:
            return _guarded(_reduce, f, values)
        raise ValueError("Can not reduce() empty RDD")

    def treeReduce(self, f: Callable[[T, T], T], depth: int = 2) -> T:
        """``reduce``, with the partitions' results merged in a tree of about ``depth`` levels on the workers.

        Examples
        --------
        >>> from operator import add
        >>> sc.parallelize(range(10), 5).treeReduce(add)
        45
        >>> sc.parallelize(range(10), 5).treeReduce(add, depth=3)
        45
        """
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        marker = _EmptyMarker()

        def op(a: Any, b: Any) -> Any:
            # The marker is pickled to the workers, so it is recognised by type, not identity.
            if isinstance(a, _EmptyMarker):
                return b
            if isinstance(b, _EmptyMarker):
                return a
            return f(a, b)

        result = self.treeAggregate(marker, op, op, depth)
        if isinstance(result, _EmptyMarker):
            raise ValueError("Cannot reduce empty RDD.")
        return result

    def max(self, key: Optional[Callable[[T], Any]] = None) -> T:
        """The largest record (by ``key(record)``, when given); fails on an empty RDD.

        Examples
        --------
        >>> sc.parallelize([3, 10, 7]).max()
        10
        >>> sc.parallelize(["bb", "a", "ccc"]).max(key=len)
        'ccc'
        """
        return self.reduce(max if key is None else lambda a, b: max(a, b, key=key))  # type: ignore[arg-type]

    def min(self, key: Optional[Callable[[T], Any]] = None) -> T:
        """The smallest record (by ``key(record)``, when given); fails on an empty RDD.

        Examples
        --------
        >>> sc.parallelize([3, 10, 7]).min()
        3
        >>> sc.parallelize([-5, 2, -1]).min(key=abs)
        -1
        """
        return self.reduce(min if key is None else lambda a, b: min(a, b, key=key))  # type: ignore[arg-type]

    def stats(self) -> StatCounter:
        """Count, mean, variance, max and min of the records (numbers), in one job; see StatCounter.

        Examples
        --------
        >>> stats = sc.parallelize([1, 2, 3, 4], 2).stats()
        >>> stats.count(), stats.mean(), stats.max(), stats.min()
        (4, 2.5, 4, 1)
        """
        return self.mapPartitions(lambda it: [StatCounter(it)]).reduce(  # type: ignore[arg-type]  # numbers
            lambda a, b: a.mergeStats(b))

    def mean(self) -> float:
        """The arithmetic mean of the records.

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4]).mean()
        2.5
        """
        return self.stats().mean()

    def variance(self) -> float:
        """The population variance of the records (divided by n).

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4]).variance()
        1.25
        """
        return self.stats().variance()

    def stdev(self) -> float:
        """The population standard deviation of the records (the square root of ``variance``).

        Examples
        --------
        >>> sc.parallelize([2, 4, 4, 4, 5, 5, 7, 9], 2).stdev()
        2.0
        """
        return self.stats().stdev()

    def sampleStdev(self) -> float:
        """The sample standard deviation of the records (the square root of ``sampleVariance``).

        Examples
        --------
        >>> round(sc.parallelize([2, 4, 4, 4, 5, 5, 7, 9], 2).sampleStdev(), 6)
        2.13809
        """
        return self.stats().sampleStdev()

    def sampleVariance(self) -> float:
        """The sample variance of the records (divided by n - 1).

        Examples
        --------
        >>> sc.parallelize([1, 2, 3, 4]).sampleVariance() == 5 / 3
        True
        """
        return self.stats().sampleVariance()

    def histogram(self, buckets: Union[int, Sequence[Any]]) -> tuple[Sequence[Any], list[int]]:
        """Counts records per bucket. An int asks for that many even buckets between min and max; a sorted list
        gives the bucket edges (each bucket includes its left edge, the last also its right). Returns the edges and
        the counts; None and NaN records are not counted.

        Examples
        --------
        >>> numbers = sc.parallelize(range(11), 2)
        >>> numbers.histogram(2)
        ([0, 5, 10], [5, 6])
        >>> numbers.histogram([0, 4, 8, 100])
        ([0, 4, 8, 100], [4, 4, 3])
        >>> sc.parallelize(["a", "b", "k", "z"]).histogram(["a", "j", "z"])
        (['a', 'j', 'z'], [2, 2])
        """
        if isinstance(buckets, int):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")
            comparable: RDD[Any] = self.filter(_comparable)
            try:
                low, high = comparable.map(lambda x: (x, x)).reduce(lambda a, b: (min(a[0], b[0]), max(a[1], b[1])))
            except ValueError as e:
                raise ValueError("can not generate buckets from empty RDD") from e
            if low == high or buckets == 1:
                return [low, high], [comparable.count()]
            width = (high - low) / buckets
            if math.isinf(width):
                raise ValueError("Can not generate buckets with infinite value")
            if isinstance(low, int) and isinstance(high, int) and (high - low) % buckets == 0:
                width = (high - low) // buckets
            edges = [low + i * width for i in range(buckets)]
            edges.append(high)
            even = True
        elif isinstance(buckets, (list, tuple)):
            if len(buckets) < 2:
                raise ValueError("buckets should have more than one value")
            if any(b is None or (isinstance(b, float) and math.isnan(b)) for b in buckets):
                raise ValueError("can not have None or NaN in buckets")
            if sorted(buckets) != list(buckets):
                raise ValueError("buckets should be sorted")
            if len(set(buckets)) != len(buckets):
                raise ValueError("buckets should not contain duplicated values")
            edges = buckets  # type: ignore[assignment]  # a list or a tuple, returned as given
            low, high = edges[0], edges[-1]
            even, width = False, None
            try:
                steps = [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]
            except TypeError:
                pass  # Not numbers (strings, say): buckets are found by bisection.
            else:
                if max(steps) - min(steps) < 1e-10:
                    even, width = True, (high - low) / (len(edges) - 1)
        else:
            raise TypeError("buckets should be a list or tuple or number(int or long)")

        def count_partition(iterator: Iterator[Any]) -> Iterable[list]:
            counters = [0] * len(edges)
            for x in iterator:
                if not _comparable(x) or x > high or x < low:
                    continue
                index = int((x - low) / width) if even else bisect.bisect_right(edges, x) - 1
                counters[min(index, len(edges) - 1)] += 1
            last = counters.pop()
            counters[-1] += last
            return [counters]

        counts = self.mapPartitions(count_partition).reduce(lambda a, b: [x + y for x, y in zip(a, b)])
        return edges, counts

    def take(self, num: int) -> list[T]:
        """The first ``num`` records. Scans one partition first, then more at a time, as PySpark does, so a
        small take does not compute the whole RDD.

        Examples
        --------
        >>> sc.parallelize(range(100), 10).take(3)
        [0, 1, 2]
        >>> sc.parallelize([1, 2], 2).take(5)
        [1, 2]
        """
        items: list[T] = []
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
            parts = range(scanned, min(scanned + to_try, total))
            items.extend(self.ctx.runJob(self, _TakeUpTo(left), parts))
            scanned += to_try
        return items[:num]

    def first(self) -> T:
        """The first record; fails on an empty RDD.

        Examples
        --------
        >>> sc.parallelize([5, 6, 7], 3).first()
        5
        >>> sc.parallelize([]).first()
        Traceback (most recent call last):
            ...
        ValueError: RDD is empty
        """
        rs = self.take(1)
        if rs:
            return rs[0]
        raise ValueError("RDD is empty")

    def isEmpty(self) -> bool:
        """Whether the RDD has no records (it computes partitions only until it finds one).

        Examples
        --------
        >>> sc.emptyRDD().isEmpty(), sc.parallelize([], 3).isEmpty(), sc.parallelize([0]).isEmpty()
        (True, True, False)
        """
        return self.getNumPartitions() == 0 or len(self.take(1)) == 0

    def takeOrdered(self, num: int, key: Optional[Callable[[T], Any]] = None) -> list[T]:
        """The ``num`` smallest records (by ``key(record)``, when given), in ascending order.

        Examples
        --------
        >>> sc.parallelize([5, 1, 4, 2, 3], 2).takeOrdered(3)
        [1, 2, 3]
        >>> sc.parallelize([5, 1, 4, 2, 3], 2).takeOrdered(3, key=lambda x: -x)
        [5, 4, 3]
        """
        return self._select(num, key, heapq.nsmallest)

    def top(self, num: int, key: Optional[Callable[[T], Any]] = None) -> list[T]:
        """The ``num`` largest records (by ``key(record)``, when given), in descending order.

        Examples
        --------
        >>> sc.parallelize([5, 1, 4, 2, 3], 2).top(2)
        [5, 4]
        >>> sc.parallelize(["bb", "a", "ccc"]).top(1, key=len)
        ['ccc']
        """
        # As PySpark's: a negative num gives [], and an RDD without partitions has nothing to reduce (ValueError).
        if self.getNumPartitions() == 0:
            raise ValueError("Can not reduce() empty RDD")
        return self._select(max(num, 0), key, heapq.nlargest)

    def _select(self, num: int, key: Optional[Callable[[Any], Any]],
                pick: Callable[..., list]) -> list:
        """The ``num`` records ``pick`` (heapq.nsmallest or nlargest) chooses: per partition, then across them."""
        if num < 0:
            raise ValueError("top N cannot be negative.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        return self.mapPartitions(lambda it: [pick(num, it, key)]).reduce(lambda a, b: pick(num, a + b, key))

    def takeSample(self, withReplacement: bool, num: int, seed: Optional[int] = None) -> list[T]:
        """A random sample of ``num`` records (fewer without replacement when the RDD has fewer), in random order;
        the same seed gives the same sample.

        Examples
        --------
        >>> rdd = sc.parallelize(range(20), 2)
        >>> sample = rdd.takeSample(False, 5, seed=3)
        >>> len(sample), len(set(sample)), set(sample) <= set(range(20))
        (5, 5, True)
        >>> sample == rdd.takeSample(False, 5, seed=3)
        True
        >>> len(rdd.takeSample(True, 30, seed=3)), len(rdd.takeSample(False, 30, seed=3))
        (30, 20)
        """
        if num < 0:
            raise ValueError("Sample size cannot be negative.")
        limit = sys.maxsize - int(10 * math.sqrt(sys.maxsize))
        if num > limit:
            raise ValueError(f"Sample size cannot be greater than {limit}.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        total = self.count()
        if total == 0:
            return []
        rng = random.Random(seed)
        if not withReplacement and num >= total:
            samples = self.collect()
            rng.shuffle(samples)
            return samples
        fraction = _fraction_for_sample_size(num, total, withReplacement)
        samples = self.sample(withReplacement, fraction, rng.randrange(sys.maxsize)).collect()
        while len(samples) < num:
            samples = self.sample(withReplacement, fraction, rng.randrange(sys.maxsize)).collect()
        rng.shuffle(samples)
        return samples[:num]

    def foreach(self, f: Callable[[T], object]) -> None:
        """Calls ``f`` on each record, in the workers (for its effects: an accumulator, a write elsewhere).

        Examples
        --------
        >>> total = sc.accumulator(0)
        >>> sc.parallelize([1, 2, 3]).foreach(lambda x: total.add(x))
        >>> total.value
        6
        """
        def process(iterator: Iterator[Any]) -> Iterable[Any]:
            _guarded(_call_each, f, iterator)
            return []
        self.mapPartitions(process).count()

    def foreachPartition(self, f: Callable[[Iterator[T]], object]) -> None:
        """Calls ``f`` on the iterator of each partition's records, in the workers.

        Examples
        --------
        >>> partitions = sc.accumulator(0)
        >>> sc.parallelize(range(10), 4).foreachPartition(lambda iterator: partitions.add(1))
        >>> partitions.value
        4
        """
        def process(iterator: Iterator[Any]) -> Iterable[Any]:
            f(iterator)
            return []
        self.mapPartitions(process).count()

    # -- saving ------------------------------------------------------------------------------------------------

    def saveAsTextFile(self, path: str, compressionCodecClass: Optional[str] = None) -> None:
        """Writes one ``part-NNNNN`` file of lines per partition into the new directory ``path`` (each record as
        its str(), bytes as they are); gzip-compressed with ``org.apache.hadoop.io.compress.GzipCodec``. The files
        appear, with ``_SUCCESS``, only when every task has succeeded.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "out")
        ...     sc.parallelize(["alpha", "beta", 3], 2).saveAsTextFile(path)
        ...     names = sorted(os.listdir(path))
        ...     lines = sc.textFile(path).collect()
        >>> names
        ['_SUCCESS', 'part-00000', 'part-00001']
        >>> sorted(lines)
        ['3', 'alpha', 'beta']
        """
        from ember import files
        files.save_with_codec(self, path, "text", compressionCodecClass)

    def saveAsJsonFile(self, path: str, compressionCodecClass: Optional[str] = None) -> None:
        """Writes each record as one JSON document per line (``json.dumps``: tuples become lists, dict keys
        strings), one ``part-NNNNN`` file per partition, as ``saveAsTextFile`` does. NaN and infinities raise
        ValueError: they are not JSON. Read the files back with ``SparkContext.jsonFile``.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "out")
        ...     sc.parallelize([{"id": 1, "tags": ("x", "y")}, {"id": 2, "tags": ()}], 2).saveAsJsonFile(path)
        ...     records = sc.jsonFile(path).collect()
        >>> sorted(records, key=lambda r: r["id"])
        [{'id': 1, 'tags': ['x', 'y']}, {'id': 2, 'tags': []}]
        """
        from ember import files
        files.save_with_codec(self, path, "json", compressionCodecClass)

    def malformedCount(self) -> int:
        """For an RDD from ``jsonFile(..., mode="DROPMALFORMED")``: how many malformed lines its reads skipped
        (each split counted once, from its latest read). 0 for any other RDD.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "records.jsonl")
        ...     with open(path, "w") as f:
        ...         _ = f.write('{"a": 1}\\nnot json\\n{"a": 2}\\n')
        ...     rdd = sc.jsonFile(path, mode="DROPMALFORMED")
        ...     records = rdd.collect()
        ...     skipped = rdd.malformedCount()
        >>> records, skipped
        ([{'a': 1}, {'a': 2}], 1)
        >>> sc.parallelize([1]).malformedCount()
        0
        """
        file_input = getattr(self, "_file_input_id", None)
        if file_input is None:
            return 0
        return int(self.ctx._session.skippedRecords(file_input))

    def saveAsPickleFile(self, path: str, batchSize: int = 10) -> None:
        """Writes the records as batches of pickles, one ``part-NNNNN`` file per partition; read back with
        ``SparkContext.pickleFile``.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "out")
        ...     sc.parallelize([(1, "one"), {2: b"two"}, None], 2).saveAsPickleFile(path, batchSize=2)
        ...     records = sc.pickleFile(path).collect()
        >>> records
        [(1, 'one'), {2: b'two'}, None]
        """
        from ember import files
        files.save_partitions(self, path, files.pickle_writer(batchSize))


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _creation_site() -> str:
    """Where the program made an RDD, as Spark's call site: the Ember method it called and its file and line."""
    frame: Optional[FrameType] = sys._getframe(2)
    operation = "RDD"
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        operation = frame.f_code.co_name
        frame = frame.f_back
    if frame is None:
        return operation
    return f"{operation} at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def _guarded(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, for a function that calls a user's function over and over (functools.reduce, a loop of
    Ember's): a StopIteration that escapes it can only be the user's function's, since the loops inside end their
    iterators themselves, and becomes the RuntimeError of ``_stop_iteration`` (PySpark's fail_on_stopiteration).
    Guarding each call instead made a reduce about four times slower."""
    try:
        return function(*args)
    except StopIteration as e:
        raise _stop_iteration(e) from None


def _merge_into(merged: dict, pairs: Iterable[tuple[Any, Any]], func: Callable[[Any, Any], Any]) -> dict:
    for k, v in pairs:
        merged[k] = func(merged[k], v) if k in merged else v
    return merged


def _call_each(f: Callable[[Any], object], iterator: Iterable[Any]) -> None:
    for item in iterator:
        f(item)


# Ember's own per-partition functions are module-level classes and functions rather than closures: a stage command
# pickles them by reference (a name), so each task's worker does not rebuild their code from the pickle (cloudpickle
# does that for every closure, about 15 us each, and a worker unpickles its stage's command for every task).

class _WithoutIndex:
    """A mapPartitions function as mapPartitionsWithIndex calls it."""

    def __init__(self, f: Callable[[Iterator[Any]], Iterable[Any]]) -> None:
        self.f = f

    def __call__(self, _split: int, iterator: Iterator[Any]) -> Iterable[Any]:
        return self.f(iterator)


class _FoldPartition:
    def __init__(self, zero: Any, op: Callable[[Any, Any], Any]) -> None:
        self.zero = zero
        self.op = op

    def __call__(self, iterator: Iterator[Any]) -> Iterable[Any]:
        # A deep copy: op may change its first argument and return it.
        return [_guarded(_reduce, self.op, iterator, copy.deepcopy(self.zero))]


class _ReducePartition:
    def __init__(self, f: Callable[[Any, Any], Any]) -> None:
        self.f = f

    def __call__(self, iterator: Iterator[Any]) -> Iterable[Any]:
        iterator = iter(iterator)
        try:
            initial = next(iterator)
        except StopIteration:
            return []
        return [_guarded(_reduce, self.f, iterator, initial)]


class _RangeSlice:
    """Makes partition ``split`` of a parallelized range in the worker (no data moves). Here rather than in
    ember.context, which workers do not import."""

    def __init__(self, r: range, num_slices: int) -> None:
        self.size, self.start, self.step, self.num_slices = len(r), r.start, r.step, num_slices

    def __call__(self, split: int, _: Iterable[Any]) -> Iterable[int]:
        # PySpark's boundaries: element int(split * size / numSlices), with float division.
        lo = int(split * self.size / self.num_slices)
        hi = int((split + 1) * self.size / self.num_slices)
        return iter(range(self.start + lo * self.step, self.start + hi * self.step, self.step))


class _MergeCombiners:
    """combineByKey's reduce side."""

    def __init__(self, create: Callable[[Any], Any], merge_value: Callable[[Any, Any], Any],
                 merge_combiners: Callable[[Any, Any], Any]) -> None:
        self.functions = (create, merge_value, merge_combiners)

    def __call__(self, iterator: Iterator[Any]) -> Iterator[Any]:
        merger = ExternalMerger(*self.functions)
        merger.merge_combined(iterator)
        return merger.items()


class _GroupValues:
    """groupByKey's reduce side: each key's values in a list, in the order they came. The merger groups inline (no
    Python call per record) and spills past the worker's memory limit."""

    def __call__(self, iterator: Iterator[Any]) -> Iterator[Any]:
        merger = ExternalMerger(start_group, append_to_group, extend_group)
        merger.merge_values(iterator)
        return merger.items()


class _TakeUpTo:
    def __init__(self, left: int) -> None:
        self.left = left

    def __call__(self, iterator: Iterator[Any]) -> Iterable[Any]:
        return islice(iterator, self.left)


def _count_partition(iterator: Iterator[Any]) -> list[int]:
    return [sum(1 for _ in iterator)]


def _sum_partition(iterator: Iterator[Any]) -> list[Any]:
    return [sum(iterator)]


class RDDBarrier(Generic[T]):
    """What ``rdd.barrier()`` returns: its mapPartitions functions run in a barrier stage.

    Examples
    --------
    >>> from ember import BarrierTaskContext
    >>> rdd = sc.parallelize(range(4), 2)
    >>> rdd.barrier()  # doctest: +ELLIPSIS
    <ember.rdd.RDDBarrier object at ...>
    >>> rdd.barrier().mapPartitions(lambda it: [BarrierTaskContext.get().partitionId()]).collect()
    [0, 1]
    """

    def __init__(self, rdd: RDD[T]) -> None:
        self.rdd = rdd

    def mapPartitions(self, f: Callable[[Iterator[T]], Iterable[U]],
                      preservesPartitioning: bool = False) -> RDD[U]:
        """``RDD.mapPartitions`` in a barrier stage: every task starts at once, and ``BarrierTaskContext`` lets
        them wait for each other.

        Examples
        --------
        >>> from ember import BarrierTaskContext
        >>> def count_after_barrier(iterator):
        ...     BarrierTaskContext.get().barrier()
        ...     return [sum(1 for _ in iterator)]
        >>> sc.parallelize(range(5), 2).barrier().mapPartitions(count_after_barrier).collect()
        [2, 3]
        """
        return self.mapPartitionsWithIndex(lambda _split, iterator: f(iterator), preservesPartitioning)

    def mapPartitionsWithIndex(self, f: Callable[[int, Iterator[T]], Iterable[U]],
                               preservesPartitioning: bool = False) -> RDD[U]:
        """``RDD.mapPartitionsWithIndex`` in a barrier stage.

        Examples
        --------
        >>> from ember import BarrierTaskContext
        >>> def tasks_seen(index, iterator):
        ...     return [(index, len(BarrierTaskContext.get().getTaskInfos()))]
        >>> sc.parallelize(range(4), 2).barrier().mapPartitionsWithIndex(tasks_seen).collect()
        [(0, 2), (1, 2)]
        """
        rdd = self.rdd.mapPartitionsWithIndex(f, preservesPartitioning)
        rdd._barrier = True
        return rdd


class _EmptyMarker:
    """Stands for 'no value yet' in treeReduce; it must survive pickling, so it is compared by type."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _EmptyMarker)

    def __hash__(self) -> int:
        return 0


def _comparable(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method; fractions are small, so the loop is short.
    limit = math.exp(-mean)
    k, p = 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class BoundedFloat(float):
    """A number with the confidence and bounds of an approximation (what sumApprox and meanApprox return)."""

    confidence: float
    low: float
    high: float

    def __new__(cls, mean: float, confidence: float, low: float, high: float) -> "BoundedFloat":
        value = float.__new__(cls, mean)
        value.confidence = confidence
        value.low = low
        value.high = high
        return value


def _mix64(h: int) -> int:
    """A 64-bit hash with every bit depending on every bit of ``h`` (murmur3's finaliser): portable_hash of an int
    is the int itself, which HyperLogLog cannot use as it is."""
    h &= 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & 0xFFFFFFFFFFFFFFFF
    return h ^ (h >> 33)


def _hyperloglog_estimate(registers: bytearray) -> int:
    """The distinct count HyperLogLog's registers stand for, with linear counting while few are set."""
    m = len(registers)
    alpha = {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1 + 1.079 / m))
    estimate = alpha * m * m / sum(2.0 ** -r for r in registers)
    zeros = registers.count(0)
    if estimate <= 2.5 * m and zeros:
        estimate = m * math.log(m / zeros)
    return int(round(estimate))


def _fraction_for_sample_size(wanted: int, total: int, with_replacement: bool) -> float:
    """A sampling fraction that yields at least ``wanted`` records with very high probability."""
    fraction = float(wanted) / total
    if with_replacement:
        stdevs = 5 if wanted < 12 else 9
        return fraction + stdevs * math.sqrt(fraction / total)
    delta = 0.00005
    gamma = -math.log(delta) / total
    return min(1.0, fraction + gamma + math.sqrt(gamma * gamma + 2 * gamma * fraction))


def _grouped_by_source(rdds: list[RDD], numPartitions: Optional[int]) -> RDD:
    """What cogroup and the joins are made of: each key with the list of its values from all of ``rdds``, each
    value tagged with the index of its RDD, in the order they came. mapValues keeps a partitioner, so co-partitioned
    RDDs are grouped without a shuffle. The groups stay plain lists (groupByKey's ResultIterable is not needed)."""
    tagged = rdds[0].ctx.union([rdd.mapValues(partial(_tagged, i)) for i, rdd in enumerate(rdds)])
    return tagged.partitionBy(numPartitions).mapPartitions(_GroupValues(), preservesPartitioning=True)


def _tagged(source: int, v: Any) -> tuple[int, Any]:
    return (source, v)


def _cogroup(rdds: list[RDD], numPartitions: Optional[int]) -> RDD:
    return _grouped_by_source(rdds, numPartitions).mapValues(_SplitBySource(len(rdds)))


class _SplitBySource:
    """A key's cogroup value from its tagged values: one ResultIterable per RDD, each in the order they came."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self, tagged: list) -> tuple:
        groups: list[list] = [[] for _ in range(self.count)]
        for i, v in tagged:
            groups[i].append(v)
        return tuple(ResultIterable(g) for g in groups)


def _join(left: RDD, right: RDD, numPartitions: Optional[int], keep_left: bool, keep_right: bool) -> RDD:
    """PySpark's join: both sides' values grouped by key, tagged with their side, and each key's group paired up."""
    return _grouped_by_source([left, right], numPartitions).flatMapValues(_JoinPairs(keep_left, keep_right))


class _JoinPairs:
    """A key's join output from its tagged values: each left value with each right one, the left ones in order and
    for each the right ones in order; a side with no values gives None when the join keeps the other side's."""

    def __init__(self, keep_left: bool, keep_right: bool) -> None:
        self.keep_left = keep_left
        self.keep_right = keep_right

    def __call__(self, tagged: list) -> Iterable[tuple[Any, Any]]:
        lefts = [v for side, v in tagged if side == 0]
        if len(lefts) == len(tagged):
            return [(v, None) for v in lefts] if self.keep_left else ()
        if not lefts:
            return [(None, w) for _, w in tagged] if self.keep_right else ()
        rights = [w for side, w in tagged if side == 1]
        return ((v, w) for v in lefts for w in rights)
