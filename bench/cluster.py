"""What running on a cluster costs: W2, W3, W4 and W7 on local[2], on one member and on three members, all on
this machine, in one run, repetitions interleaved. Writes CLUSTER.md (``--quick`` writes results/cluster-quick.md).

    .venv/bin/python bench/cluster.py [--quick] [--reps N]

Every member runs on the same 2 cores, so three members cannot be faster than one: the figures are what the
cluster path adds (Hazelcast calls to the members, tasks shipped one by one, shuffle blocks fetched between members
in chunks), per task and per shuffled megabyte, against local mode. Each run is a fresh driver process
(``bench/drivers.py``, the workloads of ``bench/run``); the members stay up across runs, as a cluster does.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import textgen  # noqa: E402
from drivers import RESULT_PREFIX  # noqa: E402
from harness import DIST, child_env  # noqa: E402

SIZES = {
    "full": {"reps": 3, "n": 4_000_000, "text_mb": 40, "tasks": 600, "pairs": 2_000_000, "keys": 100_000},
    "quick": {"reps": 2, "n": 1_000_000, "text_mb": 10, "tasks": 200, "pairs": 500_000, "keys": 25_000},
}
TEXT_SEED = 11
SLOTS_PER_MEMBER = 2


def free_port_block(size: int) -> int:
    for _ in range(200):
        base = 20000 + secrets.randbelow(30000)
        sockets = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free block of loopback ports")


class Members:
    """``count`` member JVMs of a private copy of the distribution, started with ``bin/ember run --cluster``."""

    def __init__(self, workdir: Path, count: int) -> None:
        self.home = workdir / f"ember-{count}"
        shutil.copytree(DIST, self.home, symlinks=True)
        self.count = count
        base = free_port_block(count)
        name, secret = "ember-bench-" + secrets.token_hex(4), secrets.token_hex(16)
        members = ",".join(f"127.0.0.1:{base + i}" for i in range(count))
        self.master = f"ember-cluster://127.0.0.1:{base}"
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        for i in range(count):
            config = (f"cluster.name = {name}\ncluster.secret = {secret}\nmember.port = {base + i}\n"
                      f"members = {members}\npython = {sys.executable}\nslots = {SLOTS_PER_MEMBER}\n")
            if i == 0:
                (self.home / "conf" / "cluster.cfg").write_text(config)
            path = workdir / f"member-{count}-{i}.cfg"
            path.write_text(config)
            log = workdir / f"member-{count}-{i}.log"
            self.logs.append(log)
            with open(log, "wb") as out:
                self.processes.append(subprocess.Popen([str(self.home / "bin" / "ember"), "run", "--cluster",
                                                        str(path)], stdin=subprocess.DEVNULL, stdout=out,
                                                       stderr=subprocess.STDOUT, env=child_env()))
        deadline = time.monotonic() + 120
        while not all(f"Members {{size:{count}," in log.read_text(errors="replace") for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"the {count}-member cluster did not form; see {self.logs[0]}")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def run_once(workload: str, params: dict[str, Any], home: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(BENCH / "drivers.py"), "ember", workload, json.dumps(params)],
                          capture_output=True, text=True, timeout=900, env=child_env({"EMBER_HOME": str(home)}))
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise RuntimeError(f"{workload} on {params.get('master')} printed no result:\n{proc.stdout[-2000:]}"
                       f"{proc.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repetitions; writes results/")
    parser.add_argument("--reps", type=int, help="repetitions (3, or 2 with --quick)")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    sizes = dict(SIZES[mode])
    reps = args.reps or sizes["reps"]
    text = textgen.text_path(BENCH / ".data", sizes["text_mb"], TEXT_SEED)
    workloads = {
        "W2": {"n": sizes["n"]},
        "W3": {"path": str(text)},
        "W4": {"partitions": sizes["tasks"]},
        "W7": {"pairs": sizes["pairs"], "keys": sizes["keys"]},
    }
    workdir = Path(tempfile.mkdtemp(prefix="ember-cluster-bench-"))
    clusters: list[Members] = []
    started = time.time()
    try:
        clusters = [Members(workdir, 1), Members(workdir, 3)]
        setups = [("local[2]", "local[2]", DIST), ("1 member", clusters[0].master, clusters[0].home),
                  ("3 members", clusters[1].master, clusters[1].home)]
        seconds: dict[str, dict[str, list[float]]] = {w: {label: [] for label, *_ in setups} for w in workloads}
        checks: dict[str, dict[str, Any]] = {w: {} for w in workloads}
        for rep in range(reps):
            for workload, params in workloads.items():
                shift = rep % len(setups)
                for label, master, home in setups[shift:] + setups[:shift]:
                    result = run_once(workload, {**params, "workload": workload, "master": master}, home)
                    seconds[workload][label].append(result["seconds"])
                    checks[workload][label] = result["check"]
                    print(f"{workload} {label}: {result['seconds']:.2f} s", flush=True)
    finally:
        for cluster in clusters:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(mode, sizes, reps, seconds, checks, time.time() - started)


def report(mode: str, sizes: dict[str, Any], reps: int, seconds: dict[str, dict[str, list[float]]],
           checks: dict[str, dict[str, Any]], elapsed: float) -> None:
    labels = ["local[2]", "1 member", "3 members"]
    lines = [
        "# Ember on a cluster: what the cluster path costs",
        "",
        f"Generated by `bench/cluster.py{' --quick' if mode == 'quick' else ''}` on {time.strftime('%Y-%m-%d')} "
        f"({elapsed / 60:.1f} min, {reps} repetitions interleaved, median seconds of the timed part; each run a "
        f"fresh driver). Every member runs on this machine's {os.cpu_count()} cores, with {SLOTS_PER_MEMBER} task "
        f"slots each, so three members share the cores one member has: more members cannot be faster here. The "
        f"ratios are the cluster path's overhead against local mode on the same machine in the same run.",
        "",
        "| workload | local[2] | 1 member | 3 members | 1 member / local | 3 members / local | same answer |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {"W2": f"W2 CPU map ({sizes['n']:,} ints)", "W3": f"W3 word count ({sizes['text_mb']} MB text)",
             "W4": f"W4 {sizes['tasks']} one-element tasks", "W7": f"W7 groupByKey + join ({sizes['pairs']:,} pairs)"}
    medians: dict[str, dict[str, float]] = {}
    for workload, by_label in seconds.items():
        medians[workload] = {label: statistics.median(values) for label, values in by_label.items()}
        m = medians[workload]
        same = len({json.dumps(checks[workload][label]) for label in labels}) == 1
        lines.append(f"| {names[workload]} | {m['local[2]']:.2f} | {m['1 member']:.2f} | {m['3 members']:.2f} | "
                     f"{m['1 member'] / m['local[2]']:.2f}x | {m['3 members'] / m['local[2]']:.2f}x | "
                     f"{'yes' if same else 'NO'} |")
    tasks = sizes["tasks"]
    w4 = medians["W4"]
    lines += [
        "",
        "Per task (W4: the job's time over its tasks): "
        + ", ".join(f"{label} {w4[label] / tasks * 1000:.2f} ms" for label in labels)
        + f"; the cluster path adds {(w4['1 member'] - w4['local[2]']) / tasks * 1000:.2f} ms per task with one "
        f"member and {(w4['3 members'] - w4['local[2]']) / tasks * 1000:.2f} ms with three.",
    ]
    w7 = medians["W7"]
    # W7's shuffles: the pairs (two ints each, ~12 bytes pickled) grouped by key, then the sums joined.
    shuffled_mb = sizes["pairs"] * 12 / 2**20
    lines += [
        "",
        f"Per shuffled megabyte (W7 moves about {shuffled_mb:.0f} MB of pickled pairs through its groupByKey): the "
        f"cluster path adds {(w7['1 member'] - w7['local[2]']) / shuffled_mb * 1000:.0f} ms/MB with one member and "
        f"{(w7['3 members'] - w7['local[2]']) / shuffled_mb * 1000:.0f} ms/MB with three, where blocks also travel "
        f"between members.",
    ]
    out = BENCH / ("results/cluster-quick.md" if mode == "quick" else "CLUSTER.md")
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
