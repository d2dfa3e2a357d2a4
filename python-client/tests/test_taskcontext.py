"""TaskContext and barrier stages, against PySpark's semantics: what a task learns about itself, local properties
from the driver's thread, attempt numbers of retried tasks, and barrier stages whose tasks meet each other."""

from __future__ import annotations

import os
import time

import pytest

from conftest import TEST_PARALLELISM
from ember import BarrierTaskContext, SparkContext, SparkJobError, TaskContext


def test_task_context_reports_partition_attempt_and_distinct_task_attempt_ids(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(10), 3)
    seen = rdd.map(lambda x: (x, TaskContext.get().partitionId(), TaskContext.get().attemptNumber(),
                              TaskContext.get().taskAttemptId(), TaskContext.get().cpus(),
                              TaskContext.get().resources())).collect()
    assert [s[0] for s in seen] == list(range(10))
    expected_partition = [p for p, part in enumerate([range(0, 3), range(3, 6), range(6, 10)]) for _ in part]
    assert [s[1] for s in seen] == expected_partition
    assert {s[2] for s in seen} == {0}
    ids_by_partition = {}
    for _, partition, _, attempt_id, _, _ in seen:
        ids_by_partition.setdefault(partition, set()).add(attempt_id)
    assert all(len(ids) == 1 for ids in ids_by_partition.values())
    assert len({next(iter(ids)) for ids in ids_by_partition.values()}) == 3  # one id per task, none shared
    assert {s[4] for s in seen} == {1} and all(s[5] == {} for s in seen)
    assert TaskContext.get() is None  # on the driver


def test_stage_ids_grow_job_by_job_and_each_shuffle_is_a_stage(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(10), 2)
    first = rdd.map(lambda x: TaskContext.get().stageId()).take(1)[0]
    second = rdd.map(lambda x: TaskContext().stageId()).take(1)[0]  # the constructor gives the task's context
    assert second == first + 1
    pairs = rdd.map(lambda x: (x % 2, TaskContext.get().stageId())).groupByKey() \
        .mapValues(lambda stages: (sorted(set(stages)), TaskContext.get().stageId())).collect()
    assert {tuple(map_stages) for _, (map_stages, _) in pairs} == {(second + 1,)}  # the map side's stage
    assert {reduce_stage for _, (_, reduce_stage) in pairs} == {second + 2}


def test_local_properties_of_the_driver_thread_reach_tasks(sc: SparkContext) -> None:
    sc.setLocalProperty("testkey", "testvalue")
    try:
        got = sc.parallelize([0], 1).map(lambda _: (TaskContext.get().getLocalProperty("testkey"),
                                                    TaskContext.get().getLocalProperty("other"))).collect()
        assert got == [("testvalue", None)]
    finally:
        sc.setLocalProperty("testkey", None)
    assert sc.parallelize([0], 1).map(lambda _: TaskContext.get().getLocalProperty("testkey")).collect() == [None]
    sc.setJobGroup("the-group", "a description")
    try:
        assert sc.parallelize([0], 1).map(
            lambda _: TaskContext.get().getLocalProperty("spark.jobGroup.id")).collect() == ["the-group"]
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)


def test_a_retried_task_reports_its_attempt_number(run_driver, result_of) -> None:
    proc = run_driver("""
        from ember import SparkContext, TaskContext
        sc = SparkContext("local[2, 2]", "attempts")

        def fail_first_attempt_of_partition_0(x):
            tc = TaskContext.get()
            if tc.partitionId() == 0 and tc.attemptNumber() == 0:
                raise RuntimeError("first attempt")
            return (x, tc.partitionId(), tc.attemptNumber(), tc.taskAttemptId())

        report(sc.parallelize(range(4), 2).map(fail_first_attempt_of_partition_0).collect())
        sc.stop()
    """)
    result = result_of(proc)
    assert [r[:3] for r in result] == [[0, 0, 1], [1, 0, 1], [2, 1, 0], [3, 1, 0]]
    assert result[0][3] != result[2][3]


