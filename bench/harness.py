"""Ember side by side with PySpark, pysparkling, Dask bag, plain Python and multiprocessing, in one run.

Started by ``bench/run`` (see bench/README.md). For each workload, each repetition and each system it starts a fresh
process (bench/drivers.py under that system's interpreter), samples the memory of its whole process tree, and
collects what it measured. Then it checks that every system computed the same answer, takes medians and spreads,
Ember's ratio to each system, and writes the report (Markdown) and the raw results (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import envs  # noqa: E402
import procmem  # noqa: E402
import textgen  # noqa: E402
from drivers import RESULT_PREFIX  # noqa: E402

DIST = Path(os.environ.get("EMBER_HOME", ROOT / "launcher" / "target" / "ember"))
SYSTEMS = ["ember", "pyspark", "pysparkling", "dask", "python", "multiprocessing"]
LABELS = {"ember": "Ember", "pyspark": "PySpark", "pysparkling": "pysparkling", "dask": "Dask bag",
          "python": "plain Python", "multiprocessing": "multiprocessing.Pool(2)", "py4j": "Py4J floor"}
# Ember's competitors in the "ahead of" target.
RIVALS = ["pyspark", "pysparkling", "dask"]


@dataclass(frozen=True)
class Workload:
    """What a table in the report measures."""
    id: str
    title: str
    unit: str
    better: str  # "lower" or "higher"
    systems: tuple[str, ...]  # where the workload applies (others show n/a, with why)
    describe: Callable[[dict], str]
    not_applicable: str = ""


WORKLOADS = [
    Workload("W1", "start-up", "s", "lower", tuple(SYSTEMS),
             lambda s: "from launching the driver process (cold: new interpreter, new context) to the first result "
                       "of `parallelize([1]).count()`; for plain Python `len([1])`, for multiprocessing "
                       "`Pool(2).map(len, [[1]])`"),
    Workload("W2", "CPU map", "s", "lower", tuple(SYSTEMS),
             lambda s: f"`parallelize(range({s['n']:,}), 2).map(arith).filter(keep).sum()`, a small arithmetic "
                       "function and a filter; multiprocessing sums two halves in the pool"),
    Workload("W3", "word count", "s", "lower", tuple(SYSTEMS),
             lambda s: f"`textFile` of a seeded {s['text_mb']:g} MB text, `flatMap(split)`, `map((w, 1))`, "
                       "`reduceByKey(add)`, top 20 by count; Dask: `read_text` in 32 MB blocks, `frequencies`, "
                       "`topk`; plain Python: a `Counter` over the lines; multiprocessing: one `Counter` per 32 MB "
                       "block in the pool, merged"),
    Workload("W4", "per-task overhead", "ms per task", "lower", ("ember", "pyspark", "pysparkling", "dask",
                                                                  "multiprocessing"),
             lambda s: f"`count()` over {s['partitions']:,} partitions of one element each, after a warm-up "
                       f"count over {min(200, s['partitions'])}; time / {s['partitions']:,}. multiprocessing: "
                       f"`pool.map(len, ..., chunksize=1)` over {s['partitions']:,} one-element lists",
             "plain Python has no tasks"),
    Workload("W5", "gateway call latency", "µs per call", "lower", ("ember", "pyspark", "py4j"),
             lambda s: f"a no-op call through the driver's Py4J gateway, median of 10 batches of "
                       f"{s['calls'] // 10:,} calls after a warm-up: Ember `sc._entry.sidePort()`, PySpark "
                       "`sc._jsc.isLocal()`; the Py4J floor is a plain py4j `JavaGateway` calling a no-op method "
                       "on a minimal `GatewayServer` compiled and started by this run",
             "no gateway"),
    Workload("W6", "collect throughput", "MB/s", "higher", ("ember", "pyspark", "pysparkling", "dask",
                                                            "multiprocessing"),
             lambda s: f"`parallelize(range({s['mb']:,}), 8).map(make 1 MB bytes).collect()` to the driver "
                       f"({s['mb']:,} MB, 1 MB = 2^20 bytes), after a small warm-up collect; multiprocessing: "
                       "`pool.map` of 8 slices; pysparkling runs in-process, so nothing crosses a process boundary",
             "nothing to collect from"),
    Workload("W7", "shuffle-heavy", "s", "lower", tuple(SYSTEMS),
             lambda s: f"{s['pairs']:,} pairs `(i * 7919 % {s['keys']:,}, i)`, `groupByKey().mapValues(sum)`, "
                       f"`join` with {s['keys'] // 3:,} pairs on a third of the keys, count and weighted sum; "
                       f"Ember with `shuffleMemoryMB = {s['shuffle_mb']}` so the shuffle exceeds it. Dask: "
                       "`groupby` (its disk shuffle) and `join` against an in-memory tuple; multiprocessing: "
                       "grouped into 2 hash partitions by the pool, merged and joined by the pool"),
]
WORKLOAD_IDS = [w.id for w in WORKLOADS] + ["W8"]

SIZES: dict[str, dict[str, Any]] = {
    "full": {"reps": 3, "n": 10_000_000, "text_mb": 200, "partitions": 2000, "calls": 5000, "mb": 1024,
             "pairs": 20_000_000, "shuffle_mb": 64, "timeout": 300, "cell_budget": 90, "quiet_wait": 300,
             "retries": 2},
    "quick": {"reps": 2, "n": 1_000_000, "text_mb": 20, "partitions": 500, "calls": 1000, "mb": 128,
              "pairs": 1_000_000, "shuffle_mb": 4, "timeout": 600, "cell_budget": 60, "quiet_wait": 0,
              "retries": 1},
    "smoke": {"reps": 1, "n": 100_000, "text_mb": 1, "partitions": 50, "calls": 200, "mb": 8,
              "pairs": 100_000, "shuffle_mb": 1, "timeout": 120, "cell_budget": 60, "quiet_wait": 0,
              "retries": 0},
}
# A run waits (up to quiet_wait seconds) for the machine to be this idle before it starts ...
QUIET_BUSY = 0.15
# ... and is repeated (at most "retries" times) when other processes took more than this share of the CPU during it.
DISTURBED = 0.15
TEXT_SEED = 8

FLOOR_SERVER = """
import py4j.GatewayServer;

