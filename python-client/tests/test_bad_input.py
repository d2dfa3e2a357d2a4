"""Bad input to the public API (issue 23's attack pass): each kind fails at once with a clear error of the type
PySpark 4.x raises, naming the bad argument or the cause, and the shared context goes on running jobs afterwards.

Where PySpark raises a Python exception, Ember raises the same type. Where PySpark's error comes from its JVM (a
``Py4JJavaError``), Ember raises the Python type of what the JVM said, as the rest of Ember does: an
IllegalArgumentException or a bad Master URL is a ValueError, a missing input a FileNotFoundError, an existing
output directory a FileExistsError, and a failed task a SparkJobError that is also the task's own exception type.
Each case says what PySpark 4.3.0 does with the same input (checked on pyspark 4.3.0 itself); where that is no error
at all, the case says so, and ``test_inputs_pyspark_accepts_give_pyspark_s_results`` keeps Ember's answers equal to
PySpark's.
"""

from __future__ import annotations

import math
import operator
import pickle
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from ember import SparkConf, SparkContext, SparkJobError, StorageLevel

Call = Callable[[SparkContext, Path], Any]

DATA = list(range(20))
PAIRS = [(i % 5, i * i) for i in range(30)]


def numbers(sc: SparkContext) -> Any:
    return sc.parallelize(DATA, 2)


def pairs(sc: SparkContext) -> Any:
    return sc.parallelize(PAIRS, 3)


def empty(sc: SparkContext) -> Any:
    return sc.parallelize([], 2)


@dataclass(frozen=True)
class BadInput:
    """One kind of bad input: ``call`` makes it; it must raise ``error`` (and ``also``, for a failed task: then the
    error is the task's exception type and a SparkJobError) with a message matching ``match``. ``pyspark`` is what
    PySpark 4.3.0 raises for the same input."""
    name: str
    call: Call
    error: type
    match: str
    pyspark: str
    also: Optional[type] = None


def _accumulate_wrong_type_on_driver(sc: SparkContext, _: Path) -> None:
    sc.accumulator(0).add("seven")


def _accumulate_wrong_type_in_task(sc: SparkContext, _: Path) -> None:
    total = sc.accumulator(0)
    numbers(sc).foreach(lambda x: total.add(str(x)))


def _save_into_existing_directory(sc: SparkContext, tmp: Path) -> None:
    out = tmp / "out"
    out.mkdir()
    numbers(sc).saveAsTextFile(str(out))


def _closure_with_the_context(sc: SparkContext, _: Path) -> None:
    numbers(sc).map(lambda x: x * sc.defaultParallelism).collect()


def _change_storage_level(sc: SparkContext, _: Path) -> None:
    numbers(sc).persist(StorageLevel.MEMORY_ONLY).persist(StorageLevel.DISK_ONLY)


