"""One workload on one system, run in a fresh process; prints one line ``BENCH-RESULT {json}`` on stdout.

    <the system's python> bench/drivers.py SYSTEM WORKLOAD 'PARAMS_JSON'

The harness (bench/harness.py) starts this under each system's own interpreter, samples the memory of the process
tree from outside and turns what is printed into the report. Only the standard library is imported at the top, so
the same file runs in every environment: the system under test is imported inside the workload, where W1 counts it.

The result carries ``check``, the answer the workload computed, which the harness compares across systems, and:
  - ``result_at``: time.time() when the first result was in hand (W1 measures from the process launch to it);
  - ``seconds``: the timed part (the context already made, for every workload but W1);
  - W5's ``us_per_call``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from operator import add
from typing import Any, Callable

CHUNK = 1 << 20  # W6 moves 1 MB (2^20 bytes) objects.
RESULT_PREFIX = "BENCH-RESULT "
WARM_UP_TASKS = 200  # W4 warms up with a job of this many one-element tasks.


# ---- the user functions every system runs -------------------------------------------------------------------------

def arith(x: int) -> int:
    """W2's small arithmetic function."""
    return (x * x + 7 * x + 3) % 1013


def keep(y: int) -> bool:
    """W2's filter."""
    return y % 3 != 0


def make_chunk(_: int) -> bytes:
    """W6's record: a fresh 1 MB bytes object."""
    return b"x" * CHUNK


def words_of(line: str) -> list[str]:
    """W3's tokenizer."""
    return line.split()


def by_count(pair: tuple[str, int]) -> tuple[int, str]:
    """W3's order: most frequent first, ties by word."""
    return -pair[1], pair[0]


def w7_key(i: int, keys: int) -> int:
    """W7's key of the i-th pair: spread over ``keys`` keys, every key gets the same number of values."""
    return (i * 7919) % keys


def w7_right(k: int) -> bool:
    """Whether key k is on W7's right side of the join (a third of the keys) ..."""
    return k % 3 == 0


def w7_weight(k: int) -> int:
    """... and the value it carries there."""
    return k % 7


def top20(counts: list[tuple[str, int]]) -> list[list[Any]]:
    return [[w, c] for w, c in sorted(counts, key=by_count)[:20]]


# ---- RDD API: Ember, PySpark, pysparkling ---------------------------------------------------------------------------

def rdd_context(system: str, params: dict) -> Any:
    """A context on local[2] (or ``params["master"]``; pysparkling: its in-process Context), with the workload's
    settings."""
    settings = dict(params.get("conf", {}))
    if system == "pysparkling":
        from pysparkling import Context
        return Context()
    if system == "pyspark":
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        from pyspark import SparkConf, SparkContext
        settings.setdefault("spark.ui.showConsoleProgress", "false")
    else:
        from ember import SparkConf, SparkContext
    conf = SparkConf().setMaster(params.get("master", "local[2]")).setAppName(f"bench-{params['workload']}")
    for key, value in settings.items():
        conf.set(key, value)
    sc = SparkContext(conf=conf)
    if system == "pyspark":
        sc.setLogLevel("ERROR")
    return sc


def rdd_stop(sc: Any) -> None:
    if hasattr(sc, "stop"):
        sc.stop()


def rdd_w1(sc_factory: Callable[[], Any], params: dict) -> dict:
    sc = sc_factory()
    value = sc.parallelize([1]).count()
    result_at = time.time()
    rdd_stop(sc)
    return {"result_at": result_at, "check": value}


def rdd_w2(sc: Any, params: dict) -> dict:
    start = time.perf_counter()
    total = sc.parallelize(range(params["n"]), 2).map(arith).filter(keep).sum()
    return {"seconds": time.perf_counter() - start, "check": total}


def rdd_w3(sc: Any, params: dict) -> dict:
    start = time.perf_counter()
    top = (sc.textFile(params["path"]).flatMap(words_of).map(lambda w: (w, 1)).reduceByKey(add)
           .takeOrdered(20, key=by_count))
    return {"seconds": time.perf_counter() - start, "check": top20(top)}


def rdd_w4(sc: Any, params: dict) -> dict:
    partitions = params["partitions"]
    warm = min(partitions, WARM_UP_TASKS)
    sc.parallelize(range(warm), warm).count()  # Warm-up: workers started, code paths warm.
    rdd = sc.parallelize(range(partitions), partitions)
    start = time.perf_counter()
    value = rdd.count()
    return {"seconds": time.perf_counter() - start, "check": value, "transport": rdd_transport(sc, params)}