def test_barrier_tasks_wait_for_each_other_and_gather_messages(sc: SparkContext) -> None:
    def meet(iterator):
        tc = BarrierTaskContext.get()
        time.sleep(0.5 * tc.partitionId())  # partition 1 arrives late; partition 0 must wait for it
        arrived = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        tc.barrier()
        left = time.monotonic()
        gathered = tc.allGather(f"from {tc.partitionId()}")
        yield tc.partitionId(), arrived, left, gathered, len(tc.getTaskInfos()), os.getpid(), sum(iterator)

    results = sc.parallelize(range(10), 2).barrier().mapPartitions(meet).collect()
    assert [r[0] for r in results] == [0, 1]
    assert max(r[1] for r in results) <= min(r[2] for r in results)  # nobody left before everyone arrived
    assert all(r[3] == ["from 0", "from 1"] for r in results)
    assert all(r[4] == 2 for r in results)
    assert results[0][5] != results[1][5]  # each task on a worker of its own
    assert [r[6] for r in results] == [sum(range(5)), sum(range(5, 10))]


def test_barrier_context_only_in_barrier_stages_and_normal_stages_after_them(sc: SparkContext) -> None:
    rdd = sc.parallelize(range(4), 2)

    def which(iterator):
        try:
            yield "barrier", BarrierTaskContext.get().partitionId()
        except RuntimeError:
            yield "normal", TaskContext.get().partitionId()

    assert rdd.mapPartitions(which).collect() == [("normal", 0), ("normal", 1)]
    assert rdd.barrier().mapPartitions(which).collect() == [("barrier", 0), ("barrier", 1)]
    assert rdd.mapPartitions(which).collect() == [("normal", 0), ("normal", 1)]  # reused workers forget it
    assert rdd.barrier().mapPartitions(lambda it: it)._is_barrier()
    assert not rdd._is_barrier()


def test_a_barrier_stage_with_more_tasks_than_slots_fails_at_once(sc: SparkContext) -> None:
    tasks = TEST_PARALLELISM + 1
    with pytest.raises(SparkJobError, match=rf"barrier stage .* {tasks} tasks, which must all run at once, but "
                                            rf"this context has {TEST_PARALLELISM} task slot"):
        sc.parallelize(range(tasks), tasks).barrier().mapPartitions(lambda it: it).collect()
    assert sc.parallelize(range(3), 3).sum() == 3  # the context goes on


def test_a_failing_barrier_task_releases_the_others_and_fails_the_job(sc: SparkContext) -> None:
    def one_fails(iterator):
        tc = BarrierTaskContext.get()
        if tc.partitionId() == 1:
            raise ValueError("partition 1 gives up")
        tc.barrier()  # would wait for partition 1 for ever
        yield 1

    with pytest.raises(ValueError, match="partition 1 gives up"):
        sc.parallelize(range(4), 2).barrier().mapPartitions(one_fails).collect()
    assert sc.parallelize(range(4), 2).barrier().mapPartitions(lambda it: [sum(it)]).collect() == [1, 5]


def test_a_barrier_stage_is_retried_as_a_whole(run_driver, result_of, tmp_path) -> None:
    proc = run_driver(f"""
        import os
        from ember import SparkContext, BarrierTaskContext
        marker = {str(tmp_path / "failed")!r}
        sc = SparkContext("local[2, 2]", "barrier-retry")

        def flaky(iterator):
            tc = BarrierTaskContext.get()
            if tc.partitionId() == 0 and not os.path.exists(marker):
                open(marker, "w").close()
                raise RuntimeError("once")
            tc.barrier()
            yield tc.partitionId(), tc.attemptNumber()

        report(sc.parallelize(range(4), 2).barrier().mapPartitions(flaky).collect())
        sc.stop()
    """)
    assert result_of(proc) == [[0, 1], [1, 1]]  # both tasks ran again, as attempt 1


def test_a_context_cannot_be_created_inside_a_task(sc: SparkContext) -> None:
    def make_context(_):
        SparkContext("local[1]", "inside")

    with pytest.raises(RuntimeError, match="CONTEXT_ONLY_VALID_ON_DRIVER"):
        sc.parallelize([1], 1).foreach(make_context)
