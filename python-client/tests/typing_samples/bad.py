"""Type errors mypy must find in programs using Ember's API, for test_typing.py: each line that ends in ``# E: <code>``
has exactly that error, and no other line has one. They are what a generic RDD catches; an RDD typed as Any would
let them all pass. Type-checked, never run."""

from __future__ import annotations

from operator import add

from ember import RDD, SparkContext, StorageLevel

sc = SparkContext("local[2]", "bad")
numbers = sc.parallelize([1, 2])
pairs = sc.parallelize([("a", 1), ("b", 2)])

sc.parallelize([1, 2]).map(lambda x: x.upper())  # E: attr-defined
strings: RDD[str] = sc.parallelize([1])  # E: list-item
words: RDD[str] = numbers.map(lambda x: x * 2)  # E: arg-type, return-value
total: str = numbers.reduce(add)  # E: assignment
firsts: list[str] = numbers.collect()  # E: assignment
numbers.filter(lambda x: x.startswith("a"))  # E: attr-defined
numbers.flatMap(lambda x: x)  # E: arg-type, return-value
numbers.reduceByKey(add)  # E: misc
numbers.keys()  # E: misc
pairs.reduceByKey(lambda a, b: a + "!")  # E: operator
pairs.mapValues(lambda v: v.upper())  # E: attr-defined
pairs.join(numbers)  # E: arg-type
lengths: dict[str, str] = pairs.collectAsMap()  # E: assignment
sc.textFile("lines.txt", use_unicode=False).map(lambda line: line + "!")  # E: operator
sc.broadcast(1).value.upper()  # E: attr-defined
sc.accumulator(0).add("one")  # E: arg-type
sc.getConf().get("spark.master").upper()  # E: union-attr
numbers.persist(StorageLevel.NOT_A_LEVEL)  # E: attr-defined
sc.runJob(numbers, lambda it: [x.upper() for x in it])  # E: attr-defined
