"""What the start-up cuts rely on: the JVM is launched before the driver's heavy imports, a driver-launched JVM
compiles with C1 only unless told otherwise, spark.driver.extraJavaOptions reaches that JVM, and the class-data-
sharing archive scripts/train_cds.py writes covers the classes of a first job. (The times are bench/startup.py's.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from conftest import RunDriver, StartDriver, driver_result
from ember.launch import find_home

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_context_leaves_py4j_and_the_rdd_api_for_later() -> None:
    # SparkContext() launches the JVM first and imports these while it boots; importing them here would put them
    # back in front of the launch.
    code = ("import sys\nfrom ember import SparkContext\n"
            "print(sorted(m for m in ('py4j', 'cloudpickle', 'ember.rdd', 'ember.plan', 'ember.java_gateway')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_context_works_after_the_deferred_imports(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    proc = run_driver('''
        import sys
        from ember import SparkContext
        with SparkContext("local[2]", "deferred") as sc:
            rdd = sc.parallelize(range(10), 3)
            report({"py4j": "py4j" in sys.modules, "sum": rdd.map(lambda x: x * x).sum(),
                    "type": type(rdd).__name__, "acc": sc.accumulator(5).value})
    ''')
    assert result_of(proc) == {"py4j": True, "sum": sum(x * x for x in range(10)), "type": "RDD", "acc": 5}


def _jvm_command_line(extra_conf: str = "") -> str:
    return f'''
        from ember import SparkContext, SparkConf
        conf = SparkConf().setMaster("local[1]"){extra_conf}
        with SparkContext(conf=conf) as sc:
            assert sc.parallelize([1, 2]).count() == 2
            # bin/ember execs the JVM, so the process the driver launched is the JVM itself.
            with open(f"/proc/{{sc._launched.process.pid}}/cmdline", "rb") as f:
                report(f.read().decode().split("\\0"))
    '''


def test_driver_launched_jvm_compiles_with_c1_only(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    args = result_of(run_driver(_jvm_command_line()))
    assert "dev.ember.launcher.Main" in args and "--exit-on-stdin-eof" in args
    assert "-XX:TieredStopAtLevel=1" in args and "-XX:CICompilerCount=1" in args
    assert "-XX:CompileThresholdScaling=0.3" in args
    # No performance-counter file in /tmp for a JVM that lives as long as its driver.
    assert "-XX:-UsePerfData" in args


def test_asking_for_performance_counters_keeps_them(run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    args = result_of(run_driver(_jvm_command_line('.set("spark.driver.extraJavaOptions", "-XX:+UsePerfData")')))
    assert "-XX:+UsePerfData" in args and "-XX:-UsePerfData" not in args
    # Not a JIT option: the JIT choice stays.
    assert "-XX:TieredStopAtLevel=1" in args


def test_ctrl_c_in_the_drivers_terminal_leaves_its_jvm_running(run_driver: RunDriver,
                                                                result_of: Callable[..., Any]) -> None:
    # A terminal sends SIGINT to the whole foreground process group: the JVM a driver launched must ignore it.
    proc = run_driver('''
        import os, signal, time
        from ember import SparkContext
        with SparkContext("local[2]", "sigint") as sc:
            before = sc.parallelize(range(10), 2).sum()
            jvm = sc._launched.process.pid
            os.kill(jvm, signal.SIGINT)
            time.sleep(1.0)
            report({"before": before, "alive": sc._launched.alive(), "after": sc.parallelize(range(5), 2).sum()})
    ''')
    assert result_of(proc) == {"before": sum(range(10)), "alive": True, "after": sum(range(5))}


def test_extra_java_options_reach_the_jvm_and_replace_the_jit_choice(
        run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    conf = '.set("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=4 -Dember.test.marker=yes")'
    args = result_of(run_driver(_jvm_command_line(conf)))
    assert "-Dember.test.marker=yes" in args and "-XX:TieredStopAtLevel=4" in args
    assert "-XX:TieredStopAtLevel=1" not in args and "-XX:CICompilerCount=1" not in args
    assert "-XX:CompileThresholdScaling=0.3" not in args


def test_a_bad_extra_java_option_fails_the_start_naming_it(run_driver: RunDriver,
                                                            result_of: Callable[..., Any]) -> None:
    proc = run_driver('''
        from ember import SparkContext, SparkConf
        from ember.errors import EmberStartError
        try:
            SparkContext(conf=SparkConf().setMaster("local[1]").set("spark.driver.extraJavaOptions", "-XX:+NoSuchEmberFlag"))
            report("started")
        except EmberStartError as e:
            report(str(e))
    ''')
    message = result_of(proc)
    assert "exited with code" in message and "NoSuchEmberFlag" in message


def test_trained_archive_holds_the_first_jobs_classes(tmp_path: Path) -> None:
    # A copy, trained and used where it lies: the archive records the class path it was made with.
    home = tmp_path / "ember"
    shutil.copytree(find_home(), home, symlinks=True)
    (home / "lib" / "ember.jsa").unlink(missing_ok=True)
    training = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_cds.py"), str(home)],
                              capture_output=True, text=True, timeout=120)
    assert training.returncode == 0, training.stdout + training.stderr
    assert (home / "lib" / "ember.jsa").stat().st_size > 1 << 20

    log = tmp_path / "classes.log"
    code = ("from ember import SparkContext\nsc = SparkContext('local[1]')\n"
            "assert sc.parallelize([1]).count() == 1\nsc.stop()\n")
    env = {"EMBER_HOME": str(home), "EMBER_JAVA_OPTS": f"-Xlog:class+load=info:file={log}"}
    subprocess.run([sys.executable, "-c", code], env={**_base_env(), **env}, check=True, timeout=120)
    loaded = log.read_text()
    # Classes no bare boot loads: the gateway's plan parser and the engine's task path.
    for name in ("dev.ember.gateway.py4j.PlanParser", "dev.ember.engine.core.TaskAttempt"):
        line = next((l for l in loaded.splitlines() if f" {name} " in l), "")
        assert "shared objects file" in line, f"{name} did not come from the archive: {line!r}"


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("EMBER_JAVA_OPTS", "EMBER_NO_CDS")}


# Reports its job's result and the JVM's boot line, then holds its context open for HOLD_SECONDS (default 0).
_CACHE_REPORT = '''
    import os, time
    from ember import SparkContext
    with SparkContext("local[2]", "bundle-cache") as sc:
        total = sc.parallelize(range(100), 4).map(lambda x: x * 2).sum()
        boot = [line.split("ms: ", 1)[1] for line in sc._launched.log_path.read_text().splitlines()
                if "ms: boot complete" in line]
        report({"total": total, "boot": boot[0] if boot else None})
        time.sleep(float(os.environ.get("HOLD_SECONDS", "0")))
'''


def test_a_later_drivers_jvm_boots_from_the_bundle_cache_an_earlier_one_left(
        run_driver: RunDriver, result_of: Callable[..., Any]) -> None:
    first = result_of(run_driver(_CACHE_REPORT, env={"EMBER_TRACE_START": "1"}))
    second = result_of(run_driver(_CACHE_REPORT, env={"EMBER_TRACE_START": "1"}))
    assert first["total"] == second["total"] == sum(x * 2 for x in range(100))
    assert second["boot"].endswith(" of an earlier boot"), second["boot"]


def test_jvms_booting_at_once_each_get_a_bundle_cache_of_their_own(start_driver: StartDriver) -> None:
    # Both hold their context open until both have reported, so their JVMs overlap.
    drivers = [start_driver(_CACHE_REPORT, env={"EMBER_TRACE_START": "1", "HOLD_SECONDS": "4"}) for _ in range(2)]
    for driver in drivers:
        driver.proc.wait(timeout=60)
    results = [driver_result(subprocess.CompletedProcess(d.proc.args, d.proc.returncode, d.output_text(), ""))
               for d in drivers]
    assert [r["total"] for r in results] == [sum(x * 2 for x in range(100))] * 2
    caches = [r["boot"].split("bundle cache ", 1)[1].split(" of an earlier boot")[0] for r in results]
    assert caches[0] != caches[1], caches
