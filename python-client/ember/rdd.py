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
from collections import defaultdict
from functools import reduce as _reduce
from itertools import chain, islice
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable, Iterator, Optional, Sequence, Union

from ember.errors import stop_iteration_error as _stop_iteration
from ember.merge import ExternalMerger, append_to_group, extend_group, start_group
from ember.statcounter import StatCounter
from ember.storagelevel import StorageLevel

if TYPE_CHECKING:
    from ember.context import SparkContext

PartitionFunction = Callable[[int, Iterator[Any]], Iterable[Any]]


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


class ResultIterable:
    """The values of one key after groupByKey or cogroup: iterable, sized, and re-iterable."""

    def __init__(self, data: list) -> None:
        self.data = data
        self.index = 0
        self.maxindex = len(data)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResultIterable):
            return self.data == other.data
        return NotImplemented

    def __repr__(self) -> str:
        return f"ResultIterable({self.data!r})"


class RDD:
    """A partitioned collection. Create RDDs with ``SparkContext.parallelize``, ``range`` or ``textFile``."""

    # Kinds of lineage node.
    SOURCE, NARROW, UNION, SHUFFLE = "source", "narrow", "union", "shuffle"

    def __init__(self, ctx: "SparkContext", kind: str, num_partitions: int, *, segment: Optional[dict] = None,
                 func: Optional[PartitionFunction] = None, parents: Sequence["RDD"] = (),
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
        return self.ctx

    def id(self) -> int:
        """A number unique among this context's RDDs. As in PySpark, it is given when first asked for (so an RDD
        fused into a pipeline gets none), and ids grow in that order."""
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
        return self._num_partitions

    def name(self) -> Optional[str]:
        return self._name

    def setName(self, name: str) -> "RDD":
        self._name = name
        return self

    def toDebugString(self) -> bytes:
        """The lineage, as Spark prints it: one line per RDD, `` |  `` within a stage, `` +-(n) `` where the map
        side of a shuffle starts another; a persisted RDD shows its storage level."""
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

    def cache(self) -> "RDD":
        """Keeps the computed partitions in the engine (memory first, disk past its budget) for later jobs."""
        return self.persist(StorageLevel.MEMORY_ONLY)

    def persist(self, storageLevel: StorageLevel = StorageLevel.MEMORY_ONLY) -> "RDD":
        """Keeps the computed partitions in the engine for later jobs (in memory, spilling to disk past the
        engine's budget, whatever the level); the level of a persisted RDD cannot be changed, as in Spark."""
        if not isinstance(storageLevel, StorageLevel):
            raise TypeError(f"storageLevel must be of type ember.StorageLevel, got {storageLevel!r}")
        if self.is_cached and storageLevel != self._storage_level:
            raise ValueError(f"Cannot change storage level of an RDD after it was already assigned a level (it is "
                             f"{self._storage_level!r}); unpersist() it first")
        self.is_cached = True
        self._storage_level = storageLevel
        return self

    def unpersist(self, blocking: bool = False) -> "RDD":
        if self.is_cached:
            self.is_cached = False
            self._storage_level = StorageLevel(False, False, False, False, 1)
            self.ctx._unpersist_rdd(self._id)
        return self

    def getStorageLevel(self) -> StorageLevel:
        return self._storage_level

    def checkpoint(self) -> None:
        """Marks this RDD for a reliable checkpoint: after the next job that computes it, its partitions are written
        under ``sc.setCheckpointDir``'s directory and its lineage is cut, so later jobs read those files (and no
        longer need the shuffles it came from). Cache it first to spare the second computation."""
        if self.ctx._checkpoint_dir is None:
            raise RuntimeError("Checkpoint directory has not been set in the SparkContext: call "
                               "sc.setCheckpointDir(path) first")
        if not self._checkpoint_done:
            self.is_checkpointed = True
            self._checkpoint_wanted = "reliable"

    def localCheckpoint(self) -> None:
        """Marks this RDD for a local checkpoint: it is kept in the engine (memory, then disk) from the next job that
        computes it on, as Spark keeps it in the executors' block stores; faster, but lost with the context."""
        if not self.is_cached:
            self.persist(StorageLevel.MEMORY_AND_DISK)
        self._locally_checkpointed = True
        if not self._checkpoint_done:
            self._checkpoint_wanted = "local"

    def isCheckpointed(self) -> bool:
        """Whether a job has checkpointed this RDD (reliably or locally) since it was marked."""
        return self._checkpoint_done

    def isLocallyCheckpointed(self) -> bool:
        """Whether this RDD is marked for a local checkpoint."""
        return self._locally_checkpointed

    def getCheckpointFile(self) -> Optional[str]:
        """The ``file:`` URI of a reliable checkpoint's directory, or None."""
        return None if self._checkpoint_file is None else "file:" + self._checkpoint_file

    def _checkpoint_after_job(self) -> None:
        """Called after a job that computed this marked RDD: writes a reliable checkpoint and cuts the lineage."""
        wanted, self._checkpoint_wanted = self._checkpoint_wanted, None
        if wanted == "local":
            self._checkpoint_done = True
            return
        from ember import files
        directory = os.path.join(self.ctx._checkpoint_dir, f"rdd-{self._id}")
        files.write_checkpoint(self, directory)
        self._kind, self._parents, self._segment = RDD.SOURCE, [], {"kind": "empty"}
        self._func = files.checkpoint_reader(directory, self._num_partitions)
        self._checkpoint_file = directory
        self._checkpoint_done = True

    # -- narrow transformations --------------------------------------------------------------------------------

    def barrier(self) -> "RDDBarrier":
        """Marks the stage of the next mapPartitions as a barrier stage: its tasks all start together (or the job
        fails at once when they outnumber the context's slots) and may sync with ``BarrierTaskContext``."""
        return RDDBarrier(self)

    def _is_barrier(self) -> bool:
        """Whether this RDD is computed in a barrier stage: made by RDDBarrier, or fused into such a stage."""
        rdd: Optional[RDD] = self
        while rdd is not None:
            if rdd._barrier:
                return True
            rdd = rdd._parents[0] if rdd._kind == RDD.NARROW and not rdd._parents[0].is_cached else None
        return False

    def mapPartitionsWithIndex(self, f: PartitionFunction, preservesPartitioning: bool = False) -> "RDD":
        """Returns a new RDD by applying ``f(index, iterator)`` to each partition."""
        return RDD(self.ctx, RDD.NARROW, self._num_partitions, func=f, parents=[self],
                   partitioner=self.partitioner if preservesPartitioning else None)

    def mapPartitions(self, f: Callable[[Iterator[Any]], Iterable[Any]],
                      preservesPartitioning: bool = False) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: f(iterator), preservesPartitioning)

    def mapPartitionsWithSplit(self, f: PartitionFunction, preservesPartitioning: bool = False) -> "RDD":
        """Deprecated: use mapPartitionsWithIndex."""
        warnings.warn("mapPartitionsWithSplit is deprecated; use mapPartitionsWithIndex instead", FutureWarning,
                      stacklevel=2)
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

    def map(self, f: Callable[[Any], Any], preservesPartitioning: bool = False) -> "RDD":
        def map_partition(_split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            try:  # Around the loop, not in it: only f can raise StopIteration inside.
                for item in iterator:
                    yield f(item)
            except StopIteration as e:
                raise _stop_iteration(e) from None
        return self.mapPartitionsWithIndex(map_partition, preservesPartitioning)

    def flatMap(self, f: Callable[[Any], Iterable[Any]], preservesPartitioning: bool = False) -> "RDD":
        def flat_map_partition(_split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            try:
                for item in iterator:
                    yield from f(item)
            except StopIteration as e:
                raise _stop_iteration(e) from None
        return self.mapPartitionsWithIndex(flat_map_partition, preservesPartitioning)

    def filter(self, f: Callable[[Any], bool]) -> "RDD":
        def filter_partition(_split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            try:
                for item in iterator:
                    if f(item):
                        yield item
            except StopIteration as e:
                raise _stop_iteration(e) from None
        return self.mapPartitionsWithIndex(filter_partition, True)

    def glom(self) -> "RDD":
        return self.mapPartitionsWithIndex(lambda _split, iterator: [list(iterator)])

    def keyBy(self, f: Callable[[Any], Any]) -> "RDD":
        return self.map(lambda x: (f(x), x))

    def keys(self) -> "RDD":
        return self.map(lambda kv: kv[0])

    def values(self) -> "RDD":
        return self.map(lambda kv: kv[1])

    def mapValues(self, f: Callable[[Any], Any]) -> "RDD":
        return self.map(lambda kv: (kv[0], f(kv[1])), preservesPartitioning=True)

    def flatMapValues(self, f: Callable[[Any], Iterable[Any]]) -> "RDD":
        return self.flatMap(lambda kv: ((kv[0], v) for v in f(kv[1])), preservesPartitioning=True)

    def sample(self, withReplacement: bool, fraction: float, seed: Optional[int] = None) -> "RDD":
        """Samples each record with probability ``fraction`` (or, with replacement, a Poisson number of times)."""
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

    def randomSplit(self, weights: Sequence[float], seed: Optional[int] = None) -> list["RDD"]:
        """Splits into RDDs whose sizes follow ``weights``; every record lands in exactly one of them."""
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

    def sampleByKey(self, withReplacement: bool, fractions: dict[Any, float], seed: Optional[int] = None) -> "RDD":
        """Samples each (key, value) record with the fraction of its key (every key must have one)."""
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

    def pipe(self, command: str, env: Optional[dict[str, str]] = None, checkCode: bool = False) -> "RDD":
        """Feeds each partition's records (``str(record)``, one per line) to a command and returns its output lines.
        As in PySpark, the command runs with ``env`` as its whole environment (empty when not given); with
        ``checkCode``, a non-zero exit fails the task."""
        environment = dict(env or {})

        def run(iterator: Iterator[Any]) -> Iterator[str]:
            proc = subprocess.Popen(shlex.split(command), env=environment, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)

            def feed() -> None:
                try:
                    for item in iterator:
                        proc.stdin.write((str(item).rstrip("\n") + "\n").encode("utf-8"))
                except BrokenPipeError:
                    pass  # The command stopped reading; its exit code tells the rest.
                finally:
                    try:
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            for line in proc.stdout:
                yield line.rstrip(b"\n").decode("utf-8")
            writer.join()
            code = proc.wait()
            if checkCode and code:
                raise RuntimeError(f"[PIPE_FUNCTION_EXITED] Pipe function `{command}` exited with error code {code}.")

        return self.mapPartitions(run)

    # -- unions and shuffles -----------------------------------------------------------------------------------

    def union(self, other: "RDD") -> "RDD":
        return self.ctx.union([self, other])

    def __add__(self, other: "RDD") -> "RDD":
        if not isinstance(other, RDD):
            raise TypeError
        return self.union(other)

    def _defaultReducePartitions(self) -> int:
        configured = self.ctx._conf.get("spark.default.parallelism")
        return int(configured) if configured else self.getNumPartitions()

    def partitionBy(self, numPartitions: Optional[int], partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        """Shuffles (key, value) records so each key lands in partition ``partitionFunc(key) % numPartitions``.
        Records keep their order within each map partition; map partitions follow one another in order."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        if numPartitions < 0 or (numPartitions == 0 and self.getNumPartitions() > 0):
            raise ValueError(f"Number of partitions must be positive, got {numPartitions}")
        partitioner = Partitioner(numPartitions, partitionFunc)
        if self.partitioner == partitioner:
            return self
        return RDD(self.ctx, RDD.SHUFFLE, numPartitions, parents=[self], partitioner=partitioner)

    def combineByKey(self, createCombiner: Callable[[Any], Any], mergeValue: Callable[[Any, Any], Any],
                     mergeCombiners: Callable[[Any, Any], Any], numPartitions: Optional[int] = None,
                     partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        """Combines the values of each key: locally in each map task first, then across tasks after a shuffle."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def combine_locally(iterator: Iterator[Any]) -> Iterator[Any]:
            # What does not fit in memory goes on to the shuffle in parts, not to disk and back: merge_combiners
            # joins the parts of a key after the shuffle anyway.
            merger = ExternalMerger(createCombiner, mergeValue, mergeCombiners)
            return merger.combine_partially(iterator)

        def merge_combiners(iterator: Iterator[Any]) -> Iterator[Any]:
            merger = ExternalMerger(createCombiner, mergeValue, mergeCombiners)
            merger.merge_combined(iterator)
            return merger.items()

        locally = self.mapPartitions(combine_locally, preservesPartitioning=True)
        return locally.partitionBy(numPartitions, partitionFunc).mapPartitions(merge_combiners, True)

    def reduceByKey(self, func: Callable[[Any, Any], Any], numPartitions: Optional[int] = None,
                    partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        return self.combineByKey(lambda x: x, func, func, numPartitions, partitionFunc)

    def reduceByKeyLocally(self, func: Callable[[Any, Any], Any]) -> dict:
        func = fail_on_stopiteration(func)

        def reduce_partition(iterator: Iterator[Any]) -> Iterable[dict]:
            merged: dict = {}
            for k, v in iterator:
                merged[k] = func(merged[k], v) if k in merged else v
            return [merged]

        def merge_maps(m1: dict, m2: dict) -> dict:
            for k, v in m2.items():
                m1[k] = func(m1[k], v) if k in m1 else v
            return m1

        return self.mapPartitions(reduce_partition).reduce(merge_maps)

    def foldByKey(self, zeroValue: Any, func: Callable[[Any, Any], Any], numPartitions: Optional[int] = None,
                  partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        return self.combineByKey(lambda v: func(copy.deepcopy(zeroValue), v), func, func, numPartitions,
                                 partitionFunc)

    def aggregateByKey(self, zeroValue: Any, seqFunc: Callable[[Any, Any], Any], combFunc: Callable[[Any, Any], Any],
                       numPartitions: Optional[int] = None,
                       partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        return self.combineByKey(lambda v: seqFunc(copy.deepcopy(zeroValue), v), seqFunc, combFunc,
                                 numPartitions, partitionFunc)

    def groupByKey(self, numPartitions: Optional[int] = None,
                   partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        # The merger runs these combiners inline: no Python call per record.
        return self.combineByKey(start_group, append_to_group, extend_group, numPartitions,
                                 partitionFunc).mapValues(ResultIterable)

    def groupBy(self, f: Callable[[Any], Any], numPartitions: Optional[int] = None,
                partitionFunc: Callable[[Any], int] = portable_hash) -> "RDD":
        return self.map(lambda x: (f(x), x)).groupByKey(numPartitions, partitionFunc)

    def distinct(self, numPartitions: Optional[int] = None) -> "RDD":
        return self.map(lambda x: (x, None)).reduceByKey(lambda x, _: x, numPartitions).map(lambda kv: kv[0])

    def cogroup(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        return _cogroup([self, other], numPartitions)

    def groupWith(self, other: "RDD", *others: "RDD") -> "RDD":
        return _cogroup([self, other, *others], None)

    def join(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        return _join(self, other, numPartitions, keep_left=False, keep_right=False)

    def leftOuterJoin(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        return _join(self, other, numPartitions, keep_left=True, keep_right=False)

    def rightOuterJoin(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        return _join(self, other, numPartitions, keep_left=False, keep_right=True)

    def fullOuterJoin(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        return _join(self, other, numPartitions, keep_left=True, keep_right=True)

    def subtractByKey(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        def only_left(pair: tuple) -> bool:
            _key, (left, right) = pair
            return bool(left) and not right

        return self.cogroup(other, numPartitions).filter(only_left).flatMapValues(lambda groups: groups[0])

    def subtract(self, other: "RDD", numPartitions: Optional[int] = None) -> "RDD":
        keyed_other = other.map(lambda x: (x, True))
        return self.map(lambda x: (x, True)).subtractByKey(keyed_other, numPartitions).keys()

    def intersection(self, other: "RDD") -> "RDD":
        return (self.map(lambda v: (v, None)).cogroup(other.map(lambda v: (v, None)))
                .filter(lambda kv: all(kv[1])).keys())

    def sortByKey(self, ascending: bool = True, numPartitions: Optional[int] = None,
                  keyfunc: Callable[[Any], Any] = lambda x: x) -> "RDD":
        """Sorts by key across partitions: range-partitions by sampled bounds, then sorts each partition."""
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

    def sortBy(self, keyfunc: Callable[[Any], Any], ascending: bool = True,
               numPartitions: Optional[int] = None) -> "RDD":
        return self.keyBy(keyfunc).sortByKey(ascending, numPartitions).values()

    def repartitionAndSortWithinPartitions(self, numPartitions: Optional[int] = None,
                                           partitionFunc: Callable[[Any], int] = portable_hash,
                                           ascending: bool = True,
                                           keyfunc: Callable[[Any], Any] = lambda x: x) -> "RDD":
        """Repartitions (key, value) records by ``partitionFunc`` and sorts each new partition by key."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator: Iterator[Any]) -> Iterator[Any]:
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending))

        return self.partitionBy(numPartitions, partitionFunc).mapPartitions(sort_partition, True)

    def repartition(self, numPartitions: int) -> "RDD":
        return self.coalesce(numPartitions, shuffle=True)

    def coalesce(self, numPartitions: int, shuffle: bool = False) -> "RDD":
        """Fewer (or, with shuffle, any number of) partitions. Without shuffle, neighbouring partitions are merged
        in order; with shuffle, records are dealt round-robin."""
        if numPartitions < 1:
            raise ValueError(f"Number of partitions must be positive, got {numPartitions}")
        parts = self.getNumPartitions()
        if shuffle:
            def deal(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
                for i, item in enumerate(iterator, start=split):
                    yield i % numPartitions, item
            return (self.mapPartitionsWithIndex(deal).partitionBy(numPartitions, _identity)
                    .map(lambda kv: kv[1]))
        if numPartitions >= parts:
            return self

        def group_of(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            # Partition i takes parents [i * parts // n, (i + 1) * parts // n), as Spark groups them.
            target = ((split + 1) * numPartitions - 1) // parts
            return ((target, item) for item in iterator)

        return (self.mapPartitionsWithIndex(group_of).partitionBy(numPartitions, _identity)
                .map(lambda kv: kv[1]))

    def cartesian(self, other: "RDD") -> "RDD":
        """Every pair (a, b); partition i * m + j pairs partition i of this RDD with partition j of ``other``."""
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
            lefts, rights = [], []
            for _, (side, item) in iterator:
                (lefts if side == 0 else rights).append(item)
            return ((a, b) for a in lefts for b in rights)

        tagged = self.ctx.union([self.mapPartitionsWithIndex(left), other.mapPartitionsWithIndex(right)])
        return tagged.partitionBy(n * m, _identity).mapPartitions(pair_up)

    def zip(self, other: "RDD") -> "RDD":
        """Pairs the i-th record of each partition with the i-th of the same partition of ``other``."""
        if self.getNumPartitions() != other.getNumPartitions():
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        n = self.getNumPartitions()

        def pair_up(iterator: Iterator[Any]) -> Iterator[Any]:
            lefts, rights = [], []
            for _, (side, item) in iterator:
                (lefts if side == 0 else rights).append(item)
            if len(lefts) != len(rights):
                raise ValueError("Can only zip RDDs with same number of elements in each partition")
            return zip(lefts, rights)

        tagged = self.ctx.union([
            self.mapPartitionsWithIndex(lambda i, it: ((i, (0, x)) for x in it)),
            other.mapPartitionsWithIndex(lambda i, it: ((i, (1, x)) for x in it))])
        return tagged.partitionBy(n, _identity).mapPartitions(pair_up)

    def zipWithIndex(self) -> "RDD":
        """Pairs each record with its position in the RDD (partition by partition); runs a job to count."""
        starts = [0]
        if self.getNumPartitions() > 1:
            counts = self.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
            for count in counts[:-1]:
                starts.append(starts[-1] + count)

        def number(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            for i, item in enumerate(iterator, starts[split]):
                yield item, i

        return self.mapPartitionsWithIndex(number)

    def zipWithUniqueId(self) -> "RDD":
        n = self.getNumPartitions()

        def number(split: int, iterator: Iterator[Any]) -> Iterator[Any]:
            for i, item in enumerate(iterator):
                yield item, i * n + split

        return self.mapPartitionsWithIndex(number)

    # -- actions -----------------------------------------------------------------------------------------------

    def collect(self) -> list:
        """Returns all records, in partition order."""
        return list(self.ctx._run(self))

    def collectWithJobGroup(self, groupId: str, description: str, interruptOnCancel: bool = False) -> list:
        """Deprecated: collect() in a job group (use setJobGroup, or job tags, then collect)."""
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

    def toLocalIterator(self, prefetchPartitions: bool = False) -> Iterator[Any]:
        """The records, one partition's job at a time, so the driver holds one partition at most; with
        ``prefetchPartitions``, the next partition's job runs while this one's records are consumed."""
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
                records = upcoming.result()
                upcoming = prefetcher.submit(fetch, split + 1) if split + 1 < total else None
                yield from records

    def collectAsMap(self) -> dict:
        return dict(self.collect())

    def count(self) -> int:
        return self.mapPartitions(lambda iterator: [sum(1 for _ in iterator)]).sum()

    def countApprox(self, timeout: int, confidence: float = 0.95) -> int:
        """The count; Ember computes it exactly (within any timeout)."""
        return self.count()

    def sumApprox(self, timeout: int, confidence: float = 0.95) -> "BoundedFloat":
        """The sum as a BoundedFloat; Ember computes it exactly, so its bounds are the sum itself."""
        total = float(self.sum())
        return BoundedFloat(total, confidence, total, total)

    def meanApprox(self, timeout: int, confidence: float = 0.95) -> "BoundedFloat":
        """The mean as a BoundedFloat; Ember computes it exactly, so its bounds are the mean itself."""
        mean = float(self.mean())
        return BoundedFloat(mean, confidence, mean, mean)

    def countApproxDistinct(self, relativeSD: float = 0.05) -> int:
        """About how many distinct records there are, from a HyperLogLog sketch per partition (as Spark's, with
        ``relativeSD`` its relative accuracy); no shuffle."""
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

    def countByValue(self) -> dict:
        def count_partition(iterator: Iterator[Any]) -> Iterable[dict]:
            counts: dict = defaultdict(int)
            for item in iterator:
                counts[item] += 1
            return [counts]

        def merge(a: dict, b: dict) -> dict:
            for k, v in b.items():
                a[k] += v
            return a

        return self.mapPartitions(count_partition).fold(defaultdict(int), merge)

    def countByKey(self) -> dict:
        return self.map(lambda kv: kv[0]).countByValue()

    def lookup(self, key: Any) -> list:
        return self.filter(lambda kv: kv[0] == key).values().collect()

    def sum(self) -> Any:
        return self.mapPartitions(lambda iterator: [sum(iterator)]).fold(0, operator.add)

    def fold(self, zeroValue: Any, op: Callable[[Any, Any], Any]) -> Any:
        """Folds each partition, then the partition results, each time starting from ``zeroValue``."""
        op = fail_on_stopiteration(op)

        def fold_partition(iterator: Iterator[Any]) -> Iterable[Any]:
            acc = copy.deepcopy(zeroValue)  # op may change its first argument and return it
            for item in iterator:
                acc = op(acc, item)
            return [acc]
        return _reduce(op, self.mapPartitions(fold_partition).collect(), zeroValue)

    def aggregate(self, zeroValue: Any, seqOp: Callable[[Any, Any], Any], combOp: Callable[[Any, Any], Any]) -> Any:
        seqOp, combOp = fail_on_stopiteration(seqOp), fail_on_stopiteration(combOp)

        def aggregate_partition(iterator: Iterator[Any]) -> Iterable[Any]:
            acc = copy.deepcopy(zeroValue)
            for item in iterator:
                acc = seqOp(acc, item)
            return [acc]
        return _reduce(combOp, self.mapPartitions(aggregate_partition).collect(), zeroValue)

    def treeAggregate(self, zeroValue: Any, seqOp: Callable[[Any, Any], Any], combOp: Callable[[Any, Any], Any],
                      depth: int = 2) -> Any:
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got {depth}.")
        if self.getNumPartitions() == 0:
            return zeroValue
        partials = self.mapPartitions(lambda it: [_reduce(seqOp, it, copy.deepcopy(zeroValue))])
        # Combine partition results in groups on the workers until few are left, then on the driver.
        scale = max(int(math.ceil(math.pow(partials.getNumPartitions(), 1.0 / depth))), 2)
        while partials.getNumPartitions() > scale + int(math.ceil(partials.getNumPartitions() / scale)):
            groups = int(partials.getNumPartitions() / scale)
            partials = (partials.mapPartitionsWithIndex(lambda i, it, g=groups: ((i % g, x) for x in it))
                        .reduceByKey(combOp, groups).values())
        return _reduce(combOp, partials.collect(), zeroValue)

    def reduce(self, f: Callable[[Any, Any], Any]) -> Any:
        """Reduces the records with a commutative and associative function; fails on an empty RDD."""
        f = fail_on_stopiteration(f)

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

    def treeReduce(self, f: Callable[[Any, Any], Any], depth: int = 2) -> Any:
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

    def max(self, key: Optional[Callable[[Any], Any]] = None) -> Any:
        return self.reduce(max if key is None else lambda a, b: max(a, b, key=key))

    def min(self, key: Optional[Callable[[Any], Any]] = None) -> Any:
        return self.reduce(min if key is None else lambda a, b: min(a, b, key=key))

    def stats(self) -> StatCounter:
        return self.mapPartitions(lambda it: [StatCounter(it)]).reduce(lambda a, b: a.mergeStats(b))

    def mean(self) -> float:
        return self.stats().mean()

    def variance(self) -> float:
        return self.stats().variance()

    def stdev(self) -> float:
        return self.stats().stdev()

    def sampleStdev(self) -> float:
        return self.stats().sampleStdev()

    def sampleVariance(self) -> float:
        return self.stats().sampleVariance()

    def histogram(self, buckets: Union[int, Sequence[Any]]) -> tuple[list, list]:
        """Counts records per bucket. An int asks for that many even buckets between min and max; a sorted list
        gives the bucket edges (each bucket includes its left edge, the last also its right)."""
        if isinstance(buckets, int):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")
            comparable = self.filter(_comparable)
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
            edges = buckets
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

    def takeOrdered(self, num: int, key: Optional[Callable[[Any], Any]] = None) -> list:
        return self._select(num, key, heapq.nsmallest)

    def top(self, num: int, key: Optional[Callable[[Any], Any]] = None) -> list:
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

    def takeSample(self, withReplacement: bool, num: int, seed: Optional[int] = None) -> list:
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

    def foreach(self, f: Callable[[Any], None]) -> None:
        f = fail_on_stopiteration(f)

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

    # -- saving ------------------------------------------------------------------------------------------------

    def saveAsTextFile(self, path: str, compressionCodecClass: Optional[str] = None) -> None:
        """Writes one ``part-NNNNN`` file of lines per partition into the new directory ``path`` (each record as
        its str(), bytes as they are); gzip-compressed with ``org.apache.hadoop.io.compress.GzipCodec``. The files
        appear, with ``_SUCCESS``, only when every task has succeeded."""
        from ember import files
        files.save_with_codec(self, path, "text", compressionCodecClass)

    def saveAsJsonFile(self, path: str, compressionCodecClass: Optional[str] = None) -> None:
        """Writes each record as one JSON document per line (``json.dumps``: tuples become lists, dict keys
        strings), one ``part-NNNNN`` file per partition, as ``saveAsTextFile`` does. NaN and infinities raise
        ValueError: they are not JSON. Read the files back with ``SparkContext.jsonFile``."""
        from ember import files
        files.save_with_codec(self, path, "json", compressionCodecClass)

    def malformedCount(self) -> int:
        """For an RDD from ``jsonFile(..., mode="DROPMALFORMED")``: how many malformed lines its reads skipped
        (each split counted once, from its latest read). 0 for any other RDD."""
        file_input = getattr(self, "_file_input_id", None)
        if file_input is None:
            return 0
        return int(self.ctx._session.skippedRecords(file_input))

    def saveAsPickleFile(self, path: str, batchSize: int = 10) -> None:
        """Writes the records as batches of pickles, one ``part-NNNNN`` file per partition; read back with
        ``SparkContext.pickleFile``."""
        from ember import files
        files.save_partitions(self, path, files.pickle_writer(batchSize))


def _identity(x: Any) -> Any:
    return x


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _creation_site() -> str:
    """Where the program made an RDD, as Spark's call site: the Ember method it called and its file and line."""
    frame = sys._getframe(2)
    operation = "RDD"
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        operation = frame.f_code.co_name
        frame = frame.f_back
    if frame is None:
        return operation
    return f"{operation} at {os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def fail_on_stopiteration(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f``, with a StopIteration it raises turned into the RuntimeError of ``_stop_iteration``."""
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except StopIteration as e:
            raise _stop_iteration(e) from None
    return guarded


class RDDBarrier:
    """What ``rdd.barrier()`` returns: its mapPartitions functions run in a barrier stage."""

    def __init__(self, rdd: RDD) -> None:
        self.rdd = rdd

    def mapPartitions(self, f: Callable[[Iterator[Any]], Iterable[Any]],
                      preservesPartitioning: bool = False) -> RDD:
        return self.mapPartitionsWithIndex(lambda _split, iterator: f(iterator), preservesPartitioning)

    def mapPartitionsWithIndex(self, f: PartitionFunction, preservesPartitioning: bool = False) -> RDD:
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


def _cogroup(rdds: list[RDD], numPartitions: Optional[int]) -> RDD:
    count = len(rdds)

    def tag(i: int) -> Callable[[Any], Any]:
        return lambda v: (i, v)

    def split_by_source(tagged: Iterable[Any]) -> tuple:
        groups: list[list] = [[] for _ in range(count)]
        for i, v in tagged:
            groups[i].append(v)
        return tuple(ResultIterable(g) for g in groups)

    # mapValues keeps a partitioner, so co-partitioned RDDs are grouped without a shuffle.
    tagged = rdds[0].ctx.union([rdd.mapValues(tag(i)) for i, rdd in enumerate(rdds)])
    return tagged.groupByKey(numPartitions).mapValues(split_by_source)


def _join(left: RDD, right: RDD, numPartitions: Optional[int], keep_left: bool, keep_right: bool) -> RDD:
    def pairs(tagged: Iterable[Any]) -> Iterator[tuple]:
        lefts, rights = [], []
        for side, v in tagged:
            (lefts if side == 0 else rights).append(v)
        if keep_left and not rights:
            rights.append(None)
        if keep_right and not lefts:
            lefts.append(None)
        return ((v, w) for v in lefts for w in rights)

    tagged = left.mapValues(lambda v: (0, v)).union(right.mapValues(lambda v: (1, v)))
    return tagged.groupByKey(numPartitions).flatMapValues(pairs)