CASES = [
    # -- creating RDDs ------------------------------------------------------------------------------------------
    BadInput("parallelize-zero-slices", lambda sc, _: sc.parallelize([1, 2, 3], 0), ValueError,
             r"numSlices must be at least 1, got 0", "ZeroDivisionError: integer division or modulo by zero"),
    BadInput("parallelize-negative-slices", lambda sc, _: sc.parallelize([1, 2, 3], -2).collect(), ValueError,
             r"numSlices must be at least 1, got -2",
             "Py4JJavaError (IllegalArgumentException: Positive number of partitions required) at the action"),
    BadInput("range-zero-slices", lambda sc, _: sc.range(10, numSlices=0).collect(), ValueError,
             r"numSlices must be at least 1", "ZeroDivisionError: integer division or modulo by zero"),
    BadInput("textFile-missing-path", lambda sc, tmp: sc.textFile(str(tmp / "no-such.txt")).collect(),
             FileNotFoundError, r"Input path does not exist: .*no-such\.txt",
             "Py4JJavaError (InvalidInputException: Input path does not exist: file:.../no-such.txt)"),
    BadInput("wholeTextFiles-missing-path", lambda sc, tmp: sc.wholeTextFiles(str(tmp / "gone")).collect(),
             FileNotFoundError, r"Input path does not exist: .*gone",
             "Py4JJavaError (InvalidInputException: Input path does not exist)"),
    BadInput("union-of-no-rdds", lambda sc, _: sc.union([]), ValueError, r"union\(\) needs at least one RDD",
             "IndexError: list index out of range"),
    # -- sampling -----------------------------------------------------------------------------------------------
    BadInput("sample-negative-fraction", lambda sc, _: numbers(sc).sample(False, -0.5).collect(), ValueError,
             r"Fraction must be nonnegative", "ValueError: Fraction must be nonnegative."),
    BadInput("sample-with-replacement-negative-fraction", lambda sc, _: numbers(sc).sample(True, -1.0), ValueError,
             r"Fraction must be nonnegative", "ValueError: Fraction must be nonnegative."),
    BadInput("takeSample-negative-num", lambda sc, _: numbers(sc).takeSample(False, -1), ValueError,
             r"Sample size cannot be negative", "ValueError: Sample size cannot be negative."),
    BadInput("takeSample-num-too-large", lambda sc, _: numbers(sc).takeSample(True, sys.maxsize), ValueError,
             r"Sample size cannot be greater than \d+", "ValueError: Sample size cannot be greater than ..."),
    BadInput("randomSplit-negative-weight", lambda sc, _: numbers(sc).randomSplit([1.0, -1.0]), ValueError,
             r"Weights must be nonnegative", "ValueError: Weights must be nonnegative"),
    BadInput("takeOrdered-negative-num", lambda sc, _: numbers(sc).takeOrdered(-1), ValueError,
             r"top N cannot be negative", "ValueError: top N cannot be negative."),
    # -- partition counts ---------------------------------------------------------------------------------------
    BadInput("repartition-zero", lambda sc, _: numbers(sc).repartition(0), ValueError,
             r"Number of partitions must be positive, got 0", "ValueError: Number of partitions must be positive."),
    BadInput("coalesce-zero", lambda sc, _: numbers(sc).coalesce(0), ValueError,
             r"Number of partitions must be positive, got 0", "ValueError: Number of partitions must be positive."),
    BadInput("partitionBy-zero", lambda sc, _: pairs(sc).partitionBy(0).collect(), ValueError,
             r"Number of partitions must be positive, got 0", "no error: collect() gives [] (every record lost)"),
    BadInput("reduceByKey-negative-partitions", lambda sc, _: pairs(sc).reduceByKey(operator.add, -1).collect(),
             ValueError, r"Number of partitions must be positive, got -1",
             "no error: collect() gives [] (every record lost)"),
    BadInput("partitionBy-not-an-int", lambda sc, _: pairs(sc).partitionBy("4"), TypeError, r"'str'",
             "Py4JError: Constructor PythonPartitioner([class java.lang.String, class java.lang.Long]) does not "
             "exist"),
    BadInput("sortByKey-zero-partitions", lambda sc, _: pairs(sc).sortByKey(numPartitions=0).collect(), ValueError,
             r"Number of partitions must be positive, got 0", "no error: collect() gives [] (every record lost)"),
    BadInput("treeAggregate-depth-zero",
             lambda sc, _: numbers(sc).treeAggregate(0, operator.add, operator.add, depth=0), ValueError,
             r"Depth cannot be smaller than 1 but got 0", "ValueError: Depth cannot be smaller than 1 but got 0."),
    # -- actions on an empty RDD --------------------------------------------------------------------------------
    BadInput("reduce-empty", lambda sc, _: empty(sc).reduce(operator.add), ValueError, r"Can not reduce\(\) empty RDD",
             "ValueError: Can not reduce() empty RDD"),
    BadInput("treeReduce-empty", lambda sc, _: empty(sc).treeReduce(operator.add), ValueError,
             r"Cannot reduce empty RDD", "ValueError: Cannot reduce empty RDD."),
    BadInput("first-empty", lambda sc, _: empty(sc).first(), ValueError, r"RDD is empty", "ValueError: RDD is empty"),
    BadInput("max-empty", lambda sc, _: empty(sc).max(), ValueError, r"empty RDD",
             "ValueError: Can not reduce() empty RDD"),
    BadInput("stdev-of-no-partitions", lambda sc, _: sc.emptyRDD().stdev(), ValueError, r"empty RDD",
             "ValueError: Can not reduce() empty RDD"),
    BadInput("histogram-of-empty-rdd", lambda sc, _: empty(sc).histogram(3), ValueError, r"empty RDD",
             "ValueError: Can not reduce() empty RDD"),
    # -- histogram buckets --------------------------------------------------------------------------------------
    BadInput("histogram-zero-buckets", lambda sc, _: numbers(sc).histogram(0), ValueError,
             r"number of buckets must be >= 1", "ValueError: number of buckets must be >= 1"),
    BadInput("histogram-one-bound", lambda sc, _: numbers(sc).histogram([1]), ValueError,
             r"buckets should have more than one value", "ValueError: buckets should have more than one value"),
    BadInput("histogram-unsorted-buckets", lambda sc, _: numbers(sc).histogram([5, 1, 3]), ValueError,
             r"buckets should be sorted", "ValueError: buckets should be sorted"),
    BadInput("histogram-duplicate-buckets", lambda sc, _: numbers(sc).histogram([1, 1, 3]), ValueError,
             r"buckets should not contain duplicated values",
             "ValueError: buckets should not contain duplicated values"),
    BadInput("histogram-nan-bucket", lambda sc, _: numbers(sc).histogram([1, math.nan, 3]), ValueError,
             r"None or NaN in buckets", "ValueError: can not have None or NaN in buckets"),
    BadInput("histogram-buckets-not-a-list", lambda sc, _: numbers(sc).histogram("abc"), TypeError,
             r"buckets should be a list or tuple or number",
             "TypeError: buckets should be a list or tuple or number(int or long)"),
    # -- combining RDDs -----------------------------------------------------------------------------------------
    BadInput("union-with-a-list", lambda sc, _: numbers(sc).union([1, 2]), AttributeError, r"'list' object",
             "AttributeError: 'list' object has no attribute '_jrdd_deserializer'"),
    BadInput("zip-different-partition-counts",
             lambda sc, _: numbers(sc).zip(sc.parallelize(DATA, 3)).collect(), ValueError,
             r"Can only zip with RDD which has the same number of partitions",
             "ValueError: Can only zip with RDD which has the same number of partitions"),
    BadInput("zip-different-element-counts",
             lambda sc, _: numbers(sc).zip(sc.parallelize(DATA + [20, 21], 2)).collect(), ValueError,
             r"Can only zip RDDs with same number of elements in each partition",
             "Py4JJavaError (SparkException: Can only zip RDDs with same number of elements in each partition)",
             also=SparkJobError),
    # -- shared variables and closures --------------------------------------------------------------------------
    BadInput("broadcast-unpicklable", lambda sc, _: sc.broadcast(threading.Lock()), pickle.PicklingError,
             r"Could not serialize broadcast: TypeError: cannot pickle '_thread.lock' object",
             "PicklingError: Could not serialize broadcast: TypeError: cannot pickle '_thread.lock' object"),
    BadInput("accumulator-without-param-for-type", lambda sc, _: sc.accumulator("text"), TypeError,
             r"No default accumulator param for type <class 'str'>",
             "TypeError: No default accumulator param for type <class 'str'>"),
    BadInput("accumulator-add-wrong-type-on-driver", _accumulate_wrong_type_on_driver, TypeError,
             r"unsupported operand type\(s\) for \+=: 'int' and 'str'",
             "TypeError: unsupported operand type(s) for +=: 'int' and 'str'"),
    BadInput("accumulator-add-wrong-type-in-task", _accumulate_wrong_type_in_task, TypeError,
             r"unsupported operand type\(s\) for \+=: 'int' and 'str'",
             "Py4JJavaError (PythonException: TypeError: unsupported operand type(s) for +=: 'int' and 'str')",
             also=SparkJobError),
    BadInput("closure-references-the-context", _closure_with_the_context, pickle.PicklingError,
             r"reference SparkContext from a broadcast variable, action, or transformation.*SPARK-5063",
             "PicklingError: Could not serialize object: PySparkRuntimeError: [CONTEXT_ONLY_VALID_ON_DRIVER] ..."),
    BadInput("map-result-unpicklable", lambda sc, _: numbers(sc).map(lambda x: threading.Lock()).collect(),
             TypeError, r"cannot pickle '_thread.lock' object",
             "Py4JJavaError (PythonException: TypeError: cannot pickle '_thread.lock' object)", also=SparkJobError),
    # -- output, commands, files --------------------------------------------------------------------------------
    BadInput("saveAsTextFile-existing-directory", _save_into_existing_directory, FileExistsError,
             r"Output directory .*out already exists",
             "Py4JJavaError (FileAlreadyExistsException: Output directory file:.../out already exists)"),
    BadInput("pipe-missing-command", lambda sc, _: numbers(sc).pipe("ember-no-such-command").collect(),
             FileNotFoundError, r"No such file or directory: 'ember-no-such-command'",
             "Py4JJavaError (PythonException: FileNotFoundError: ... 'ember-no-such-command')", also=SparkJobError),
    BadInput("pipe-failing-command-checkCode", lambda sc, _: numbers(sc).pipe("false", checkCode=True).collect(),
             RuntimeError, r"PIPE_FUNCTION_EXITED\] Pipe function `false` exited with error code 1",
             "Py4JJavaError (PythonException: PySparkRuntimeError: [PIPE_FUNCTION_EXITED] ...)", also=SparkJobError),
    BadInput("addFile-missing", lambda sc, tmp: sc.addFile(str(tmp / "missing.txt")), FileNotFoundError,
             r"missing\.txt does not exist",
             "Py4JJavaError (FileNotFoundException: File file:.../missing.txt does not exist)"),
    BadInput("addFile-directory-not-recursive", lambda sc, tmp: sc.addFile(str(tmp)), ValueError,
             r"is a directory and recursive is not turned on",
             "Py4JJavaError (SparkException: [UNSUPPORTED_ADD_FILE.DIRECTORY] ... is a directory)"),
    BadInput("persist-changed-storage-level", _change_storage_level, ValueError,
             r"Cannot change storage level of an RDD after it was already assigned a level",
             "Py4JJavaError (SparkUnsupportedOperationException: Cannot change storage level of an RDD ...)"),
    BadInput("countApproxDistinct-relativeSD-too-small", lambda sc, _: numbers(sc).countApproxDistinct(1e-6),
             ValueError, r"relativeSD should be greater than",
             "ValueError: relativeSD should be greater than 0.000017"),
    # -- job settings -------------------------------------------------------------------------------------------
    BadInput("addJobTag-empty", lambda sc, _: sc.addJobTag(""), ValueError, r"job tag cannot be an empty string",
             "Py4JJavaError (IllegalArgumentException: Spark job tag cannot be an empty string.)"),
    BadInput("addJobTag-with-comma", lambda sc, _: sc.addJobTag("a,b"), ValueError, r"job tag cannot contain ','",
             "Py4JJavaError (IllegalArgumentException: Spark job tag cannot contain ','.)"),
    BadInput("setLogLevel-unknown", lambda sc, _: sc.setLogLevel("LOUD"), ValueError,
             r"Supplied level LOUD did not match one of",
             "Py4JJavaError (IllegalArgumentException: Supplied level LOUD did not match one of: ...)"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_raises_pyspark_s_error_type_naming_the_cause(sc: SparkContext, tmp_path: Path,
                                                                case: BadInput) -> None:
    with pytest.raises(case.error, match=case.match) as info:
        case.call(sc, tmp_path)
    if case.also is not None:
        assert isinstance(info.value, case.also), f"{case.name}: {type(info.value).__mro__}"
    # Nothing the bad input did is left behind for the next job.
    assert sc.parallelize(DATA, 3).map(lambda x: x * 3).sum() == 3 * sum(DATA)


def test_the_cases_are_distinct_kinds() -> None:
    assert len(CASES) >= 24
    assert len({case.name for case in CASES}) == len(CASES)


def test_bad_masters_are_refused_before_anything_starts_and_a_good_one_then_runs(run_driver, result_of) -> None:
    # Only one context per process: a driver of its own tries the masters (PySpark 4.3.0 raises Py4JJavaError with
    # SparkException 'Asked to run locally with 0 threads' for local[0] and 'Could not parse Master URL' for the
    # others but spark://, where it looks for a standalone master; Ember runs no standalone masters), then checks
    # that a fresh context refuses a checkpoint before setCheckpointDir (PySpark: Py4JJavaError with SparkException
    # 'Checkpoint directory has not been set in the SparkContext').
    proc = run_driver("""
        from ember import SparkContext
        refused = {}
        for master in ["local[0]", "local[x]", "nonsense", "local[-1]", "spark://nowhere:7077"]:
            try:
                SparkContext(master, "bad-master")
                refused[master] = "started"
            except Exception as e:
                refused[master] = [type(e).__name__, str(e)]
        sc = SparkContext("local[2]", "good-master")
        try:
            sc.parallelize([1, 2, 3]).checkpoint()
            checkpoint = "accepted"
        except Exception as e:
            checkpoint = [type(e).__name__, str(e)]
        total = sc.parallelize(list(range(100)), 4).map(lambda x: x * x).sum()
        sc.stop()
        report({"refused": refused, "checkpoint": checkpoint, "total": total})
    """)
    result = result_of(proc)
    for master, (kind, message) in result["refused"].items():
        assert kind == "ValueError", (master, kind, message)
        assert f"'{master}'" in message, message
    assert "asks for 0 workers" in result["refused"]["local[0]"][1]
    for master in ["local[x]", "nonsense", "local[-1]", "spark://nowhere:7077"]:
        assert result["refused"][master][1].startswith(f"Could not parse Master URL: '{master}'")
    assert result["checkpoint"][0] == "RuntimeError"
    assert "Checkpoint directory has not been set" in result["checkpoint"][1]
    assert result["total"] == sum(x * x for x in range(100))


def test_inputs_pyspark_accepts_give_pyspark_s_results(sc: SparkContext, tmp_path: Path) -> None:
    """Inputs that look bad but that PySpark 4.3.0 takes without an error: Ember takes them too, with its results."""
    (tmp_path / "empty-dir").mkdir()
    assert sc.textFile(str(tmp_path / "empty-dir")).collect() == []  # No files: no lines.
    assert numbers(sc).take(-1) == []
    assert numbers(sc).take(0) == []
    # Without replacement a record is kept when a draw in [0, 1) is below the fraction: above 1, every record is.
    assert numbers(sc).sample(False, 1.5, seed=7).collect() == DATA
    assert empty(sc).takeSample(False, 3) == []
    assert empty(sc).sum() == 0
    assert empty(sc).mean() == 0.0
    assert sc.parallelize([1, 2, 3], 2.9).getNumPartitions() == 2  # int(numSlices), as PySpark
    with pytest.raises(ValueError, match="invalid literal for int"):
        sc.parallelize([1, 2], "x")  # type: ignore[arg-type]


# -- bugs found by the attack pass (each test fails until Ember is fixed) ---------------------------------------

def test_sparkconf_set_refuses_a_none_key(sc: SparkContext) -> None:
    # PySpark 4.3.0 (with its JVM up, as here): Py4JJavaError, NullPointerException: null key. Ember stored the
    # None key, and a SparkContext made from that conf then failed with "AttributeError: 'NoneType' object has no
    # attribute 'startswith'" (context.py, reading spark.executorEnv.* keys), far from the mistake. Now a TypeError.
    conf = SparkConf(loadDefaults=False)
    try:
        conf.set(None, "value")  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        assert "key" in str(e), str(e)
    else:
        pytest.fail(f"BUG: SparkConf.set(None, 'value') was accepted (the conf now holds {conf.getAll()!r}); "
                    f"PySpark refuses a null key")


def test_setjobgroup_refuses_a_group_id_that_is_not_a_string(sc: SparkContext) -> None:
    # PySpark 4.3.0: Py4JError at the call (setJobGroup([class java.lang.Integer, ...]) does not exist). Ember took
    # the int, and then every job this thread starts fails with SparkJobError "the gateway refused the job: job
    # plan field 'jobGroup' must be a string" until the group is set again (so it was; now a TypeError at the call).
    try:
        sc.setJobGroup(123, "a numeric group")  # type: ignore[arg-type]
    except TypeError as e:
        assert "groupId" in str(e) or "str" in str(e), str(e)
        accepted = None
    else:
        try:
            sc.parallelize(DATA, 2).count()
            accepted = "the next job ran"
        except SparkJobError as e:
            accepted = f"the next job failed: {e}"
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        sc.setLocalProperty("spark.job.description", None)
        sc.setLocalProperty("spark.job.interruptOnCancel", None)
    assert sc.parallelize(DATA, 2).count() == len(DATA)
    assert accepted is None, f"BUG: setJobGroup(123, ...) was accepted and {accepted}"


def test_persist_refuses_a_storage_level_that_is_not_one(sc: SparkContext) -> None:
    # PySpark 4.3.0: TypeError "storageLevel must be of type pyspark.StorageLevel". Ember kept the string as the
    # RDD's level (getStorageLevel() then returned 'MEMORY_ONLY', a str) before it refused it.
    rdd = sc.parallelize(DATA, 2)
    try:
        rdd.persist("MEMORY_ONLY")  # type: ignore[arg-type]
    except TypeError as e:
        assert "StorageLevel" in str(e), str(e)
    else:
        level = rdd.getStorageLevel()
        rdd.unpersist()
        pytest.fail(f"BUG: persist('MEMORY_ONLY') was accepted; getStorageLevel() gives {level!r}")


STDIN_WAIT_SECONDS = 15


def test_a_task_reading_stdin_gets_end_of_file_instead_of_blocking(sc: SparkContext) -> None:
    # PySpark's forked workers read /dev/null as stdin (SPARK-26175), so user code that reads it gets EOF at once;
    # rdd.pipe(None) on Python 3.11 (shlex.split(None) reads stdin) fails in PySpark 4.3.0 with IndexError in the
    # task. Ember's forked workers (daemon.py's _fork_worker) kept the daemon's stdin, the JVM's pipe, which stays
    # open and silent: the read blocked until the job was cancelled (rdd.pipe(None) hung the same way) until they
    # too got /dev/null.
    outcome: dict[str, Any] = {}

    def job() -> None:
        sc.setJobGroup("reads-stdin", "a task that reads stdin")
        try:
            outcome["value"] = sc.parallelize([1], 1).map(lambda _: sys.stdin.read()).collect()
        except BaseException as e:  # noqa: BLE001 - reported below
            outcome["error"] = e

    runner = threading.Thread(target=job, daemon=True)
    runner.start()
    runner.join(STDIN_WAIT_SECONDS)
    blocked = runner.is_alive()
    if blocked:
        sc.cancelJobGroup("reads-stdin")
        runner.join(60)
    assert not runner.is_alive(), "the blocked job did not end when cancelled"
    assert sc.parallelize(DATA, 2).sum() == sum(DATA)
    assert not blocked, (f"BUG: a task reading sys.stdin was still blocked after {STDIN_WAIT_SECONDS} s (forked "
                         f"workers inherit the daemon's stdin instead of /dev/null); cancelled: {outcome}")
    assert outcome.get("value") == [""], outcome


def test_the_shared_context_still_runs_jobs_exactly_after_all_of_them(sc: SparkContext) -> None:
    words = [f"w{i % 13}" for i in range(500)]
    counts = dict(sc.parallelize(words, 4).map(lambda w: (w, 1)).reduceByKey(operator.add).collect())
    expected: dict[str, int] = {}
    for w in words:
        expected[w] = expected.get(w, 0) + 1
    assert counts == expected
    total = sc.accumulator(0)
    sc.parallelize(DATA, 3).foreach(lambda x: total.add(x))
    assert total.value == sum(DATA)
    table = sc.broadcast({i: i * i for i in range(10)})
    assert sc.parallelize(DATA, 2).map(lambda x: table.value[x % 10]).collect() == [(x % 10) ** 2 for x in DATA]
    assert sc.getJobTags() == set()
