"""Where the start-up goes: SparkContext() to the first result of parallelize([1]).count(), cold, split into phases.

    .venv/bin/python bench/startup.py [--quick]

Each run is a fresh driver process with EMBER_TRACE_START=1, so the JVM prints its boot timeline (wall-clock
milliseconds) into the log the driver keeps; the driver notes when it launched the JVM. The phases:

  import     `from ember import SparkContext`
  JVM        bin/ember and the JVM's own start, to the launcher's main()
  framework  Felix created, initialised, bundles installed, framework started
  bundles    Ember's bundles started, to the gateway listening (the conn-info file written)
  connect    the driver sees the conn-info file, connects through Py4J, opens its session and side socket
  first job  parallelize([1]).count(): plan, upload, the first worker (forked from a daemon started during the boot)

Baselines measured in the same run, each round running one of each in turn (the machine's speed drifts): a bare
JVM (`java -version`), a bare interpreter (`python -c pass`), and the OSGi container on its own: a copy of the
distribution with only Felix, ConfigAdmin, the Log Service and SCR (and the libraries SCR needs), booted the way a
driver boots Ember, to the moment SCR has started. The report gives Ember's total as a ratio to them. The ember
package's bytecode is compiled first, as an install leaves it. Each round also runs the driver with
spark.ui.enabled=false, for the web UI's share of the start-up, and, when a JDK 25 or newer is installed
(EMBER_BENCH_JAVA_HOME, else the first under /usr/lib/jvm), on that JDK with each kind of archive it offers.
Writes bench/STARTUP.md (bench/results/startup.md with --quick).
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("EMBER_HOME", ROOT / "launcher" / "target" / "ember"))

DRIVER = r'''
import json, os, re, sys, time
t0 = time.monotonic()
from ember import SparkConf, SparkContext
t_import = time.monotonic()
conf = SparkConf().set("spark.ui.enabled", os.environ["BENCH_UI"])
sc = SparkContext("local[2]", "startup", conf=conf)
t_ctx = time.monotonic()
assert sc.parallelize([1]).count() == 1
t_first = time.monotonic()
launched = sc._launched
trace = {m.group(2): int(m.group(1)) for m in re.finditer(r"ember-start @(\d+) ms: (.*)", launched.log_path.read_text())}
launched_wall = launched.started_at + (time.time() - time.monotonic())
sc.stop()
print("RESULT " + json.dumps({"t0": t0, "import": t_import, "ctx": t_ctx, "first": t_first,
                              "launched": launched.started_at, "launched_wall": launched_wall, "trace": trace}))
'''

PHASES = ["import", "JVM", "framework", "bundles", "connect", "first job", "total"]


def one_run(ui: bool = True, java: dict[str, str] | None = None) -> dict[str, float]:
    """One cold driver; ``java`` adds environment (JAVA_HOME, EMBER_JAVA_OPTS) for another JDK's runs."""
    env = dict(os.environ, EMBER_TRACE_START="1", EMBER_HOME=str(DIST), BENCH_UI=str(ui).lower(), **(java or {}))
    proc = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True, env=env, timeout=120)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"the start-up driver failed:\n{proc.stdout}\n{proc.stderr}")
    r = json.loads(line[len("RESULT "):])
    # The JVM's trace is in wall-clock milliseconds; these are seconds since the driver launched it.
    trace = {step: at / 1000 - r["launched_wall"] for step, at in r["trace"].items()}
    main = trace["main"]
    framework = next(v for k, v in trace.items() if k.startswith("framework started"))
    gateway = trace["started dev.ember.gateway.py4j"]
    return {
        "import": r["import"] - r["t0"],
        "JVM": main,
        "framework": framework - main,
        "bundles": gateway - framework,
        "connect": r["ctx"] - (r["launched"] + gateway),
        "first job": r["first"] - r["ctx"],
        "total": r["first"] - r["t0"],
    }


