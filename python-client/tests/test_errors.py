"""Errors a user can act on: the user's own exception types, and closures that cannot be pickled named."""

from __future__ import annotations

import pickle
import socket
import threading

import pytest

from ember import PythonException, SparkContext, SparkJobError


class InventoryError(Exception):
    def __init__(self, item: str, missing: int) -> None:
        super().__init__(f"{item}: {missing} missing")
        self.item = item
        self.missing = missing


def test_a_custom_exception_is_caught_by_its_own_type_with_the_worker_traceback(sc: SparkContext) -> None:
    def check(x: int) -> int:
        if x == 7:
            raise InventoryError("bolts", x)
        return x

    with pytest.raises(InventoryError) as info:
        sc.parallelize(list(range(10)), 3).map(check).collect()
    error = info.value
    assert (error.item, error.missing) == ("bolts", 7)
    assert isinstance(error, PythonException) and isinstance(error, SparkJobError)
    report = str(error)
    assert "Traceback (most recent call last)" in report
    assert "in check" in report
    assert "InventoryError: bolts: 7 missing" in report
    assert "partition 2 of stage 0" in report  # 10 records in 3 slices: 7 is in the last one


def test_builtin_exceptions_keep_their_type(sc: SparkContext) -> None:
    with pytest.raises(ValueError, match="invalid literal for int"):
        sc.parallelize(["1", "x"], 2).map(int).collect()
    with pytest.raises(ZeroDivisionError):
        sc.parallelize([1, 0], 1).map(lambda x: 1 / x).collect()
    with pytest.raises(KeyError) as info:
        sc.parallelize([{"a": 1}], 1).map(lambda d: d["b"]).collect()
    assert info.value.args == ("b",)


def test_an_exception_that_cannot_be_pickled_still_arrives_as_python_exception(sc: SparkContext) -> None:
    class HoldsALock(Exception):
        def __init__(self) -> None:
            super().__init__("with a lock")
            self.lock = threading.Lock()

    def fail(_: int) -> int:
        raise HoldsALock()

    with pytest.raises(PythonException, match="HoldsALock: with a lock"):
        sc.parallelize([1], 1).map(fail).collect()


def test_an_unpicklable_closure_variable_is_named(sc: SparkContext) -> None:
    def job() -> None:
        conn = socket.socket()
        try:
            sc.parallelize([1, 2], 1).map(lambda x: (x, conn.fileno())).collect()
        finally:
            conn.close()

    with pytest.raises(pickle.PicklingError) as info:
        job()
    message = str(info.value)
    assert "closure variable 'conn' -> socket.socket" in message
    assert "inside the function" in message  # says what to do about it
    assert sc.parallelize([1, 2], 1).sum() == 3  # the context is still usable


def test_an_rdd_used_inside_a_function_gets_the_spark_5063_message(sc: SparkContext) -> None:
    inner = sc.parallelize([1, 2, 3])
    with pytest.raises(pickle.PicklingError, match="SPARK-5063"):
        sc.parallelize([1], 1).map(lambda x: inner.count()).collect()
    with pytest.raises(pickle.PicklingError, match="SPARK-5063"):
        sc.parallelize([1], 1).map(lambda x: sc.defaultParallelism).collect()


def test_a_crashed_worker_is_reported_with_its_signal_and_an_exiting_one_with_its_code(run_driver,
                                                                                    result_of) -> None:
    proc = run_driver("""
        import os, signal
        from ember import SparkConf, SparkContext, SparkJobError
        sc = SparkContext("local[2]", "crashes", conf=SparkConf().set("spark.task.maxFailures", "2"))
        reports = {}
        for name, crash in [("segv", lambda x: os.kill(os.getpid(), signal.SIGSEGV)), ("exit", lambda x: os._exit(3))]:
            try:
                sc.parallelize([1], 1).map(crash).collect()
                reports[name] = "no error"
            except SparkJobError as e:
                reports[name] = str(e)
        reports["after"] = sc.parallelize(list(range(5)), 2).sum()
        sc.stop()
        report(reports)
    """)
    reports = result_of(proc)
    assert "killed by signal 11 (SIGSEGV)" in reports["segv"] and "partition 0" in reports["segv"]
    assert "Fatal Python error: Segmentation fault" in reports["segv"]  # faulthandler's stack from the worker
    assert "exited with code 3" in reports["exit"]
    assert reports["after"] == 10


def test_a_collect_larger_than_max_result_size_is_refused_naming_the_setting(run_driver, result_of) -> None:
    proc = run_driver("""
        from ember import SparkConf, SparkContext, SparkJobError
        sc = SparkContext("local[2]", "big", conf=SparkConf().set("spark.driver.maxResultSize", "1m"))
        try:
            sc.parallelize([b"x" * 100_000] * 50, 5).collect()
            outcome = "collected"
        except SparkJobError as e:
            outcome = str(e)
        small = sc.parallelize([b"x" * 1000] * 50, 5).collect()
        sc.stop()
        report({"outcome": outcome, "small": len(small)})
    """)
    result = result_of(proc)
    assert "spark.driver.maxResultSize" in result["outcome"] and "1.0 MiB" in result["outcome"]
    assert result["small"] == 50


