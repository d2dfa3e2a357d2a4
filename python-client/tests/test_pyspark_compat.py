"""PySpark API points added for PySpark's own test suite (issue 17): SparkSession, context properties, schemes and
brace globs, the RDD methods that were missing, StopIteration in user code, job tags, spark-defaults.conf."""

from __future__ import annotations

import math
import os
import random
import shutil
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

import ember
from conftest import EMBER_DIST, TEST_MASTER, TEST_PARALLELISM
from ember import InheritableThread, SparkConf, SparkContext, StorageLevel
from ember.conf import load_defaults
from ember.rdd import BoundedFloat
from ember.sql import SparkSession

Point = namedtuple("Point", "x y")


def test_spark_session_wraps_the_context_and_refuses_dataframes(run_driver, result_of) -> None:
    proc = run_driver("""
        from ember import SparkContext
        from ember.sql import SparkSession
        with SparkSession.builder.master("local[2]").appName("session").config("spark.some.flag", True) \\
                .getOrCreate() as spark:
            sc = spark.sparkContext
            again = SparkSession.builder.getOrCreate()
            errors = {}
            for name, call in [("read", lambda: spark.read), ("createDataFrame", lambda: spark.createDataFrame([1])),
                               ("sql", lambda: spark.sql("select 1")), ("table", lambda: spark.table("t"))]:
                try:
                    call()
                except NotImplementedError as e:
                    errors[name] = str(e)
            result = {"same": again is spark, "context": type(sc).__module__, "app": sc.appName,
                      "master": sc.master, "flag": sc.getConf().get("spark.some.flag"), "version": spark.version,
                      "sum": sc.parallelize(range(10)).sum(), "errors": errors,
                      "active": SparkSession.getActiveSession() is spark}
        result["stopped"] = SparkContext._active_spark_context is None and SparkSession.getActiveSession() is None
        report(result)
    """)
    result = result_of(proc)
    assert result["same"] and result["active"] and result["stopped"]
    assert (result["context"], result["app"], result["master"], result["flag"]) == (
        "ember.context", "session", "local[2]", "true")
    assert result["version"] == ember.PYSPARK_API_VERSION and result["sum"] == 45
    assert set(result["errors"]) == {"read", "createDataFrame", "sql", "table"}
    assert "sc.parallelize(data)" in result["errors"]["createDataFrame"]
    assert "sc.textFile" in result["errors"]["read"]


def test_context_properties(sc: SparkContext) -> None:
    assert sc.version == ember.PYSPARK_API_VERSION != ember.__version__
    now_ms = time.time() * 1000
    assert now_ms - 3600_000 < sc.startTime <= now_ms  # milliseconds since the epoch, when the context started
    assert sc.applicationId.startswith("local-" if TEST_MASTER.startswith("local") else "cluster-")
    # The web UI of the driver's JVM (or of the service), on loopback.
    assert sc.uiWebUrl is not None and sc.uiWebUrl.startswith("http://127.0.0.1:")
    assert sc.sparkUser() == (os.environ.get("SPARK_USER") or __import__("getpass").getuser())
    assert repr(sc) == f"<SparkContext master={TEST_MASTER} appName=ember-tests>"
    assert sc.resources == {}


def test_local_cluster_masters_and_ignored_arguments(run_driver, result_of) -> None:
    proc = run_driver("""
        import warnings
        from ember import SparkContext
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sc = SparkContext("local-cluster[2, 2, 1024]", "cluster", serializer=object(), profiler_cls=object())
        report({"slots": sc.defaultParallelism, "sum": sc.parallelize(range(8)).sum(),
                "warnings": sorted(str(w.message).split("(")[1].split("=")[0] for w in caught)})
        sc.stop()
    """)
    assert result_of(proc) == {"slots": 4, "sum": 28, "warnings": ["profiler_cls", "serializer"]}


def test_an_insecure_gateway_is_refused() -> None:
    parameters = namedtuple("Parameters", "auth_token")(None)
    gateway = namedtuple("Gateway", "gateway_parameters")(parameters)
    with pytest.raises(ValueError, match="insecure Py4j gateway"):
        SparkContext(gateway=gateway)


def test_uris_of_other_file_systems_fail_at_once_naming_the_cause(sc: SparkContext, tmp_path: Path) -> None:
    for call in (lambda: sc.textFile("hdfs://namenode:8020/data/x.txt"),
                 lambda: sc.wholeTextFiles("s3a://bucket/key"),
                 lambda: sc.parallelize([1]).saveAsTextFile("s3a://bucket/out"),
                 lambda: sc.addFile("hdfs://namenode/file.txt"),
                 lambda: sc.textFile(f"{tmp_path},gs://bucket/x")):
        with pytest.raises(ValueError, match=r"local paths only .* not (hdfs|s3a|gs):// URIs"):
            call()