def timed(command: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(command, capture_output=True, check=True)
    return time.monotonic() - start


# What the container needs without Ember: the framework is in lib/; these are the bundles of its services.
CONTAINER_BUNDLES = ("org.apache.felix.configadmin-", "org.apache.felix.log-", "org.apache.felix.scr-",
                     "org.osgi.service.component-", "org.osgi.util.function-", "org.osgi.util.promise-")
CONTAINER_READY = "started org.apache.felix.scr"


def boot_until(home: Path, step: str, java_options: str = "") -> float:
    """Seconds from launching bin/ember (as a driver does, but exiting once booted) to the JVM's trace of `step`."""
    env = dict(os.environ, EMBER_TRACE_START="1", EMBER_JAVA_OPTS=java_options)
    if java_options:
        env["EMBER_NO_CDS"] = "1"
    launched = time.time()
    proc = subprocess.run([str(home / "bin" / "ember"), "run", "--exit-on-stdin-eof", "--exit-after-boot"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120)
    trace = {m.group(2): int(m.group(1)) for m in re.finditer(r"ember-start @(\d+) ms: (.*)", proc.stderr)}
    if proc.returncode != 0 or step not in trace:
        raise RuntimeError(f"{home} did not boot to '{step}':\n{proc.stdout}\n{proc.stderr}")
    return trace[step] / 1000 - launched


def container_only(workdir: Path) -> Path:
    """A copy of the distribution holding only the OSGi container, with a class-data-sharing archive of its own
    (trained by one boot, as the build trains Ember's)."""
    home = workdir / "container"
    shutil.copytree(DIST, home, symlinks=True)
    for jar in (home / "bundle").glob("*.jar"):
        if not jar.name.startswith(CONTAINER_BUNDLES):
            jar.unlink()
    archive = home / "lib" / "ember.jsa"
    archive.unlink(missing_ok=True)
    boot_until(home, CONTAINER_READY, f"-XX:ArchiveClassesAtExit={archive} -Xlog:cds=off -Xlog:cds+dynamic=off")
    return home


def newer_jdk() -> Path | None:
    """A JDK 25 or newer besides the default one (EMBER_BENCH_JAVA_HOME, else /usr/lib/jvm/*), or None."""
    candidates = [Path(os.environ["EMBER_BENCH_JAVA_HOME"])] if os.environ.get("EMBER_BENCH_JAVA_HOME") else sorted(
        Path("/usr/lib/jvm").glob("*"))
    for home in candidates:
        release = home / "release"
        if (home / "bin" / "java").is_file() and release.is_file():
            found = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.M)
            if found and int(found.group(1)) >= 25:
                return home
    return None


# The JDK 25 variants measured beside the default JDK: how each archive is written (by one training session, the
# build's own, scripts/train_cds.py) and then used.
JDK25_VARIANTS = {
    "class-data sharing (-XX:ArchiveClassesAtExit, as on JDK 17)":
        ("-XX:ArchiveClassesAtExit={file} -Xlog:cds=off -Xlog:cds+dynamic=off",
         "-XX:SharedArchiveFile={file} -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"),
    "AOT cache (JEP 483/514/515: -XX:AOTCacheOutput, then -XX:AOTCache)":
        ("-XX:AOTCacheOutput={file}", "-XX:AOTCache={file}"),
    "AOT cache and compact object headers (-XX:+UseCompactObjectHeaders)":
        ("-XX:AOTCacheOutput={file} -XX:+UseCompactObjectHeaders", "-XX:AOTCache={file} -XX:+UseCompactObjectHeaders"),
    "no archive": (None, ""),
}


def train(java_home: Path, options: str) -> None:
    """Runs the build's training session (scripts/train_cds.py's jobs) on ``java_home`` with ``options``."""
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import train_cds; "
            "train_cds.exercise(Path(sys.argv[2]))")
    env = dict(os.environ, EMBER_HOME=str(DIST), JAVA_HOME=str(java_home), EMBER_NO_CDS="1", EMBER_JAVA_OPTS=options)
    subprocess.run([sys.executable, "-c", code, str(ROOT / "scripts"), str(DIST)], env=env, check=True,
                   capture_output=True, timeout=300)


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 3 if quick else 15
    import ember
    compileall.compile_dir(str(Path(ember.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="ember-startup-") as workdir:
        container = container_only(Path(workdir))
        one_run()  # warm the page cache: the runs below are cold processes, not a cold disk
        one_run(ui=False)
        boot_until(container, CONTAINER_READY)
        jdk25 = newer_jdk()
        variants: dict[str, dict[str, str]] = {}
        for name, (write, use) in JDK25_VARIANTS.items() if jdk25 else ():
            archive = Path(workdir) / f"jdk25-{len(variants)}.archive"
            if write:
                train(jdk25, write.format(file=archive))
            variants[name] = {"JAVA_HOME": str(jdk25), "EMBER_NO_CDS": "1",
                              "EMBER_JAVA_OPTS": use.format(file=archive)}
            one_run(java=variants[name])
        results, without_ui, java, python, floor = [], [], [], [], []
        on_jdk25: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(runs):
            results.append(one_run())
            without_ui.append(one_run(ui=False)["total"])
            for name, env in variants.items():
                on_jdk25[name].append(one_run(java=env)["total"])
            java.append(timed(["java", "-XX:+UseSerialGC", "-Xshare:auto", "-version"]))
            python.append(timed([sys.executable, "-c", "pass"]))
            floor.append(boot_until(container, CONTAINER_READY))

    def stats(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} ms ({min(values) * 1000:.0f}..{max(values) * 1000:.0f})"

    total = statistics.median(r["total"] for r in results)
    with_ui = [r["total"] for r in results]
    ember_boot = [r["JVM"] + r["framework"] + r["bundles"] for r in results]
    lines = [
        "# Start-up: SparkContext() to the first result",
        "",
        f"Measured by `bench/startup.py{' --quick' if quick else ''}` on {date.today()}, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}; {runs} cold runs, median (min..max).",
        "",
        "| phase | time |",
        "|---|---|",
    ]
    for phase in PHASES:
        lines.append(f"| {phase} | {stats([r[phase] for r in results])} |")
    lines += [
        "",
        "Baselines in the same run (one of each after every Ember run):",
        "",
        f"- bare JVM (`java -XX:+UseSerialGC -version`): {stats(java)}; Ember's total is "
        f"{total / statistics.median(java):.1f}x that",
        f"- bare interpreter (`python -c pass`): {stats(python)}; Ember's total is "
        f"{total / statistics.median(python):.1f}x that",
        f"- the OSGi container alone (Felix, ConfigAdmin, Log Service, SCR; no Ember bundle), from launch to SCR "
        f"started: {stats(floor)}. Ember's JVM takes {stats(ember_boot)} from launch to its gateway, "
        f"{statistics.median(ember_boot) / statistics.median(floor):.2f}x that",
        "",
        "The web UI (the `dev.ember.ui` bundle, on by default) starts right after the gateway, beside the first job. "
        "The same driver with `spark.ui.enabled=false`, run after each of the runs above: total "
        f"{stats(without_ui)}; with the UI {stats(with_ui)}, "
        f"{statistics.median(with_ui) / statistics.median(without_ui):.3f}x that.",
        "",
        *jdk25_lines(jdk25, on_jdk25, total, stats),
        "The target is a total under 1 s (issue 7), under 0.5 s (issue 8, W1) and under 0.45 s (issue 22).",
    ]
    out = ROOT / "bench" / ("results/startup.md" if quick else "STARTUP.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def jdk25_lines(jdk25: Path | None, on_jdk25: dict[str, list[float]], total: float, stats: Callable) -> list[str]:
    """The report's paragraph on JDK 25: Ember's total there with each kind of archive, against the default JDK's."""
    if jdk25 is None:
        return ["No JDK 25 or newer was found (EMBER_BENCH_JAVA_HOME, /usr/lib/jvm), so only the default JDK was "
                "measured.", ""]
    version = re.search(r'^JAVA_RUNTIME_VERSION="([^"]+)', (jdk25 / "release").read_text(), re.M)
    lines = [f"The same driver on {jdk25} ({version.group(1) if version else 'JDK 25+'}), each run after the default "
             f"JDK's above, the archive written first by one training session (scripts/train_cds.py's jobs):", "",
             "| JDK 25 with | total | vs the default JDK |", "|---|---|---|"]
    for name, values in on_jdk25.items():
        lines.append(f"| {name} | {stats(values)} | {statistics.median(values) / total:.2f}x |")
    return lines + [""]


if __name__ == "__main__":
    main()