HOG = """
        import time
        from ember import SparkConf, SparkContext, SparkJobError
        conf = SparkConf()
        if __LIMIT__:
            conf.set("spark.executor.pyspark.memory", __LIMIT__)
        sc = SparkContext("local[2]", "hog", conf=conf)
        def hog(split, it):
            if split == 1:
                blocks = [bytearray(20 * 1024 * 1024) for _ in range(15)]  # 300 MiB, touched (zero-filled)
                time.sleep(0.5)
                yield len(blocks)
            yield from it
        try:
            outcome = sc.parallelize(range(10), 3).mapPartitionsWithIndex(hog).count()
        except SparkJobError as e:
            outcome = str(e)
        after = sc.parallelize(range(10), 2).count()
        sc.stop()
        report({"outcome": outcome, "after": after})
"""


def test_a_worker_over_the_memory_limit_is_stopped_naming_the_limit_and_partition(run_driver, result_of) -> None:
    limited = result_of(run_driver(HOG.replace("__LIMIT__", "'150m'")))
    assert "partition 1 of stage 0" in limited["outcome"], limited
    assert "over the limit of 150 MiB (spark.executor.pyspark.memory)" in limited["outcome"], limited
    assert limited["after"] == 10
    # The same job without a limit: the memory itself was never the problem, the guard was what stopped it.
    unlimited = result_of(run_driver(HOG.replace("__LIMIT__", "None")))
    assert unlimited == {"outcome": 11, "after": 10}


def test_a_killed_jvm_is_reported_as_such_on_the_next_call(run_driver, result_of) -> None:
    proc = run_driver("""
        import os, signal, time
        from ember import SparkContext
        from ember.errors import EmberError
        sc = SparkContext("local[2]", "jvm-dies")
        first = sc.parallelize([1, 2, 3]).sum()
        os.kill(sc._launched.process.pid, signal.SIGKILL)
        sc._launched.process.wait(10)
        try:
            sc.parallelize([1, 2, 3]).sum()
            outcome = "still ran"
        except EmberError as e:
            outcome = str(e)
        sc.stop()
        report({"first": first, "outcome": outcome})
    """)
    result = result_of(proc)
    assert result["first"] == 6
    assert "The Ember JVM was killed by signal 9 (SIGKILL)" in result["outcome"]
    assert "gateway listening" in result["outcome"]  # the last lines of its log come with it


def test_a_master_whose_scheduler_is_not_installed_fails_naming_the_bundle(run_driver, result_of) -> None:
    proc = run_driver("""
        from ember import SparkConf, SparkContext
        from ember.errors import EmberStartError
        reports = {}
        for name, master, engine in [("named", "local[1]", "nosuch"),
                                     ("cluster-without-secret", "ember-cluster://127.0.0.1:5701", None)]:
            conf = SparkConf()
            if engine:
                conf.set("spark.ember.engine", engine)
            try:
                SparkContext(master, "missing-" + name, conf=conf)
                reports[name] = "started"
            except EmberStartError as e:
                reports[name] = str(e)
        # The failed attempts leave nothing behind: a local context starts and runs.
        sc = SparkContext("local[1]", "after")
        reports["after"] = sc.parallelize([1, 2, 3]).sum()
        reports["status"] = __import__("json").loads(sc._entry.status())["engines"]
        sc.stop()
        report(reports)
    """)
    reports = result_of(proc)
    assert "no scheduler named 'nosuch' is installed" in reports["named"]
    assert "dev.ember.engine.nosuch" in reports["named"] and "Installed: local" in reports["named"]
    # The cluster scheduler ships in extras/ and is installed for ember-cluster:// masters; without the cluster's
    # name and secret it says which settings to give.
    assert "spark.ember.cluster.secret" in reports["cluster-without-secret"]
    assert "spark.ember.cluster.config" in reports["cluster-without-secret"]
    assert reports["after"] == 6
    assert reports["status"] == ["local"]


def test_an_unparsable_cluster_master_is_refused_before_anything_starts() -> None:
    from ember.context import parse_master
    for bad in ["ember-cluster://no-port", "ember-cluster://", "ember-cluster://h:1/x"]:
        with pytest.raises(ValueError, match="expected ember-cluster://host:port"):
            parse_master(bad)
    assert parse_master("ember-cluster://10.0.0.5:5701")[1] is None
    assert parse_master("ember-cluster://a:5701,b:5702")[0] >= 1