def rdd_w5(sc: Any, params: dict, system: str) -> dict:
    # The cheapest call each gateway offers: Ember's entry point getter; PySpark's JavaSparkContext.isLocal().
    call = sc._entry.sidePort if system == "ember" else sc._jsc.isLocal
    return gateway_loop(call, params["calls"])


def rdd_w6(sc: Any, params: dict) -> dict:
    mb = params["mb"]
    sc.parallelize(range(16), 8).map(make_chunk).collect()  # Warm-up: workers started.
    rdd = sc.parallelize(range(mb), 8).map(make_chunk)
    start = time.perf_counter()
    data = rdd.collect()
    seconds = time.perf_counter() - start
    assert len(data) == mb and all(len(d) == CHUNK for d in data)
    return {"seconds": seconds, "check": len(data), "transport": rdd_transport(sc, params)}


def rdd_w7(sc: Any, params: dict) -> dict:
    n, keys = params["pairs"], params["keys"]
    start = time.perf_counter()
    pairs = sc.parallelize(range(n), 2).map(lambda i: (w7_key(i, keys), i))
    sums = pairs.groupByKey().mapValues(sum)
    right = sc.parallelize(range(0, keys, 3), 2).map(lambda k: (k, w7_weight(k)))
    count, total = (sums.join(right).map(lambda kv: (1, kv[1][0] * kv[1][1]))
                    .reduce(lambda a, b: (a[0] + b[0], a[1] + b[1])))
    return {"seconds": time.perf_counter() - start, "check": [count, total]}


def rdd_transport(sc: Any, params: dict) -> Any:
    """For W8: the Ember transport the tasks ran on, as the worker sees it."""
    if not params.get("report_transport"):
        return None
    return sc.parallelize([0], 1).mapPartitions(
        lambda _: [os.environ.get("EMBER_DAEMON_TRANSPORT") or os.environ.get("EMBER_WORKER_TRANSPORT")]).first()


