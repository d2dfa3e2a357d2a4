"""The web UI's JSON API (/api/v1, shaped like Spark's REST API), read from a real driver's JVM while and after its
jobs run: every figure is checked against what the program computed or against another figure of the API (bytes a
shuffle wrote are the bytes its reduce side read)."""
from __future__ import annotations

import socket
from pathlib import Path

PRELUDE = """
import json, os, sys, threading, time, urllib.error, urllib.request
from ember import SparkConf, SparkContext

def get(path):
    with urllib.request.urlopen(sc.uiWebUrl + "/api/v1" + path, timeout=10) as response:
        return json.load(response)

def status_of(path, method="GET"):
    try:
        with urllib.request.urlopen(urllib.request.Request(sc.uiWebUrl + path, method=method), timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
"""


def test_jobs_stages_tasks_storage_and_workers(run_driver, result_of) -> None:
    proc = run_driver(PRELUDE + """
sc = SparkContext("local[2]", "ui-api", conf=SparkConf().set("spark.ui.port", "0"))
words = ["a", "b", "c", "a", "b", "a"] * 50
counts = sc.parallelize(words, 3).map(lambda w: (w, 1)).reduceByKey(lambda x, y: x + y, 2).collect()
cached = sc.parallelize(range(1000), 4).map(lambda x: x * 2).persist()
total = cached.count()
try:
    sc.parallelize(range(4), 2).map(lambda x: 1 // 0 if x == 3 else x).collect()
except Exception as e:
    failure = type(e).__name__
app = get("/applications")
sid = app[0]["id"]
jobs = get(f"/applications/{sid}/jobs")
stages = get(f"/applications/{sid}/stages")
tasks = {s["stageId"]: get(f"/applications/{sid}/stages/{s['stageId']}/0/taskList") for s in stages}
report({"pid": os.getpid(), "counts": sorted(counts), "total": total, "failure": failure, "apps": app,
        "jobs": jobs, "stages": stages, "tasks": {str(k): v for k, v in tasks.items()},
        "one_job": get(f"/applications/{sid}/jobs/{jobs[-1]['jobId']}"),
        "storage": get(f"/applications/{sid}/storage/rdd"), "workers": get(f"/applications/{sid}/executors"),
        "version": get("/version"), "stderr_line": None})
cached.unpersist()
report_after = get(f"/applications/{sid}/storage/rdd")
print("STORAGE_AFTER", json.dumps(report_after))
sc.stop()
""", timeout=90)
    result = result_of(proc)
    assert result["counts"] == [["a", 150], ["b", 100], ["c", 50]]
    assert result["failure"] == "ZeroDivisionError"
    # The driver says where its UI is, once, as Spark's does.
    assert proc.stderr.count("Ember web UI at http://127.0.0.1:") == 1, proc.stderr

    [app] = result["apps"]
    assert app["name"] == "ui-api" and app["driverPid"] == result["pid"] and app["master"] == "local[2]"
    assert app["status"] == "RUNNING" and app["attempts"][0]["completed"] is False

    jobs = result["jobs"]
    assert [job["jobId"] for job in jobs] == sorted((job["jobId"] for job in jobs), reverse=True), "newest first"
    assert [job["status"] for job in jobs] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    failed, count_job, collect_job = jobs
    assert failed["name"].startswith("collect at ") and collect_job["name"].startswith("collect at ")
    assert count_job["name"].startswith("count at ")
    assert "ZeroDivisionError" in failed["errorMessage"] and "Traceback" in failed["errorMessage"]
    assert failed["numFailedTasks"] >= 1 and failed["numFailedStages"] == 1
    assert collect_job["numTasks"] == 3 + 2 and collect_job["numCompletedTasks"] == 5
    assert collect_job["numCompletedStages"] == 2 and collect_job["numSkippedStages"] == 0
    assert collect_job["errorMessage"] is None and collect_job["completionTime"] >= collect_job["submissionTime"]
    assert result["one_job"] == {**collect_job, "duration": result["one_job"]["duration"]}

    stages = {stage["stageId"]: stage for stage in result["stages"]}
    shuffle_map, reduce = (stages[i] for i in collect_job["stageIds"])
    assert shuffle_map["kind"] == "shuffle" and shuffle_map["numTasks"] == 3 and reduce["numTasks"] == 2
    # What the map side wrote is what the reduce side read, byte for byte, and each is the sum over its tasks.
    assert shuffle_map["shuffleWriteBytes"] > 0
    assert shuffle_map["shuffleWriteBytes"] == reduce["shuffleReadBytes"]
    for stage in (shuffle_map, reduce):
        tasks = result["tasks"][str(stage["stageId"])]
        assert sorted(task["index"] for task in tasks) == list(range(stage["numTasks"]))
        assert all(task["status"] == "SUCCESS" and task["errorMessage"] is None for task in tasks)
        assert sum(t["taskMetrics"]["shuffleWriteMetrics"]["bytesWritten"] for t in tasks) == stage["shuffleWriteBytes"]
        assert sum(t["taskMetrics"]["shuffleReadMetrics"]["localBytesRead"] for t in tasks) == stage["shuffleReadBytes"]
        assert all(t["launchTime"] >= stage["submissionTime"] for t in tasks)
    failed_tasks = [t for s in failed["stageIds"] for t in result["tasks"][str(s)] if t["status"] == "FAILED"]
    assert failed_tasks and "ZeroDivisionError" in failed_tasks[0]["errorMessage"]

    [rdd] = result["storage"]
    assert rdd["numPartitions"] == 4 and rdd["numCachedPartitions"] == 4 and rdd["memoryUsed"] > 0
    after = [line for line in proc.stdout.splitlines() if line.startswith("STORAGE_AFTER ")]
    assert after == ["STORAGE_AFTER []"], "unpersist() empties the storage page"

    workers = result["workers"]
    task_pids = {t["executorId"] for tasks in result["tasks"].values() for t in tasks}
    assert workers and {w["id"] for w in workers} <= task_pids | {w["id"] for w in workers if w["totalTasks"] == 0}
    assert sum(w["completedTasks"] for w in workers) == sum(
        1 for tasks in result["tasks"].values() for t in tasks if t["status"] == "SUCCESS")
    assert all(w["transport"] == "tcp" and (w["rssBytes"] or 0) > 1_000_000 for w in workers)
    assert result["version"]["ember"].startswith("0.1.0")


