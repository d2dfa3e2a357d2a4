"""Starting fails promptly with a useful message; the SparkContext constructor and lifecycle have PySpark's shape.

Each test runs its own driver process: only one SparkContext may exist per process and the shared ``sc`` is active.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import EMBER_DIST, RunDriver

TRY_TO_START = '''
    import os
    from ember import SparkContext
    from ember.errors import EmberStartError
    from proc_utils import live_children_of, left_in_tmp
    try:
        sc = SparkContext("local[1]", "must-fail")
    except EmberStartError as e:
        report({"error": "EmberStartError", "message": str(e), "children": live_children_of(os.getpid()),
                "tmp": left_in_tmp()})
    except Exception as e:
        report({"error": type(e).__name__, "message": str(e)})
    else:
        sc.stop()
        report({"error": None})
'''


def fake_distribution(root: Path, script: str) -> Path:
    (root / "bin").mkdir(parents=True)
    ember = root / "bin" / "ember"
    ember.write_text("#!/bin/sh\n" + script + "\n")
    ember.chmod(ember.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


def start_failure(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path,
                  env: dict[str, str]) -> dict:
    private_tmp = tmp_path / "driver-tmp"
    private_tmp.mkdir()
    # The driver's own timeout (60 s) is the "promptly": a start that hangs fails the test.
    result = result_of(run_driver(TRY_TO_START, env={"TMPDIR": str(private_tmp), **env}, timeout=60))
    assert result["error"] == "EmberStartError", result
    # A failed start leaves no process and no temp directory behind.
    assert result["children"] == []
    assert result["tmp"] == []
    return result


def test_missing_distribution(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path) -> None:
    empty = tmp_path / "not-a-distribution"
    empty.mkdir()
    result = start_failure(run_driver, result_of, tmp_path, {"EMBER_HOME": str(empty)})
    assert "bin/ember" in result["message"]
    assert str(empty) in result["message"]
    assert "EMBER_HOME" in result["message"]


def test_jvm_that_exits_at_once(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path) -> None:
    fake = fake_distribution(tmp_path / "fake", 'echo "boom: cannot bind" >&2\nexit 1')
    result = start_failure(run_driver, result_of, tmp_path, {"EMBER_HOME": str(fake)})
    assert "boom: cannot bind" in result["message"]
    assert "code 1" in result["message"]


def test_no_java(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path) -> None:
    result = start_failure(run_driver, result_of, tmp_path, {"JAVA_HOME": "/nonexistent"})
    assert "Java" in result["message"]
    assert "JAVA_HOME" in result["message"]


def test_gateway_that_never_comes_up(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path) -> None:
    # Like the JVM it stands in for, the fake exits when its stdin closes; it never writes the connection file.
    fake = fake_distribution(tmp_path / "fake", 'echo "still starting..."\nexec cat >/dev/null')
    private_tmp = tmp_path / "driver-tmp"
    private_tmp.mkdir()
    result = result_of(run_driver('''
        import os
        from ember import SparkConf, SparkContext
        from ember.errors import EmberStartError
        from proc_utils import live_children_of, left_in_tmp
        try:
            SparkContext(conf=SparkConf().setMaster("local[1]").set("spark.ember.startTimeout", "1"))
        except EmberStartError as e:
            report({"message": str(e), "children": live_children_of(os.getpid()),
                    "tmp": left_in_tmp()})
    ''', env={"EMBER_HOME": str(fake), "TMPDIR": str(private_tmp)}, timeout=60))
    assert "did not open its gateway within 1 s" in result["message"]
    assert result["children"] == []
    assert result["tmp"] == []


def test_spark_ember_home_setting_wins(run_driver: RunDriver, result_of: Callable[..., Any], tmp_path: Path) -> None:
    fake = fake_distribution(tmp_path / "fake", 'exit 3')
    result = result_of(run_driver(f'''
        from ember import SparkConf, SparkContext
        from ember.errors import EmberStartError
        try:
            SparkContext(conf=SparkConf().setMaster("local[1]").set("spark.ember.home", {str(fake)!r}))
        except EmberStartError as e:
            report(str(e))
    '''))
    assert "exited with code 3" in result  # the configured fake ran, not the real EMBER_HOME


def test_first_job_right_after_start(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    """SparkContext() returns only once the JVM can run a job: the first job never finds the runtime half up."""
    result = result_of(run_driver('''
        from ember import SparkContext
        from ember.errors import SparkJobError
        outcomes = []
        for i in range(5):
            with SparkContext("local[1]", f"quick-{i}") as sc:
                try:
                    outcomes.append(sc.range(3).collect())
                except SparkJobError as e:
                    outcomes.append(f"start {i}: {e}")
        report(outcomes)
    ''', timeout=120))
    assert result == [[0, 1, 2]] * 5


# -- API shape -------------------------------------------------------------------------------------------------------

def test_master_and_app_name_keywords(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    result = result_of(run_driver('''
        from ember import SparkContext
        sc = SparkContext(master="local[2]", appName="a")
        report({"master": sc.master, "app": sc.appName, "parallelism": sc.defaultParallelism,
                "conf_app": sc.getConf().get("spark.app.name"), "partitions": sc.parallelize([1, 2, 3]).getNumPartitions(),
                "squares": sc.parallelize(list(range(10))).map(lambda x: x * x).collect()})
        sc.stop()
    '''))
    assert result == {"master": "local[2]", "app": "a", "parallelism": 2, "conf_app": "a", "partitions": 2,
                      "squares": [x * x for x in range(10)]}


def test_conf_keyword(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    result = result_of(run_driver('''
        import os
        from ember import SparkConf, SparkContext
        sc = SparkContext(conf=SparkConf().setMaster("local[1]").setAppName("b"))
        pids = set()
        for _ in range(3):
            pids.update(sc.parallelize(list(range(6)), 3).mapPartitions(lambda it: [os.getpid()]).collect())
        report({"master": sc.master, "app": sc.appName, "parallelism": sc.defaultParallelism,
                "workers": len(pids), "sum": sc.parallelize(list(range(100))).sum()})
        sc.stop()
    '''))
    assert result == {"master": "local[1]", "app": "b", "parallelism": 1, "workers": 1, "sum": sum(range(100))}


def test_context_manager(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    result = result_of(run_driver('''
        from ember import SparkContext
        from ember.errors import EmberError
        with SparkContext("local[2]", "managed") as sc:
            inside = sc.parallelize(list(range(50)), 3).filter(lambda x: x % 2).collect()
            jvm = sc._launched.process
        exited = jvm.poll() is not None
        try:
            sc.range(10).collect()
            after_stop = None
        except EmberError as e:
            after_stop = str(e)
        with SparkContext("local[1]", "next") as sc2:  # the first one released its place
            again = sc2.range(5).collect()
        report({"inside": inside, "exited": exited, "after_stop": after_stop, "again": again})
    '''))
    assert result["inside"] == [x for x in range(50) if x % 2]
    assert result["exited"] is True
    assert result["after_stop"] is not None and "stopped" in result["after_stop"]
    assert result["again"] == [0, 1, 2, 3, 4]


def test_two_contexts_at_once_raise_value_error(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    result = result_of(run_driver('''
        import os
        from ember import SparkContext
        from proc_utils import live_children_of
        first = SparkContext("local[2]", "first")
        try:
            SparkContext("local[1]", "second")
            second_error = None
        except ValueError as e:
            second_error = str(e)
        children = live_children_of(os.getpid())
        still_works = first.parallelize([1, 2, 3], 2).map(lambda x: x * 10).collect()
        first.stop()
        third = SparkContext("local[1]", "third")
        third_works = third.range(4).sum()
        third.stop()
        report({"error": second_error, "children": len(children), "still_works": still_works,
                "third_works": third_works})
    '''))
    assert result["error"] is not None and "multiple SparkContexts" in result["error"]
    assert result["children"] == 1  # the refused context launched no JVM of its own
    assert result["still_works"] == [10, 20, 30]
    assert result["third_works"] == 6


def test_in_process_second_context_is_refused(sc: Any) -> None:
    from ember import SparkContext
    with pytest.raises(ValueError, match="multiple SparkContexts"):
        SparkContext("local[1]", "intruder")
    assert SparkContext._active_spark_context is sc
    assert sc.parallelize([1, 2], 2).collect() == [1, 2]


def test_distribution_under_test_exists() -> None:
    assert (EMBER_DIST / "bin" / "ember").is_file()
    assert os.access(EMBER_DIST / "bin" / "ember", os.X_OK)