def gateway_loop(call: Callable[[], Any], calls: int) -> dict:
    """Mean time of a no-op call, in batches after a warm-up; the median batch is reported (robust to GC pauses)."""
    for _ in range(max(100, calls // 5)):
        call()
    batches = 10
    per_batch = max(1, calls // batches)
    means = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(per_batch):
            call()
        means.append((time.perf_counter() - start) / per_batch)
    means.sort()
    return {"us_per_call": means[len(means) // 2] * 1e6, "check": "ok", "calls": per_batch * batches}


def run_rdd(system: str, workload: str, params: dict) -> dict:
    if workload == "W1":
        return rdd_w1(lambda: rdd_context(system, params), params)
    sc = rdd_context(system, params)
    try:
        if workload == "W5":
            return rdd_w5(sc, params, system)
        return {"W2": rdd_w2, "W3": rdd_w3, "W4": rdd_w4, "W6": rdd_w6, "W7": rdd_w7}[workload](sc, params)
    finally:
        rdd_stop(sc)


# ---- Dask bag (processes scheduler, 2 workers) ----------------------------------------------------------------------

def run_dask(workload: str, params: dict) -> dict:
    import dask
    import dask.bag as db
    from concurrent.futures import ProcessPoolExecutor
    from dask.multiprocessing import get_context

    # One pool of 2 processes for the whole run (as Spark keeps its workers), in Dask's own multiprocessing context.
    pool = ProcessPoolExecutor(2, mp_context=get_context())
    dask.config.set(scheduler="processes", pool=pool, num_workers=2)
    try:
        if workload == "W1":
            value = db.from_sequence([1]).count().compute()
            return {"result_at": time.time(), "check": value}
        if workload == "W2":
            start = time.perf_counter()
            total = db.range(params["n"], npartitions=2).map(arith).filter(keep).sum().compute()
            return {"seconds": time.perf_counter() - start, "check": total}
        if workload == "W3":
            start = time.perf_counter()
            # Blocks of 32 MB, the split size Spark and Ember use for local files (Dask's default is one per file).
            top = (db.read_text(params["path"], blocksize=32 * 1024 * 1024).map(words_of).flatten()
                   .frequencies().topk(20, key=lambda wc: (wc[1], [-ord(ch) for ch in wc[0]])).compute())
            return {"seconds": time.perf_counter() - start, "check": top20(list(top))}
        if workload == "W4":
            partitions = params["partitions"]
            warm = min(partitions, WARM_UP_TASKS)
            db.from_sequence(range(warm), npartitions=warm).count().compute()  # Warm-up.
            bag = db.from_sequence(range(partitions), npartitions=partitions)
            assert bag.npartitions == partitions
            start = time.perf_counter()
            value = bag.count().compute()
            return {"seconds": time.perf_counter() - start, "check": value}
        if workload == "W6":
            mb = params["mb"]
            db.range(16, npartitions=8).map(make_chunk).compute()  # Warm-up.
            start = time.perf_counter()
            data = db.range(mb, npartitions=8).map(make_chunk).compute()
            seconds = time.perf_counter() - start
            assert len(data) == mb and all(len(d) == CHUNK for d in data)
            return {"seconds": seconds, "check": len(data)}
        if workload == "W7":
            n, keys = params["pairs"], params["keys"]
            start = time.perf_counter()
            pairs = db.range(n, npartitions=2).map(lambda i: (w7_key(i, keys), i))
            sums = pairs.groupby(lambda kv: kv[0]).map(lambda kg: (kg[0], sum(v for _, v in kg[1])))
            # Dask's join takes the other side in memory (an iterable), as its documentation recommends.
            right = tuple((k, w7_weight(k)) for k in range(0, keys, 3))
            joined = sums.join(right, on_self=lambda kv: kv[0], on_other=lambda kv: kv[0])
            count, total = dask.compute(joined.count(), joined.map(lambda ot: ot[1][1] * ot[0][1]).sum())
            return {"seconds": time.perf_counter() - start, "check": [count, total]}
        raise SystemExit(f"dask does not run {workload}")
    finally:
        pool.shutdown()


# ---- plain single-process Python ------------------------------------------------------------------------------------

def count_words(lines: Any) -> dict:
    from collections import Counter
    counts: Counter = Counter()
    for line in lines:
        counts.update(line.split())
    return counts


def run_python(workload: str, params: dict) -> dict:
    if workload == "W1":
        value = len([1])
        return {"result_at": time.time(), "check": value}
    start = time.perf_counter()
    if workload == "W2":
        check: Any = sum(filter(keep, map(arith, range(params["n"]))))
    elif workload == "W3":
        with open(params["path"], encoding="utf-8") as f:
            check = top20(list(count_words(f).items()))
    elif workload == "W7":
        check = w7_python(params["pairs"], params["keys"])
    else:
        raise SystemExit(f"plain Python does not run {workload}")
    return {"seconds": time.perf_counter() - start, "check": check}


def w7_python(n: int, keys: int) -> list[int]:
    groups: dict[int, list[int]] = {}
    for i in range(n):
        k = w7_key(i, keys)
        group = groups.get(k)
        if group is None:
            groups[k] = [i]
        else:
            group.append(i)
    sums = {k: sum(vs) for k, vs in groups.items()}
    right = {k: w7_weight(k) for k in range(0, keys, 3)}
    count = total = 0
    for k, s in sums.items():
        w = right.get(k)
        if w is not None:
            count += 1
            total += s * w
    return [count, total]


# ---- multiprocessing.Pool(2) ----------------------------------------------------------------------------------------

def mp_sum_range(bounds: tuple[int, int]) -> int:
    return sum(filter(keep, map(arith, range(*bounds))))


def mp_count_range(job: tuple[str, int, int]) -> dict:
    path, start, end = job
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8")
    return count_words(text.splitlines())


def mp_chunks(mb_count: tuple[int, int]) -> list[bytes]:
    return [make_chunk(i) for i in range(*mb_count)]


def mp_w7_map(job: tuple[int, int, int, int]) -> list[dict[int, list[int]]]:
    """Map side: groups its slice of the pairs into one dict per reduce partition (key % parts)."""
    lo, hi, keys, parts = job
    buckets: list[dict[int, list[int]]] = [{} for _ in range(parts)]
    for i in range(lo, hi):
        k = w7_key(i, keys)
        bucket = buckets[k % parts]
        group = bucket.get(k)
        if group is None:
            bucket[k] = [i]
        else:
            group.append(i)
    return buckets


def mp_w7_reduce(pieces: list[dict[int, list[int]]]) -> tuple[int, int]:
    """Reduce side: merges the groups of its partition, sums them and joins them with the right side's keys."""
    groups: dict[int, list[int]] = {}
    for piece in pieces:
        for k, vs in piece.items():
            group = groups.get(k)
            if group is None:
                groups[k] = vs
            else:
                group.extend(vs)
    count = total = 0
    for k, vs in groups.items():
        if w7_right(k):
            count += 1
            total += sum(vs) * w7_weight(k)
    return count, total


def line_aligned_ranges(path: str, block: int) -> list[tuple[str, int, int]]:
    """Byte ranges of about ``block`` bytes, each ending after a newline."""
    size = os.path.getsize(path)
    ranges, start = [], 0
    with open(path, "rb") as f:
        while start < size:
            end = min(size, start + block)
            if end < size:
                f.seek(end)
                end += len(f.readline())
            ranges.append((path, start, end))
            start = end
    return ranges


def run_multiprocessing(workload: str, params: dict) -> dict:
    from multiprocessing import Pool
    if workload == "W1":
        pool = Pool(2)
        value = pool.map(len, [[1]])[0]
        result_at = time.time()
        pool.close()
        pool.join()
        return {"result_at": result_at, "check": value}
    with Pool(2) as pool:
        if workload == "W4":
            partitions = params["partitions"]
            tasks = [[i] for i in range(partitions)]
            pool.map(len, tasks[:WARM_UP_TASKS], chunksize=1)  # Warm-up.
            start = time.perf_counter()
            value = sum(pool.map(len, tasks, chunksize=1))
            return {"seconds": time.perf_counter() - start, "check": value}
        if workload == "W6":
            mb = params["mb"]
            pool.map(mp_chunks, [(0, 2), (2, 4)])  # Warm-up.
            slices = [(p * mb // 8, (p + 1) * mb // 8) for p in range(8)]
            start = time.perf_counter()
            data = [chunk for part in pool.map(mp_chunks, slices, chunksize=1) for chunk in part]
            seconds = time.perf_counter() - start
            assert len(data) == mb
            return {"seconds": seconds, "check": len(data)}
        start = time.perf_counter()
        if workload == "W2":
            n = params["n"]
            check: Any = sum(pool.map(mp_sum_range, [(0, n // 2), (n // 2, n)]))
        elif workload == "W3":
            from collections import Counter
            counts: Counter = Counter()
            for part in pool.imap_unordered(mp_count_range, line_aligned_ranges(params["path"], 32 * 1024 * 1024)):
                counts.update(part)
            check = top20(list(counts.items()))
        elif workload == "W7":
            n, keys, parts = params["pairs"], params["keys"], 2
            mapped = pool.map(mp_w7_map, [(p * n // parts, (p + 1) * n // parts, keys, parts) for p in range(parts)])
            reduced = pool.map(mp_w7_reduce, [[m[p] for m in mapped] for p in range(parts)])
            check = [sum(c for c, _ in reduced), sum(t for _, t in reduced)]
        else:
            raise SystemExit(f"multiprocessing does not run {workload}")
        return {"seconds": time.perf_counter() - start, "check": check}


# ---- Py4J's own floor -----------------------------------------------------------------------------------------------

def run_py4j_floor(params: dict) -> dict:
    """A plain Py4J JavaGateway against a minimal GatewayServer whose entry point has a no-op method."""
    from py4j.java_gateway import GatewayParameters, JavaGateway
    server = subprocess.Popen(["java", "-cp", params["classpath"], params["main_class"]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        gateway = JavaGateway(gateway_parameters=GatewayParameters(port=port, auto_convert=False))
        try:
            return gateway_loop(gateway.entry_point.noop, params["calls"])
        finally:
            gateway.close()
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def main() -> None:
    system, workload, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    params["workload"] = workload
    if system in ("ember", "pyspark", "pysparkling"):
        result = run_rdd(system, workload, params)
    elif system == "dask":
        result = run_dask(workload, params)
    elif system == "python":
        result = run_python(workload, params)
    elif system == "multiprocessing":
        result = run_multiprocessing(workload, params)
    elif system == "py4j":
        result = run_py4j_floor(params)
    else:
        raise SystemExit(f"unknown system {system}")
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
