"""A typed program using Ember's API, for test_typing.py: mypy --strict must accept it, and on each line that ends in
``# R: <type>`` reveal that type. It is type-checked, never run."""

from __future__ import annotations

from operator import add
from typing import Iterable, Iterator, Optional

from ember import RDD, Accumulator, Broadcast, SparkConf, SparkContext, StatCounter, StorageLevel, TaskContext

sc = SparkContext(conf=SparkConf().setMaster("local[2]").setAppName("typed"))

# Records: what parallelize is given, and what each transformation makes of them.
numbers = sc.parallelize([1, 2, 3])
reveal_type(numbers)  # R: ember.rdd.RDD[builtins.int]
reveal_type(sc.parallelize([1]).map(str))  # R: ember.rdd.RDD[builtins.str]
reveal_type(numbers.map(lambda x: x * 1.5))  # R: ember.rdd.RDD[builtins.float]
reveal_type(numbers.flatMap(lambda x: [str(x)] * x))  # R: ember.rdd.RDD[builtins.str]
reveal_type(numbers.filter(lambda x: x > 1))  # R: ember.rdd.RDD[builtins.int]
reveal_type(numbers.mapPartitions(lambda it: [sum(it)]))  # R: ember.rdd.RDD[builtins.int]
reveal_type(numbers.mapPartitionsWithIndex(lambda i, it: ((i, x) for x in it)))  # R: ember.rdd.RDD[tuple[builtins.int, builtins.int]]
reveal_type(numbers.glom())  # R: ember.rdd.RDD[builtins.list[builtins.int]]
reveal_type(numbers.keyBy(str))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(numbers.distinct().sortBy(lambda x: -x))  # R: ember.rdd.RDD[builtins.int]
reveal_type(numbers.zipWithIndex())  # R: ember.rdd.RDD[tuple[builtins.int, builtins.int]]
reveal_type(numbers.zip(sc.parallelize(["a", "b", "c"])))  # R: ember.rdd.RDD[tuple[builtins.int, builtins.str]]
reveal_type(numbers.cartesian(sc.parallelize([b"x"])))  # R: ember.rdd.RDD[tuple[builtins.int, builtins.bytes]]
reveal_type(numbers.union(sc.parallelize(["a"])))  # R: ember.rdd.RDD[Union[builtins.int, builtins.str]]
reveal_type(numbers.union(numbers))  # R: ember.rdd.RDD[builtins.int]
reveal_type(numbers.groupBy(lambda x: x % 2))  # R: ember.rdd.RDD[tuple[builtins.int, ember.rdd.ResultIterable[builtins.int]]]
reveal_type(numbers.pipe("cat"))  # R: ember.rdd.RDD[builtins.str]
reveal_type(numbers.randomSplit([0.5, 0.5]))  # R: builtins.list[ember.rdd.RDD[builtins.int]]
reveal_type(numbers.cache().persist(StorageLevel.MEMORY_AND_DISK).unpersist())  # R: ember.rdd.RDD[builtins.int]
reveal_type(numbers.barrier().mapPartitions(lambda it: [str(sum(it))]))  # R: ember.rdd.RDD[builtins.str]

# Actions.
reveal_type(numbers.collect())  # R: builtins.list[builtins.int]
reveal_type(numbers.reduce(add))  # R: builtins.int
reveal_type(numbers.fold(0, add))  # R: builtins.int
reveal_type(numbers.aggregate("", lambda acc, x: acc + str(x), add))  # R: builtins.str
reveal_type(numbers.treeAggregate(0.0, lambda acc, x: acc + x, add))  # R: builtins.float
reveal_type(numbers.first())  # R: builtins.int
reveal_type(numbers.take(2))  # R: builtins.list[builtins.int]
reveal_type(numbers.top(2, key=lambda x: -x))  # R: builtins.list[builtins.int]
reveal_type(numbers.max())  # R: builtins.int
reveal_type(numbers.sum())  # R: builtins.int
reveal_type(numbers.count())  # R: builtins.int
reveal_type(numbers.mean())  # R: builtins.float
reveal_type(numbers.stats())  # R: ember.statcounter.StatCounter
reveal_type(numbers.countByValue())  # R: builtins.dict[builtins.int, builtins.int]
reveal_type(numbers.toLocalIterator())  # R: typing.Iterator[builtins.int]
reveal_type(numbers.takeSample(False, 2, seed=1))  # R: builtins.list[builtins.int]

# Pair RDDs: the key and value types travel through the by-key operations.
pairs = sc.parallelize([("a", 1), ("b", 2)])
reveal_type(pairs)  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(pairs.reduceByKey(add))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(pairs.keys())  # R: ember.rdd.RDD[builtins.str]
reveal_type(pairs.values())  # R: ember.rdd.RDD[builtins.int]
reveal_type(pairs.mapValues(float))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.float]]
reveal_type(pairs.flatMapValues(range))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(pairs.groupByKey())  # R: ember.rdd.RDD[tuple[builtins.str, ember.rdd.ResultIterable[builtins.int]]]
reveal_type(pairs.groupByKey().mapValues(sorted))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.list[builtins.int]]]