/** Py4J's floor for W5: a GatewayServer whose entry point does nothing. Stops when stdin closes. */
public class BenchFloorServer {
    public int noop() { return 0; }

    public static void main(String[] args) throws Exception {
        GatewayServer server = new GatewayServer(new BenchFloorServer(), 0);
        server.start();
        System.out.println(server.getListeningPort());
        System.out.flush();
        while (System.in.read() != -1) { }
        server.shutdown();
    }
}
"""


class RunFailed(Exception):
    """A benchmark process exited badly or printed no result."""


class RunStopped(Exception):
    """A benchmark process still running at the time limit: stopped, its time known only as a lower bound."""

    def __init__(self, seconds: float, peak_bytes: int) -> None:
        super().__init__(f"stopped after {seconds:.0f} s")
        self.seconds = seconds
        self.peak_bytes = peak_bytes


@dataclass
class Cell:
    """The runs of one system on one workload."""
    values: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    foreign: list[float] = field(default_factory=list)  # CPU share other processes used during each run
    checks: list[Any] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None
    stopped_after: Optional[float] = None  # the time limit, when a run was stopped there (then no values)
    stopped_peak_mb: Optional[float] = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": self.values, "peaks_mb": self.peaks_mb, "walls_s": self.walls,
                               "foreign_cpu": self.foreign, "runs": len(self.values), "error": self.error,
                               "stopped_after": self.stopped_after, "stopped_peak_mb": self.stopped_peak_mb,
                               **self.extra}
        if self.values:
            out.update(median=statistics.median(self.values), min=min(self.values), max=max(self.values),
                       peak_mb_median=statistics.median(self.peaks_mb), peak_mb_min=min(self.peaks_mb),
                       peak_mb_max=max(self.peaks_mb), check=self.checks[0])
        return out


def kill_tree(pid: int) -> None:
    """SIGKILLs a process this harness started and all its descendants."""
    pids = [pid]
    try:
        import psutil
        pids += [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 - psutil missing or the process gone: kill what we know
        pass
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def run_once(python: Path, system: str, workload: str, params: dict, env: dict[str, str], log: Path,
             timeout: float) -> dict[str, Any]:
    """One fresh process: returns the driver's result plus ``launched_at``, ``wall``, ``peak_bytes`` and
    ``foreign_cpu``, the share of the machine's CPU that processes other than this harness and the run's own
    process tree used meanwhile (other work on the machine distorts the numbers)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as err, tempfile.TemporaryDirectory(prefix="ember-bench-run-") as cwd:
        ticks0, cpu0, self0 = procmem.cpu_ticks(), own_cpu_seconds(), own_self_seconds()
        launched_at = time.time()
        proc = subprocess.Popen([str(python), str(BENCH / "drivers.py"), system, workload, json.dumps(params)],
                                stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                text=True)
        sampler = procmem.PeakSampler(proc.pid).start()
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.communicate()
            raise RunStopped(timeout, sampler.stop())
        except BaseException:  # Interrupted (Ctrl-C, SIGTERM): take the run's processes down too.
            kill_tree(proc.pid)
            raise
        peak = sampler.stop()
        wall = time.time() - launched_at
        (busy0, total0), (busy1, total1) = ticks0, procmem.cpu_ticks()
        per_second = os.sysconf("SC_CLK_TCK")
        # The run's own CPU: what the kernel accounted to this harness and the descendants it waited for, or, when
        # more, what the sampler saw the tree use (a JVM orphaned at exit is never waited for by us).
        ours = own_cpu_seconds() - cpu0
        ours = max(ours, sampler.cpu_seconds + (own_self_seconds() - self0))
        others = (busy1 - busy0) / per_second - ours
        foreign = max(0.0, others / max(1e-9, (total1 - total0) / per_second))
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise RunFailed(f"exit code {proc.returncode}: {' | '.join(tail)} (log: {log})")
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RunFailed(f"no result printed (log: {log})")
    result = json.loads(lines[-1][len(RESULT_PREFIX):])
    result.update(launched_at=launched_at, wall=wall, peak_bytes=peak, foreign_cpu=foreign)
    return result