def test_brace_globs_as_hadoop_reads_them(sc: SparkContext, tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt", "d.log"):
        (tmp_path / name).write_text(name + "\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.txt").write_text("e.txt\n")
    pattern = f"{tmp_path}/{{a,c}}.txt"
    assert sorted(sc.textFile(pattern).collect()) == ["a.txt", "c.txt"]  # the JVM's listing
    assert sorted(name for name, _ in sc.wholeTextFiles(pattern).collect()) == [  # the workers' listing
        "file:" + str(tmp_path / "a.txt"), "file:" + str(tmp_path / "c.txt")]
    nested = f"{tmp_path}/{{a.txt,sub/e.txt,{{d}}.log}},{tmp_path}/b.txt"
    assert sorted(sc.textFile(nested).collect()) == ["a.txt", "b.txt", "d.log", "e.txt"]


def test_repartition_and_sort_within_partitions(sc: SparkContext) -> None:
    data = [(0, 5), (3, 8), (2, 6), (0, 8), (3, 8), (1, 3)]
    rdd = sc.parallelize(data, 2)
    for ascending in (True, False):
        parts = rdd.repartitionAndSortWithinPartitions(2, lambda k: k % 2, ascending).glom().collect()
        expected = [sorted([kv for kv in data if kv[0] % 2 == p], key=lambda kv: kv[0], reverse=not ascending)
                    for p in range(2)]
        assert parts == expected


def test_sample_by_key_keeps_each_keys_fraction(sc: SparkContext) -> None:
    fractions = {"a": 0.2, "b": 0.6}
    rdd = sc.parallelize([(k, i) for k in fractions for i in range(2000)], 4)
    sample = rdd.sampleByKey(False, fractions, 7).countByKey()
    assert 300 < sample["a"] < 500 and 1100 < sample["b"] < 1300
    assert rdd.sampleByKey(False, fractions, 7).collect() == rdd.sampleByKey(False, fractions, 7).collect()
    with_replacement = rdd.sampleByKey(True, {"a": 2.0, "b": 0.5}, 3).countByKey()
    assert 3600 < with_replacement["a"] < 4400 and 850 < with_replacement["b"] < 1150


def test_count_approx_distinct_and_bounded_approximations(sc: SparkContext) -> None:
    values = [random.Random(5).randrange(10 ** 9) for _ in range(3000)] * 2
    exact = len(set(values))
    rdd = sc.parallelize(values, 5)
    for relative in (0.05, 0.02):
        estimate = rdd.countApproxDistinct(relative)
        assert abs(estimate - exact) / exact < 3 * relative
    assert abs(rdd.map(str).countApproxDistinct() - exact) / exact < 0.15
    assert 18 <= sc.parallelize([i % 20 for i in range(1000)], 7).countApproxDistinct() <= 22
    with pytest.raises(ValueError, match="relativeSD"):
        rdd.countApproxDistinct(0.00000001)
    total = rdd.sumApprox(1000)
    assert isinstance(total, BoundedFloat) and total == float(sum(values)) == total.low == total.high
    assert math.isclose(rdd.meanApprox(1000), sum(values) / len(values))
    assert rdd.countApprox(1000, 0.9) == len(values)


def test_stop_iteration_in_user_code_fails_the_task(sc: SparkContext) -> None:
    def stopit(*_):
        raise StopIteration()

    numbers = sc.parallelize(range(10), 2)
    pairs = sc.parallelize([(x % 2, x) for x in range(10)], 2)
    message = "Caught StopIteration thrown from user's code; failing the task"
    for action in (numbers.map(stopit).collect, numbers.filter(stopit).collect, numbers.flatMap(stopit).collect,
                   lambda: numbers.foreach(stopit), lambda: numbers.reduce(stopit),
                   lambda: numbers.fold(0, stopit), lambda: pairs.reduceByKey(stopit).collect(),
                   lambda: pairs.reduceByKeyLocally(stopit), lambda: numbers.aggregate(0, stopit, lambda *x: 1)):
        with pytest.raises(RuntimeError, match=message):
            action()


def test_pipe_as_pyspark_runs_it(sc: SparkContext) -> None:
    rdd = sc.parallelize(["1", "2", "\u6d4b\u8bd5"], 2)
    assert rdd.pipe("cat").collect() == ["1", "2", "\u6d4b\u8bd5"]
    assert rdd.pipe("grep 4").collect() == []
    with pytest.raises(RuntimeError, match="Pipe function `grep 4` exited with error code 1"):
        rdd.pipe("grep 4", checkCode=True).collect()
    # env is the command's whole environment, as in PySpark.
    assert sc.parallelize([1], 1).pipe("env", env={"ONLY": "this"}).collect() == ["ONLY=this"]


def test_records_of_classes_made_in_the_driver_and_none(sc: SparkContext) -> None:
    local_type = namedtuple("LocalPerson", "id name")
    people = [local_type(1, "Jon"), None, Point(1, 2)]
    assert sc.parallelize(people, 2).collect() == people
    assert sc.parallelize(people, 2).map(lambda p: p).collect() == people
    assert sc.parallelize([1], 1).map(lambda _: local_type(2, "Jane")).collect() == [local_type(2, "Jane")]


def test_persisting_at_another_level_is_refused(sc: SparkContext) -> None:
    rdd = sc.range(5).persist(StorageLevel.MEMORY_ONLY)
    rdd.persist(StorageLevel.MEMORY_ONLY)  # the same level is fine
    with pytest.raises(ValueError, match="Cannot change storage level"):
        rdd.persist(StorageLevel.MEMORY_AND_DISK_2)
    rdd.unpersist()


def test_debug_string_and_repr_as_spark_prints_them(sc: SparkContext) -> None:
    rdd = sc.range(5)
    debug = rdd.toDebugString().decode()
    assert debug.splitlines()[0].startswith(f"({TEST_PARALLELISM}) PythonRDD[{rdd.id()}] at range at "
                                            f"test_pyspark_compat.py:")
    assert " |  ParallelCollectionRDD[" in debug
    shuffled = sc.parallelize([(1, 2)], 2).reduceByKey(lambda a, b: a + b).cache()
    lines = shuffled.toDebugString().decode().splitlines()
    assert "[Memory Serialized 1x Replicated]" in lines[0]
    assert any(line.startswith(" |  ShuffledRDD[") for line in lines)
    assert any(line.startswith(" +-(2) PythonRDD[") for line in lines)
    assert repr(sc.emptyRDD()).startswith("EmptyRDD[")
    assert repr(sc.parallelize([1]).setName("named")).startswith("named ParallelCollectionRDD[")


def test_job_tags_cancel_the_jobs_of_any_thread_that_carry_them(sc: SparkContext) -> None:
    sc.addJobTag("tag-one")
    sc.addJobTag("tag-two")
    assert sc.getJobTags() == {"tag-one", "tag-two"}
    sc.removeJobTag("tag-one")
    assert sc.getJobTags() == {"tag-two"}
    sc.clearJobTags()
    assert sc.getJobTags() == set()
    with pytest.raises(ValueError):
        sc.addJobTag("a,b")
    outcome = {}

    def run(tag: str) -> None:
        sc.addJobTag(tag)
        try:
            outcome[tag] = sc.parallelize([0, 1], 2).map(lambda x: time.sleep(3 if x else 0) or x).collect()
        except Exception as e:  # noqa: BLE001 - any failure is the outcome under test
            outcome[tag] = type(e).__name__

    threads = [InheritableThread(target=run, args=(tag,)) for tag in ("cancel-me", "keep-me")]
    for thread in threads:
        thread.start()
    time.sleep(1)
    sc.cancelJobsWithTag("cancel-me")
    for thread in threads:
        thread.join()
    assert outcome == {"cancel-me": "SparkJobError", "keep-me": [0, 1]}
    assert sc.getJobTags() == set()  # the threads' tags stayed theirs


def test_inheritable_threads_carry_local_properties(sc: SparkContext) -> None:
    sc.setLocalProperty("outer", "hi")
    seen = []

    def inner():
        seen.append((sc.getLocalProperty("outer"), sc.getLocalProperty("middle")))

    def middle():
        sc.setLocalProperty("middle", "hello")
        thread = InheritableThread(target=inner)
        thread.start()
        thread.join()

    thread = InheritableThread(target=middle)
    thread.start()
    thread.join()
    plain = threading.Thread(target=lambda: seen.append(sc.getLocalProperty("outer")))
    plain.start()
    plain.join()
    sc.setLocalProperty("outer", None)
    assert seen == [("hi", "hello"), None]
    assert sc.getLocalProperty("middle") is None


def test_spark_defaults_conf_of_the_distribution_is_loaded(tmp_path: Path) -> None:
    defaults = tmp_path / "spark-defaults.conf"
    defaults.write_text("# a comment\n\nspark.master   local[3]\nspark.app.name=from defaults\n"
                        "spark.executor.memory : 2g\nnot.spark.key value\n")
    assert load_defaults(str(defaults)) == {"spark.master": "local[3]", "spark.app.name": "from defaults",
                                            "spark.executor.memory": "2g"}
    shipped = load_defaults(str(EMBER_DIST / "conf" / "spark-defaults.conf"))
    assert shipped == {}  # the distribution ships the file with comments only
    assert (EMBER_DIST / "conf" / "spark-defaults.conf").is_file()
    conf = SparkConf(loadDefaults=False)
    assert conf.getAll() == []
    assert SparkConf().setAll([("spark.a", "1"), ("spark.b", "2")]).contains("spark.a")
    assert "spark.b=2" in SparkConf(False).setAll([("spark.a", "1"), ("spark.b", "2")]).toDebugString()


def test_spark_defaults_conf_reaches_a_driver(run_driver, result_of, tmp_path: Path) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    (home / "conf" / "spark-defaults.conf").write_text("spark.app.name from-defaults\nspark.task.cpus 1\n")
    proc = run_driver("""
        from ember import SparkConf, SparkContext
        sc = SparkContext("local[1]", conf=SparkConf().set("spark.task.cpus", "1"))
        report(sc.appName)
        sc.stop()
    """, env={"EMBER_HOME": str(home)})
    assert result_of(proc) == "from-defaults"


def test_broadcasts_of_several_threads_each_reach_their_own_jobs(sc: SparkContext) -> None:
    broadcasts = {i: sc.broadcast(list(range(i * 100))) for i in range(4)}
    results: dict = {}

    def run(i: int) -> None:
        b = broadcasts[i]
        results[i] = sc.parallelize(range(6), 3).map(lambda _: len(b.value)).collect()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: [i * 100] * 6 for i in range(4)}