def start(value: int) -> list[int]:
    return [value]


def append(values: list[int], value: int) -> list[int]:
    return values + [value]


def concatenate(first: list[int], second: list[int]) -> list[int]:
    return first + second


reveal_type(pairs.combineByKey(start, append, concatenate))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.list[builtins.int]]]
reveal_type(pairs.aggregateByKey(0.0, lambda acc, v: acc + v, add))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.float]]
reveal_type(pairs.foldByKey(0, add).sortByKey().partitionBy(2))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(pairs.join(sc.parallelize([("a", 1.5)])))  # R: ember.rdd.RDD[tuple[builtins.str, tuple[builtins.int, builtins.float]]]
reveal_type(pairs.leftOuterJoin(sc.parallelize([("a", b"x")])))  # R: ember.rdd.RDD[tuple[builtins.str, tuple[builtins.int, Union[builtins.bytes, None]]]]
reveal_type(pairs.fullOuterJoin(pairs))  # R: ember.rdd.RDD[tuple[builtins.str, tuple[Union[builtins.int, None], Union[builtins.int, None]]]]
reveal_type(pairs.cogroup(sc.parallelize([("a", "x")])))  # R: ember.rdd.RDD[tuple[builtins.str, tuple[ember.rdd.ResultIterable[builtins.int], ember.rdd.ResultIterable[builtins.str]]]]
reveal_type(pairs.subtractByKey(sc.parallelize([("a", None)])))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.int]]
reveal_type(pairs.collectAsMap())  # R: builtins.dict[builtins.str, builtins.int]
reveal_type(pairs.lookup("a"))  # R: builtins.list[builtins.int]
reveal_type(pairs.countByKey())  # R: builtins.dict[builtins.str, builtins.int]
reveal_type(pairs.reduceByKeyLocally(max))  # R: builtins.dict[builtins.str, builtins.int]

# The context's sources and shared variables.
reveal_type(sc.range(10))  # R: ember.rdd.RDD[builtins.int]
reveal_type(sc.textFile("lines.txt"))  # R: ember.rdd.RDD[builtins.str]
reveal_type(sc.textFile("lines.txt", use_unicode=False))  # R: ember.rdd.RDD[builtins.bytes]
reveal_type(sc.textFile("lines.txt", 4, False))  # R: ember.rdd.RDD[builtins.bytes]
reveal_type(sc.wholeTextFiles("texts"))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.str]]
reveal_type(sc.binaryFiles("blobs"))  # R: ember.rdd.RDD[tuple[builtins.str, builtins.bytes]]
reveal_type(sc.union([numbers, numbers.map(abs)]))  # R: ember.rdd.RDD[builtins.int]
reveal_type(sc.runJob(numbers, lambda it: [str(x) for x in it], [0]))  # R: builtins.list[builtins.str]
reveal_type(sc.broadcast({"a": 1}))  # R: ember.shared.Broadcast[builtins.dict[builtins.str, builtins.int]]
reveal_type(sc.broadcast({"a": 1}).value)  # R: builtins.dict[builtins.str, builtins.int]
reveal_type(sc.accumulator(0.0))  # R: ember.shared.Accumulator[builtins.float]
reveal_type(sc.getConf().get("spark.master"))  # R: Union[builtins.str, None]
reveal_type(sc.getConf().get("spark.master", "local"))  # R: builtins.str
reveal_type(TaskContext.get())  # R: Union[ember.taskcontext.TaskContext, None]
reveal_type(StorageLevel.DISK_ONLY)  # R: ember.storagelevel.StorageLevel


# Functions with typed RDD parameters and results, as a program would write them.
def word_counts(lines: RDD[str]) -> RDD[tuple[str, int]]:
    return lines.flatMap(str.split).map(lambda word: (word, 1)).reduceByKey(add)


def longest(lines: RDD[str]) -> Optional[str]:
    return None if lines.isEmpty() else lines.max(key=len)


def partition_sizes(rdd: RDD[bytes]) -> list[int]:
    def size(records: Iterator[bytes]) -> Iterable[int]:
        return [sum(len(record) for record in records)]
    return rdd.mapPartitions(size).collect()


def scaled(values: RDD[float], factor: Broadcast[float], seen: Accumulator[int]) -> RDD[float]:
    def scale(value: float) -> float:
        seen.add(1)
        return value * factor.value
    return values.map(scale)


counts: dict[str, int] = word_counts(sc.textFile("book.txt")).collectAsMap()
stats: StatCounter = scaled(sc.parallelize([1.0, 2.0]), sc.broadcast(2.0), sc.accumulator(0)).stats()
sizes: list[int] = partition_sizes(sc.textFile("book.txt", use_unicode=False))
first_word: Optional[str] = longest(sc.textFile("book.txt"))
sc.stop()
