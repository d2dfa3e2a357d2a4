"""What user code prints in workers reaches the driver's stderr, labelled with stage and partition, and never
mixes with the data."""

from __future__ import annotations

from conftest import RunDriver

PRINTING_JOB = """
    import sys, time
    from ember import SparkConf, SparkContext
    conf = SparkConf().set("spark.ember.workerOutput", {setting!r})
    sc = SparkContext("local[2]", "prints", conf=conf)
    def noisy(x):
        print("looking at", x)
        print("to stderr", x, file=sys.stderr)
        return x * 10
    result = sc.parallelize(list(range(6)), 3).map(noisy).collect()
    time.sleep(0.5)  # let the last lines travel
    sc.stop()
    print("RESULT", result)
"""


def test_worker_prints_reach_the_driver_labelled_and_data_stays_exact(run_driver: RunDriver) -> None:
    proc = run_driver(PRINTING_JOB.format(setting="driver"))
    assert f"RESULT {[x * 10 for x in range(6)]}" in proc.stdout
    for x in range(6):
        partition = x // 2
        assert f"[stage 0 partition {partition}] looking at {x}" in proc.stderr, proc.stderr
        assert f"[stage 0 partition {partition}] to stderr {x}" in proc.stderr


def test_worker_prints_stay_in_the_log_when_asked(run_driver: RunDriver) -> None:
    proc = run_driver(PRINTING_JOB.format(setting="log"))
    assert f"RESULT {[x * 10 for x in range(6)]}" in proc.stdout
    assert "looking at" not in proc.stderr
