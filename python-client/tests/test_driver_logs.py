"""A local driver's JVM log: kept under ~/.cache/ember/logs (the newest runs only), named when the JVM fails, and its
warnings handed to Python's logging."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import RunDriver, driver_result

from ember.launch import KEEP_DRIVER_LOGS


def test_the_log_is_kept_owner_only_and_the_oldest_are_pruned(run_driver: RunDriver, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    logs = cache / "ember" / "logs"
    logs.mkdir(parents=True)
    # Logs of earlier runs, older than any new one by name (driver-<date>-<time>...).
    old = [logs / f"driver-20200101-0000{i:02d}.000-1.log" for i in range(KEEP_DRIVER_LOGS + 5)]
    for path in old:
        path.write_text("old run\n")
    proc = run_driver("""
        from ember import SparkContext
        sc = SparkContext("local[2]", "kept-log")
        report({"log": str(sc._launched.log_path), "sum": sc.parallelize(range(10), 2).sum()})
        sc.stop()
    """, env={"XDG_CACHE_HOME": str(cache)})
    result = driver_result(proc)
    assert result["sum"] == sum(range(10))
    log = Path(result["log"])
    assert log.parent == logs and log.exists(), "the log must stay after stop()"
    assert "gateway" in log.read_text().lower() or log.stat().st_size > 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    remaining = sorted(logs.glob("driver-*.log"))
    assert len(remaining) == KEEP_DRIVER_LOGS
    # The newest old ones stay, the oldest went.
    assert remaining[:-1] == old[-(KEEP_DRIVER_LOGS - 1):]


def test_a_dead_jvm_is_reported_with_its_log(run_driver: RunDriver, tmp_path: Path) -> None:
    proc = run_driver("""
        import os, signal, time
        from ember import SparkContext
        sc = SparkContext("local[2]", "dies")
        sc.parallelize([1]).count()
        os.kill(sc._launched.process.pid, signal.SIGKILL)  # bin/ember execs the JVM: same pid
        sc._launched.process.wait()
        try:
            sc.parallelize([1, 2]).count()
            report({"error": None})
        except Exception as e:
            report({"error": str(e), "log": str(sc._launched.log_path)})
    """, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    result = driver_result(proc)
    assert result["error"] is not None and "killed by signal 9" in result["error"]
    assert result["log"] in result["error"], result["error"]
    assert Path(result["log"]).exists()


def test_jvm_warnings_reach_python_logging(run_driver: RunDriver, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"
    proc = run_driver(f"""
        import logging, os, signal
        from ember import SparkContext
        records = []
        class Keep(logging.Handler):
            def emit(self, record):
                records.append((record.name, record.levelname, record.getMessage()))
        logging.getLogger("ember").addHandler(Keep())
        sc = SparkContext("local[2]", "warns")
        def die_once(x):
            if not os.path.exists({str(marker)!r}):
                open({str(marker)!r}, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies; the engine retries the task elsewhere
            return x
        total = sc.parallelize(range(6), 2).map(die_once).sum()
        sc.stop()
        report({{"total": total, "records": records}})
    """, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    result = driver_result(proc)
    assert result["total"] == sum(range(6))
    warnings = [r for r in result["records"] if r[1] == "WARNING"]
    assert any("was lost" in message and "LocalTaskRunner" in message for _, _, message in warnings), result
    assert all(name == "ember" for name, _, _ in result["records"])
    # Nothing below WARN is handed over: INFO lines stay in the log file.
    assert all(level in ("WARNING", "ERROR", "CRITICAL") for _, level, _ in result["records"])


def test_an_unwritable_cache_is_a_clear_start_error(run_driver: RunDriver, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes anywhere; a plain file where the directory must be is refused for every user.
        blocked = tmp_path / "cache"
        blocked.write_text("not a directory")
    else:
        blocked = tmp_path / "cache"
        blocked.mkdir(mode=0o500)
    proc = run_driver("""
        from ember import SparkContext
        try:
            SparkContext("local[2]", "no-log")
            report("started")
        except Exception as e:
            report(type(e).__name__ + ": " + str(e))
    """, env={"XDG_CACHE_HOME": str(blocked)})
    message = driver_result(proc)
    assert message.startswith("EmberStartError: cannot write the JVM's log under "), message
    assert "XDG_CACHE_HOME" in message