def own_self_seconds() -> float:
    """CPU time of this harness alone (its memory sampler included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    """CPU time of this harness and of every finished descendant it (transitively) waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def metric(workload: str, result: dict[str, Any], params: dict) -> float:
    """The number a run contributes to its table."""
    if workload == "W1":
        return result["result_at"] - result["launched_at"]
    if workload == "W4":
        return result["seconds"] / params["partitions"] * 1000
    if workload == "W5":
        return result["us_per_call"]
    if workload == "W6":
        return params["mb"] / result["seconds"]
    return result["seconds"]


def stopped_bound(workload: str, seconds: float, params: dict) -> Optional[float]:
    """The metric a run stopped after ``seconds`` of its timed part would at least (at most, for MB/s) have had."""
    if seconds <= 0:
        return None
    if workload == "W4":
        return seconds / params["partitions"] * 1000
    if workload == "W6":
        return params["mb"] / seconds
    if workload == "W5":
        return None
    return seconds


def advantage(reference: float, other: float, better: str) -> float:
    """How many times better the reference's median is than the other's (above 1: the reference is ahead)."""
    return other / reference if better == "lower" else reference / other


# ---- environment: distributions, inputs, the Py4J floor -------------------------------------------------------------

def distribution_copy(workdir: Path, name: str, config_lines: list[str]) -> Path:
    """A private copy of the built distribution with lines appended to its engine configuration."""
    home = workdir / name / "ember"
    shutil.copytree(DIST, home, symlinks=True)
    config = home / "conf" / "dev.ember.engine.cfg"
    config.write_text(config.read_text() + "\n" + "\n".join(config_lines) + "\n")
    return home


def installed_transports() -> list[str]:
    """The transports the distribution ships (in bundle/ or extras/), default first."""
    names = set()
    for folder in ("bundle", "extras"):
        for jar in (DIST / folder).glob("dev.ember.transport.*.jar"):
            names.add(jar.name[len("dev.ember.transport."):].split("-")[0])
    return sorted(names, key=lambda t: (t != "tcp", t))


def transport_distribution(workdir: Path, transport: str) -> Path:
    """A copy of the distribution with every transport installed and ``transport`` pinned (as transports.py)."""
    from transports import distribution_for
    return distribution_for(transport, workdir)


def compile_floor_server(workdir: Path) -> dict[str, str]:
    """Compiles the Py4J floor's server against the py4j jar the client's py4j ships; returns driver params."""
    jars = sorted((ROOT / ".venv" / "share" / "py4j").glob("py4j*.jar"))
    if not jars:
        raise RunFailed("no py4j jar under .venv/share/py4j")
    source = workdir / "floor" / "BenchFloorServer.java"
    source.parent.mkdir(parents=True)
    source.write_text(FLOOR_SERVER)
    subprocess.run(["javac", "-cp", str(jars[-1]), "-d", str(source.parent), str(source)], check=True)
    return {"classpath": f"{jars[-1]}{os.pathsep}{source.parent}", "main_class": "BenchFloorServer",
            "jar": jars[-1].name}


def dist_fingerprint() -> str:
    """Names, sizes and times of the distribution's jars and scripts: tells whether it was rebuilt meanwhile."""
    entries = []
    for folder in ("bin", "bundle", "extras", "lib"):
        for path in sorted((DIST / folder).glob("*")):
            stat = path.stat()
            entries.append(f"{folder}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return str(hash("\n".join(entries)))


def child_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of a benchmark process: this one without settings that would redirect the systems."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EMBER_GATEWAY", "EMBER_SECRET", "PYSPARK_", "SPARK_", "PYTHONPATH"))}
    env.update(extra or {})
    return env