def test_broadcast_as_pyspark_constructs_and_refuses_it(sc: SparkContext) -> None:
    from ember import Broadcast
    b = sc.broadcast([10, Point(1, 2)])
    assert Broadcast(sc=None, path=b._path).value == [10, Point(1, 2)]
    with pytest.raises(__import__("pickle").PicklingError, match="Could not serialize broadcast"):
        sc.broadcast(sc)
    with pytest.raises(RuntimeError, match="Broadcast can only be destroyed in driver"):
        sc.parallelize([1], 1).map(lambda _: b.destroy()).collect()
    with pytest.raises(RuntimeError, match="Broadcast can only be unpersisted in driver"):
        sc.parallelize([1], 1).map(lambda _: b.unpersist()).collect()
    assert sc.parallelize([1], 1).map(lambda _: b.value[0]).collect() == [10]
    b.destroy()
    with pytest.raises(RuntimeError, match="destroyed"):
        b.value


def test_co_partitioned_union_join_and_cogroup_need_no_shuffle(sc: SparkContext) -> None:
    pairs = sc.parallelize([(x % 5, x) for x in range(40)], 4)
    parted = pairs.partitionBy(3)
    union = parted.union(parted.mapValues(lambda v: -v))
    assert union.getNumPartitions() == 3 and union.partitioner == parted.partitioner
    by_partition = union.glom().collect()
    for i, records in enumerate(by_partition):  # partition i: partition i of the first, then of the second
        left = [kv for kv in pairs.collect() if hash(kv[0]) % 3 == i]
        assert records == left + [(k, -v) for k, v in left]
    tracker = sc.statusTracker()
    expected_join = sorted((k, (v, w)) for k, v in pairs.collect() for k2, w in pairs.collect() if k == k2)
    sc.setJobGroup("co-partitioned", "join")
    assert sorted(parted.join(parted).collect()) == expected_join
    sc.setJobGroup("mixed", "join")
    assert sorted(parted.join(pairs).collect()) == expected_join
    sc.setLocalProperty("spark.jobGroup.id", None)
    stages = {group: len(tracker.getJobInfo(tracker.getJobIdsForGroup(group)[0]).stageIds)
              for group in ("co-partitioned", "mixed")}
    assert stages == {"co-partitioned": 2, "mixed": 3}  # as Spark: the parted side is not shuffled again
    mixed = sc.union([union, pairs])  # an aligned union beside another input is computed in a stage of its own
    assert mixed.getNumPartitions() == 3 + 4
    assert sorted(mixed.collect()) == sorted(union.collect() + pairs.collect())
    cogrouped = {k: tuple(sorted(g) for g in groups) for k, groups in parted.cogroup(parted).collect()}
    assert cogrouped == {k: (sorted(v for k2, v in pairs.collect() if k2 == k),) * 2 for k in range(5)}


def test_python_worker_memory_set_on_a_running_context_reaches_the_next_job(sc: SparkContext) -> None:
    def limit_in_task(_):
        from ember import merge
        return merge.memory_limit()

    before = sc.getConf().get("spark.python.worker.memory", "512m")
    sc._conf.set("spark.python.worker.memory", "1m")
    try:
        assert sc.parallelize([0], 1).map(limit_in_task).collect() == [1 << 20]
        data = [(x % 3, x) for x in range(200000)]
        grouped = sc.parallelize(data, 2).groupByKey().mapValues(sorted).collect()  # spills at 1 MiB
        assert sorted(grouped) == [(k, [x for x in range(200000) if x % 3 == k]) for k in range(3)]
    finally:
        sc._conf.set("spark.python.worker.memory", before)
    assert sc.parallelize([0], 1).map(limit_in_task).collect() == [512 << 20]