def test_a_running_job_shows_its_progress_live(run_driver, result_of) -> None:
    proc = run_driver(PRELUDE + """
sc = SparkContext("local[2]", "ui-live", conf=SparkConf().set("spark.ui.port", "0"))
sid = get("/applications")[0]["id"]
job = threading.Thread(target=lambda: sc.parallelize(range(4), 4).map(lambda x: (time.sleep(0.6), x)[1]).collect())
job.start()
seen = []
while job.is_alive():
    jobs = get(f"/applications/{sid}/jobs")
    if jobs:
        seen.append((jobs[0]["status"], jobs[0]["numCompletedTasks"], jobs[0]["numActiveTasks"]))
    time.sleep(0.1)
job.join()
final = get(f"/applications/{sid}/jobs")[0]
report({"seen": seen, "final": [final["status"], final["numCompletedTasks"], final["numActiveTasks"]]})
sc.stop()
""", timeout=60)
    result = result_of(proc)
    running = [entry for entry in result["seen"] if entry[0] == "RUNNING"]
    assert running, result["seen"]
    # Two slots for four tasks: while it runs, at most two are active, and the count of done ones climbs.
    assert all(active <= 2 for _, _, active in running)
    assert any(active > 0 for _, _, active in running)
    assert len({done for _, done, _ in running}) >= 2, result["seen"]
    assert result["final"] == ["SUCCEEDED", 4, 0]


def test_unknown_paths_are_404_with_a_reason_and_the_api_is_read_only(run_driver, result_of) -> None:
    proc = run_driver(PRELUDE + """
sc = SparkContext("local[1]", "ui-errors", conf=SparkConf().set("spark.ui.port", "0"))
sid = get("/applications")[0]["id"]
report({"app": status_of("/api/v1/applications/nope/jobs"), "job": status_of(f"/api/v1/applications/{sid}/jobs/99"),
        "bad": status_of(f"/api/v1/applications/{sid}/jobs/x"), "post": status_of("/api/v1/applications", "POST"),
        "page": urllib.request.urlopen(sc.uiWebUrl + "/", timeout=10).read().decode()[:2000]})
sc.stop()
""")
    result = result_of(proc)
    assert result["app"][0] == 404 and "no application (session) nope" in result["app"][1]["error"]
    assert result["job"][0] == 404 and "no job 99" in result["job"][1]["error"]
    assert result["bad"][0] == 404 and "not an id" in result["bad"][1]["error"]
    assert result["post"][0] == 405 and "read-only" in result["post"][1]["error"]
    assert "<html" in result["page"].lower()


def test_spark_ui_enabled_false_runs_no_ui(run_driver, result_of) -> None:
    proc = run_driver("""
from ember import SparkConf, SparkContext
sc = SparkContext("local[1]", "no-ui", conf=SparkConf().set("spark.ui.enabled", "false"))
report({"url": sc.uiWebUrl, "sum": sc.parallelize(range(10)).sum()})
sc.stop()
""")
    result = result_of(proc)
    assert result == {"url": None, "sum": 45}
    assert "Ember web UI" not in proc.stderr


def test_a_taken_port_moves_the_ui_to_the_next_one(run_driver, result_of) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        proc = run_driver(f"""
from ember import SparkConf, SparkContext
sc = SparkContext("local[1]", "port", conf=SparkConf().set("spark.ui.port", "{taken}"))
report({{"url": sc.uiWebUrl}})
sc.stop()
""")
    url = result_of(proc)["url"]
    port = int(url.rsplit(":", 1)[1])
    assert url.startswith("http://127.0.0.1:") and port != taken
    assert taken < port <= taken + 16


def test_a_bad_ui_port_is_a_clear_error(run_driver) -> None:
    proc = run_driver("""
from ember import SparkConf, SparkContext
SparkContext("local[1]", "port", conf=SparkConf().set("spark.ui.port", "forty"))
""")
    assert proc.returncode != 0
    assert "spark.ui.port must be a port number" in proc.stderr