def machine() -> dict[str, str]:
    """What the report says about the machine."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except OSError:
        memory = "?"
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory, "os": platform.platform(),
            "java": java[0] if java else "?", "python": platform.python_version(), "ember_commit": commit or "?"}


# ---- the run --------------------------------------------------------------------------------------------------------

class Harness:
    """Runs the selected workloads on the selected systems and keeps every result."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
        self.sizes = dict(SIZES[self.mode])
        if args.reps:
            self.sizes["reps"] = args.reps
        self.sizes["keys"] = self.sizes["pairs"] // 10
        self.systems = args.systems
        self.workloads = args.workloads
        self.results: dict[str, dict[str, Cell]] = {}
        self.pythons: dict[str, Path] = {}
        self.versions: dict[str, str] = {}
        self.out = Path(args.out) if args.out else None
        self.workdir = Path(tempfile.mkdtemp(prefix="ember-bench-"))
        self.failures = 0
        self.waited = 0.0

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    @property
    def logs(self) -> Path:
        return self.json_path.parent / "logs" / self.mode

    @property
    def report_path(self) -> Path:
        if self.out:
            return self.out / "benchmarks.md"
        return BENCH / ("BENCHMARKS.md" if self.mode == "full" else f"results/{self.mode}.md")

    @property
    def json_path(self) -> Path:
        if self.out:
            return self.out / "benchmarks.json"
        return BENCH / "results" / f"{self.mode}.json"

    def prepare(self) -> None:
        """Environments, versions and inputs, before anything is timed."""
        self.machine = machine()
        self.fingerprint = dist_fingerprint()
        needed = set(self.systems)
        if "W5" in self.workloads and "ember" in self.systems:
            needed.add("py4j")
        for system in sorted(needed):
            self.pythons[system] = envs.python_for(system, self.log)
        for system, dist in (("pyspark", "pyspark"), ("pysparkling", "pysparkling"), ("dask", "dask"),
                             ("py4j", "py4j")):
            if system in self.pythons:
                self.versions[dist] = envs.installed_version(self.pythons[system], dist)
        if "W3" in self.workloads:
            self.log(f"W3 input: {self.sizes['text_mb']:g} MB of text, seed {TEXT_SEED} (made once, cached)")
            self.text = textgen.text_path(Path(self.args.data_dir), self.sizes["text_mb"], TEXT_SEED)

    def params(self, workload: str, system: str) -> dict[str, Any]:
        s = self.sizes
        base: dict[str, Any] = {
            "W1": {}, "W2": {"n": s["n"]}, "W4": {"partitions": s["partitions"]}, "W5": {"calls": s["calls"]},
            "W6": {"mb": s["mb"]}, "W7": {"pairs": s["pairs"], "keys": s["keys"]},
        }.get(workload, {})
        if workload == "W3":
            base = {"path": str(self.text)}
        if workload == "W6" and system in ("ember", "pyspark"):
            # A whole gigabyte comes to the driver on purpose; PySpark's driver JVM holds it all while it serves it.
            base["conf"] = {"spark.driver.maxResultSize": "0"}
            if system == "pyspark":
                base["conf"]["spark.driver.memory"] = "4g"
        if workload == "W5" and system == "py4j":
            base.update(self.floor)
        return base

    def env_for(self, workload: str, system: str) -> dict[str, str]:
        if system == "ember" and workload == "W7":
            return child_env({"EMBER_HOME": str(self.shuffle_dist)})
        if system == "ember":
            return child_env({"EMBER_HOME": str(DIST)})
        return child_env()

    def run_cells(self, table: str, workload: str, runs: list[tuple[str, str, dict, dict[str, str]]]) -> None:
        """Runs (label, system, params, env) for the configured repetitions, interleaving the systems."""
        cells = self.results.setdefault(table, {})
        for label, *_ in runs:
            cells.setdefault(label, Cell())
        for rep in range(self.sizes["reps"]):
            shift = rep % len(runs)
            for label, system, params, env in runs[shift:] + runs[:shift]:
                cell = cells[label]
                if cell.error or cell.stopped_after or rep >= self.planned_reps(cell):
                    continue
                self.run_one(table, workload, label, system, params, env, cell, rep)

    def run_one(self, table: str, workload: str, label: str, system: str, params: dict, env: dict[str, str],
                cell: Cell, rep: int) -> None:
        """One repetition; a run during which other processes took over DISTURBED of the CPU is discarded and
        repeated, at most ``retries`` times (the last one counts, with its disturbance recorded)."""
        retries = self.sizes["retries"]
        for attempt in range(retries + 1):
            self.wait_for_quiet()
            log = self.logs / f"{table}-{label}-{rep + 1}.log"
            try:
                result = run_once(self.pythons[system], system, workload, params, env, log, self.sizes["timeout"])
            except RunStopped as e:
                cell.stopped_after, cell.stopped_peak_mb = e.seconds, e.peak_bytes / 2**20
                self.log(f"{table} {label} run {rep + 1}: {e} (the time limit); reported as a lower bound")
                return
            except (RunFailed, OSError) as e:
                cell.error = str(e)
                self.failures += 1
                self.log(f"{table} {label} run {rep + 1}: FAILED {e}")
                return
            value = metric(workload, result, params)
            self.log(f"{table} {label} run {rep + 1}: {value:.4g} "
                     f"{self.unit(table)}, peak {result['peak_bytes'] / 2**20:.0f} MB, "
                     f"process {result['wall']:.1f} s, other processes used {result['foreign_cpu']:.0%} CPU")
            if result["foreign_cpu"] <= DISTURBED or attempt == retries:
                break
            cell.extra["discarded"] = cell.extra.get("discarded", 0) + 1
            self.log(f"{table} {label} run {rep + 1}: discarded (disturbed by other work), repeating")
        cell.values.append(value)
        cell.peaks_mb.append(result["peak_bytes"] / 2**20)
        cell.walls.append(result["wall"])
        cell.foreign.append(result["foreign_cpu"])
        cell.checks.append(result["check"])
        if result.get("transport"):
            cell.extra["transport"] = result["transport"]

    def planned_reps(self, cell: Cell) -> int:
        """Repetitions for a system on a workload: all of them, unless its first run says they would not fit in
        ``cell_budget`` seconds; then as many as fit, at least one."""
        if not cell.walls:
            return self.sizes["reps"]
        return max(1, min(self.sizes["reps"], int(self.sizes["cell_budget"] // cell.walls[0])))

    def wait_for_quiet(self) -> None:
        """Waits, up to ``quiet_wait`` seconds, until other processes leave the machine nearly idle."""
        started = time.time()
        deadline = started + self.sizes["quiet_wait"]
        while time.time() < deadline:
            busy = procmem.busy_fraction(0.3)
            if busy < QUIET_BUSY:
                break
            self.log(f"the machine is {busy:.0%} busy with other work: waiting (at most until "
                     f"{time.strftime('%H:%M:%S', time.localtime(deadline))})")
            time.sleep(4)
        self.waited += time.time() - started

    def unit(self, table: str) -> str:
        if table.startswith("W8"):
            return "ms per task" if table == "W8-W4" else "MB/s"
        return next(w.unit for w in WORKLOADS if w.id == table)

    def run(self) -> None:
        started = time.time()
        self.prepare()
        if "W7" in self.workloads and "ember" in self.systems:
            self.shuffle_dist = distribution_copy(self.workdir, "w7", [f"shuffleMemoryMB = {self.sizes['shuffle_mb']}"])
        if "W5" in self.workloads and "ember" in self.systems:
            self.floor = compile_floor_server(self.workdir)
        for workload in WORKLOADS:
            if workload.id not in self.workloads:
                continue
            systems = [s for s in SYSTEMS if s in self.systems and s in workload.systems]
            if workload.id == "W5" and "ember" in self.systems:
                systems.append("py4j")
            self.log(f"{workload.id} {workload.title}: {', '.join(systems)}")
            self.run_cells(workload.id, workload.id,
                           [(s, s, self.params(workload.id, s), self.env_for(workload.id, s)) for s in systems])
        if "W8" in self.workloads and "ember" in self.systems:
            transports = [t for t in installed_transports() if not self.args.transports or t in self.args.transports]
            homes = {t: transport_distribution(self.workdir / "w8", t) for t in transports}
            for sub in ("W4", "W6"):
                self.log(f"W8 {sub} per transport: {', '.join(transports)}")
                runs = []
                for t in transports:
                    params = {**self.params(sub, "ember"), "report_transport": True}
                    runs.append((t, "ember", params, child_env({"EMBER_HOME": str(homes[t])})))
                self.run_cells(f"W8-{sub}", sub, runs)
                for t in transports:
                    seen = self.results[f"W8-{sub}"][t].extra.get("transport")
                    if seen and seen != t:
                        self.results[f"W8-{sub}"][t].error = f"asked for {t} but tasks ran on {seen}"
                        self.failures += 1
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.duration = time.time() - started
        self.write()

    # ---- results ----------------------------------------------------------------------------------------------------

    def tables(self) -> dict[str, dict[str, Any]]:
        """Every table as plain data: per system the summary, Ember's (or tcp's) ratio, and answer agreement."""
        tables: dict[str, dict[str, Any]] = {}
        for table, cells in self.results.items():
            sub = table.split("-")[1] if table.startswith("W8") else table
            spec = next(w for w in WORKLOADS if w.id == sub)
            reference = "tcp" if table.startswith("W8") else "ember"
            summaries = {label: cell.summary() for label, cell in cells.items()}
            ref = summaries.get(reference, {})
            ratios, memory_ratios = {}, {}
            for label, s in summaries.items():
                if label != reference and "median" in s and "median" in ref:
                    ratios[label] = advantage(ref["median"], s["median"], spec.better)
                    memory_ratios[label] = s["peak_mb_median"] / ref["peak_mb_median"]
            bounds, memory_bounds = {}, {}
            for label, s in summaries.items():
                if s["stopped_after"] and "median" in ref:
                    # Stopped at the limit: its time counts from the context's creation, which W1 bounds above.
                    w1 = self.results.get("W1", {}).get(label)
                    startup = 0.0 if sub == "W1" else statistics.median(w1.values) if w1 and w1.values else None
                    if startup is not None:
                        bound = stopped_bound(sub, s["stopped_after"] - startup, self.params(sub, label))
                        if bound is not None:
                            bounds[label] = advantage(ref["median"], bound, spec.better)
                    memory_bounds[label] = s["stopped_peak_mb"] / ref["peak_mb_median"]
            answers = {label: s["check"] for label, s in summaries.items() if "check" in s}
            distinct = {json.dumps(a, sort_keys=True) for a in answers.values()}
            tables[table] = {"workload": sub, "title": spec.title, "unit": spec.unit, "better": spec.better,
                             "reference": reference, "systems": summaries, "ratios": ratios,
                             "memory_ratios": memory_ratios, "ratio_bounds": bounds,
                             "memory_ratio_bounds": memory_bounds, "answers_agree": len(distinct) <= 1}
            if len(distinct) > 1:
                self.failures += 1
                self.log(f"{table}: the systems computed different answers: {answers}")
        return tables

    def write(self) -> None:
        tables = self.tables()
        data = {"mode": self.mode, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "duration_s": self.duration,
                "waited_s": self.waited, "machine": self.machine,
                "dist_rebuilt": dist_fingerprint() != self.fingerprint, "versions": self.versions,
                "sizes": self.sizes, "systems": self.systems, "workloads": self.workloads, "memory_sampler": procmem.backend(), "tables": tables,
                "targets": targets(tables)}
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(data, indent=1) + "\n")
        report = render(data)
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(report)
        print(report)
        self.log(f"wrote {self.report_path} and {self.json_path} in {self.duration / 60:.1f} min")


# ---- targets --------------------------------------------------------------------------------------------------------

def targets(tables: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 8's and issue 22's targets, each judged from this run's medians: met, missed, or not measured."""
    out: list[dict[str, Any]] = []

    def median(table: str, system: str) -> Optional[float]:
        return tables.get(table, {}).get("systems", {}).get(system, {}).get("median")

    def peak(table: str, system: str) -> Optional[float]:
        return tables.get(table, {}).get("systems", {}).get(system, {}).get("peak_mb_median")

    def ratio(table: str, system: str) -> Optional[float]:
        return tables.get(table, {}).get("ratios", {}).get(system)

    def bound(table: str, system: str) -> Optional[float]:
        return tables.get(table, {}).get("ratio_bounds", {}).get(system)

    def stopped_peak(table: str, system: str) -> Optional[float]:
        return tables.get(table, {}).get("systems", {}).get(system, {}).get("stopped_peak_mb")

    def add(target: str, measured: Optional[str], met: Optional[bool]) -> None:
        status = "met" if met else "missed" if met is not None else "inconclusive" if measured else "not measured"
        out.append({"target": target, "measured": measured or "not measured", "status": status})

    for w in WORKLOADS:
        for rival in RIVALS:
            if rival not in w.systems:
                continue
            r, b = ratio(w.id, rival), bound(w.id, rival)
            if r is None and b is not None:  # The rival was stopped at the time limit: its ratio is a lower bound.
                add(f"{w.id}: Ember ahead of {LABELS[rival]}", f"over {b:.2f}x (stopped)", True if b > 1 else None)
                continue
            add(f"{w.id}: Ember ahead of {LABELS[rival]}", None if r is None else f"{r:.2f}x",
                None if r is None else r > 1)
    w1 = median("W1", "ember")
    add("W1 under 0.5 s", None if w1 is None else f"{w1:.3f} s", None if w1 is None else w1 < 0.5)
    r = ratio("W1", "pyspark")
    add("W1 at least 5x faster than PySpark", None if r is None else f"{r:.2f}x", None if r is None else r >= 5)
    r = ratio("W2", "python")
    add("W2 at least 1.6x faster than plain Python", None if r is None else f"{r:.2f}x",
        None if r is None else r >= 1.6)
    r = ratio("W2", "pyspark")
    add("W2 at least 1.5x faster than PySpark", None if r is None else f"{r:.2f}x", None if r is None else r >= 1.5)
    w4 = median("W4", "ember")
    add("W4 under 0.5 ms per task", None if w4 is None else f"{w4:.3f} ms", None if w4 is None else w4 < 0.5)
    ember, floor = median("W5", "ember"), median("W5", "py4j")
    if ember is None or floor is None:
        add("W5 within 20 % of Py4J's floor", None, None)
    else:
        add("W5 within 20 % of Py4J's floor", f"{ember:.1f} µs vs {floor:.1f} µs ({ember / floor - 1:+.0%})",
            ember <= 1.2 * floor)
    w6 = median("W6", "ember")
    add("W6 above 500 MB/s", None if w6 is None else f"{w6:.0f} MB/s", None if w6 is None else w6 > 500)
    for w in ("W3", "W7"):
        r, b = ratio(w, "pyspark"), bound(w, "pyspark")
        if r is None and b is not None:
            add(f"{w} faster than PySpark", f"over {b:.2f}x (stopped)", True if b > 1 else None)
        else:
            add(f"{w} faster than PySpark", None if r is None else f"{r:.2f}x", None if r is None else r > 1)
        mine, theirs, partial = peak(w, "ember"), peak(w, "pyspark"), stopped_peak(w, "pyspark")
        if theirs is None and partial is not None and mine is not None:  # PySpark stopped: its peak is a floor.
            add(f"{w} peak memory no higher than PySpark's", f"{mine:.0f} MB vs over {partial:.0f} MB",
                True if mine <= partial else None)
            continue
        add(f"{w} peak memory no higher than PySpark's",
            None if mine is None or theirs is None else f"{mine:.0f} MB vs {theirs:.0f} MB",
            None if mine is None or theirs is None else mine <= theirs)
    # Issue 22: the machine's limit, as the systems without a JVM hop reach it.
    r = ratio("W7", "python")
    add("W7 no slower than plain Python (issue 22)", None if r is None else f"{r:.2f}x",
        None if r is None else r >= 1.0)
    r = ratio("W7", "multiprocessing")
    add("W7 ahead of multiprocessing.Pool(2) (issue 22)", None if r is None else f"{r:.2f}x",
        None if r is None else r > 1.0)
    for w in ("W3", "W2"):
        r = ratio(w, "multiprocessing")
        add(f"{w} at least 0.9x multiprocessing.Pool(2) (issue 22)", None if r is None else f"{r:.2f}x",
            None if r is None else r >= 0.9)
    add("W6 at least 1 GB/s (issue 22)", None if w6 is None else f"{w6:.0f} MB/s",
        None if w6 is None else w6 >= 1024)
    add("W1 under 0.45 s (issue 22)", None if w1 is None else f"{w1:.3f} s", None if w1 is None else w1 < 0.45)
    add("W4 under 0.35 ms per task (issue 22)", None if w4 is None else f"{w4:.3f} ms",
        None if w4 is None else w4 < 0.35)
    if ember is None or floor is None:
        add("W5 within 10 % of Py4J's floor (issue 22)", None, None)
    else:
        add("W5 within 10 % of Py4J's floor (issue 22)",
            f"{ember:.1f} µs vs {floor:.1f} µs ({ember / floor - 1:+.0%})", ember <= 1.1 * floor)
    return out


# ---- the report -----------------------------------------------------------------------------------------------------

def fmt(value: float) -> str:
    """A number with about three significant digits."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def render(data: dict[str, Any]) -> str:
    """The Markdown report: machine, method, one table per workload, targets."""
    m, sizes = data["machine"], data["sizes"]
    title = {"full": "Benchmarks", "quick": "Benchmarks (quick run, small sizes)",
             "smoke": "Benchmarks (smoke run, tiny sizes: not measurements)"}[data["mode"]]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(data["versions"].items()))
    lines = [
        f"# {title}",
        "",
        f"Produced by `bench/run{'' if data['mode'] == 'full' else ' --' + data['mode']}` on {data['date']}, "
        f"in one run of {data['duration_s'] / 60:.1f} minutes ({data['waited_s'] / 60:.1f} of them waiting for "
        "other work on the machine to finish). Every number below comes from that run; "
        "rerun it to regenerate this file.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['os']}",
        f"- {m['java']}; Python {m['python']}; Ember at commit {m['ember_commit']}"
        + (" (**the distribution was rebuilt during the run**: later workloads ran on a newer build)"
           if data["dist_rebuilt"] else "") + (f"; {versions}" if versions else ""),
        f"- Ember, PySpark on `local[2]`; Dask bag with the processes scheduler and 2 workers; "
        "`multiprocessing.Pool(2)`; pysparkling and plain Python in one process.",
        f"- Each system runs each workload in a fresh process, {sizes['reps']} time{'s' if sizes['reps'] != 1 else ''} "
        f"(interleaved), fewer when its first run shows that they would take over {sizes['cell_budget']} s "
        "(the `runs` column says how many). Shown: median (min..max). Timed: the workload once its context "
        "exists, except W1, which times the whole cold start.",
        f"- Other work on the machine: {foreign_summary(data)}",
        f"- Peak memory: the largest sum of the resident set sizes of the driver and all its descendants (JVM, "
        f"workers), sampled every 50 ms with {data['memory_sampler']}; pages shared between processes count once "
        "per process. MB = 2^20 bytes.",
        "- **Ember's advantage** = how many times better Ember's median is than that system's: their time / "
        "Ember's time, or Ember's MB/s / theirs; above 1 means Ember is ahead. **Memory** = their peak / "
        "Ember's peak; above 1 means Ember used less.",
        "",
    ]
    labels = dict(LABELS)
    for table_id, t in data["tables"].items():
        if table_id.startswith("W8"):
            continue
        spec = next(w for w in WORKLOADS if w.id == table_id)
        lines += [f"## {table_id}: {t['title']} ({t['unit']}, {t['better']} is better)", "",
                  spec.describe(sizes) + ".", ""]
        lines += table_lines(t, labels, "Ember's advantage", "memory")
        missing = [LABELS[s] for s in SYSTEMS if s in data["systems"] and s not in spec.systems]
        if missing:
            lines += ["", f"n/a: {', '.join(missing)} ({spec.not_applicable})."]
        if not t["answers_agree"]:
            lines += ["", "**The systems computed different answers**: see the JSON results."]
        lines += disturbed(t, labels)
        lines.append("")
    w8 = [t for k, t in data["tables"].items() if k.startswith("W8")]
    if w8:
        lines += ["## W8: per transport (W4 and W6 on each installed transport)", "",
                  "Ember alone, on a private copy of the distribution with every transport installed and one pinned "
                  "(`transport.target`); the transport the tasks ran on is checked. Ratios are against tcp, the "
                  "default: **tcp's advantage** above 1 means tcp is ahead.", ""]
        for t in w8:
            lines += [f"### W8 / {t['workload']}: {t['title']} ({t['unit']})", ""]
            lines += table_lines(t, {}, "tcp's advantage", "memory vs tcp")
            lines += disturbed(t, {})
            lines.append("")
    if data["targets"]:
        lines += ["## Targets (issues 8 and 22)", "", "| target | this run | status |", "|---|---|---|"]
        lines += [f"| {t['target']} | {t['measured']} | {t['status']} |" for t in data["targets"]]
        met = sum(t["status"] == "met" for t in data["targets"])
        lines += ["", f"{met} of {len(data['targets'])} targets met in this run."]
    return "\n".join(lines) + "\n"


def foreign_summary(data: dict[str, Any]) -> str:
    """How much CPU other processes took during the runs, over the whole run."""
    shares = [f for t in data["tables"].values() for s in t["systems"].values() for f in s.get("foreign_cpu", [])]
    if not shares:
        return "not measured."
    discarded = sum(s.get("discarded", 0) for t in data["tables"].values() for s in t["systems"].values())
    return (f"each run first waits up to {data['sizes']['quiet_wait']} s for the machine to be under "
            f"{QUIET_BUSY:.0%} busy (this run waited {data['waited_s'] / 60:.1f} min in all); a run during which "
            f"processes outside the benchmark took over {DISTURBED:.0%} of the CPU is discarded and repeated, at "
            f"most {data['sizes']['retries']} times ({discarded} discarded in this run). In the runs kept, other "
            f"processes used a median {statistics.median(shares):.0%} and at most {max(shares):.0%} of the machine's "
            "CPU (from /proc/stat, less the CPU time of the harness and of each run's process tree).")


def disturbed(t: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """A note under a table whose runs shared the machine with noticeable other work."""
    hit = [f"{labels.get(label, label)} (up to {max(s['foreign_cpu']):.0%})" for label, s in t["systems"].items()
           if s.get("foreign_cpu") and max(s["foreign_cpu"]) > 0.10]
    return ["", f"Disturbed: other processes took over 10 % of the CPU during runs of {', '.join(hit)}."] if hit else []


def table_lines(t: dict[str, Any], labels: dict[str, str], ratio_name: str, memory_name: str) -> list[str]:
    lines = [f"| system | median {t['unit']} (min..max) | {ratio_name} | peak MB median (min..max) | "
             f"{memory_name} | runs |", "|---|---|---|---|---|---|"]
    for label, s in t["systems"].items():
        name = labels.get(label, label)
        if s.get("stopped_after"):
            bound, memory = t["ratio_bounds"].get(label), t["memory_ratio_bounds"].get(label)
            bound_text = "reference" if label == t["reference"] else f"over {fmt(bound)}x" if bound else "n/a"
            memory_text = f"over {fmt(memory)}x" if memory else "n/a"
            lines.append(f"| {name} | not finished: stopped at the {s['stopped_after']:.0f} s limit | {bound_text} | "
                         f"over {s['stopped_peak_mb']:,.0f} | {memory_text} | 0 |")
            continue
        if "median" not in s:
            lines.append(f"| {name} | failed: {s['error']} | | | | 0 |")
            continue
        ratio, memory = t["ratios"].get(label), t["memory_ratios"].get(label)
        ratio = "reference" if label == t["reference"] else fmt(ratio) + "x" if ratio else "n/a"
        memory = "reference" if label == t["reference"] else fmt(memory) + "x" if memory else "n/a"
        lines.append(f"| {name} | {fmt(s['median'])} ({fmt(s['min'])}..{fmt(s['max'])}) | {ratio} | "
                     f"{s['peak_mb_median']:,.0f} ({s['peak_mb_min']:,.0f}..{s['peak_mb_max']:,.0f}) | {memory} | "
                     f"{s['runs']} |")
    return lines


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (seconds per workload); bench/results/")
    size.add_argument("--smoke", action="store_true",
                      help="tiny sizes, for the test suite; runs under the client's .venv")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated, of: {','.join(SYSTEMS)}")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_IDS), help="comma-separated, of: W1,...,W8")
    parser.add_argument("--transports", default="", help="W8 only on these transports (default: all installed)")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default: 3 full, 2 quick, 1 smoke)")
    parser.add_argument("--out", default="", help="write benchmarks.md and benchmarks.json into this directory")
    parser.add_argument("--data-dir", default=str(BENCH / ".data"), help="where the W3 text is cached")
    args = parser.parse_args(argv)
    args.systems = [s for s in args.systems.split(",") if s]
    args.workloads = [w.upper() for w in args.workloads.split(",") if w]
    args.transports = [t for t in args.transports.split(",") if t]
    unknown = [s for s in args.systems if s not in SYSTEMS] + [w for w in args.workloads if w not in WORKLOAD_IDS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Unwinds through run_once, which kills its run.
    harness = Harness(parse_args(sys.argv[1:] if argv is None else argv))
    harness.run()
    if harness.failures:
        harness.log(f"{harness.failures} problem(s): see the report")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
