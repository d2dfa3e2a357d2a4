"""The wheel a user installs: built by scripts/build_wheel.py from the built distribution, installed into a fresh
venv outside the checkout that has nothing else of Ember's, and run from another directory with no Ember variables
and a home directory of its own, as a new user would (issue 20's "done when")."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
import zipfile
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class Installed:
    """A venv with only the wheel (and its two dependencies) installed."""

    def __init__(self, wheel: Path, venv: Path, home: Path, workdir: Path) -> None:
        self.wheel = wheel
        self.venv = venv
        self.home = home
        self.workdir = workdir

    @property
    def site_runtime(self) -> Path:
        found = list((self.venv / "lib").glob("python*/site-packages/ember/_runtime"))
        assert len(found) == 1, found
        return found[0]

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("EMBER_", "XDG_", "PYTHON", "VIRTUAL_ENV"))}
        env["HOME"] = str(self.home)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *command: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([str(self.venv / "bin" / command[0]), *command[1:]], cwd=self.workdir, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_wheel.py"), "--out", str(base / "dist")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = Path(built.stdout.strip().splitlines()[-1])
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(wheel)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    home = base / "home"
    workdir = base / "elsewhere"
    home.mkdir()
    workdir.mkdir()
    yield Installed(wheel, venv, home, workdir)


def test_the_wheel_holds_the_runtime_and_nothing_made_for_this_machine(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        infos = {info.filename: info for info in wheel.infolist()}
        metadata = wheel.read(next(name for name in infos if name.endswith(".dist-info/METADATA"))).decode()
    names = set(infos)
    runtime = "ember/_runtime/"
    for required in ("bin/ember", "lib/dev.ember.launcher.jar", "lib/ember.packaged", "conf/spark-defaults.conf",
                     "conf/dev.ember.gateway.py4j.cfg"):
        assert runtime + required in names, required
    assert "ember/py.typed" in names
    assert any(re.fullmatch(r"ember/_runtime/lib/org\.apache\.felix\.framework-[\d.]+\.jar", n) for n in names)
    bundles = {n.split("/")[-1].split("-")[0] for n in names if n.startswith(runtime + "bundle/")}
    assert {"dev.ember.api", "dev.ember.engine", "dev.ember.gateway.py4j", "dev.ember.transport.tcp",
            "dev.ember.codec.pickle"} <= bundles
    # Left out: archives only good for the build's own Java, the cluster's 21 MB, anything a run writes.
    assert not [n for n in names if n.endswith(".jsa") or "hazelcast" in n or "engine.cluster" in n
                or n.startswith((runtime + "run/", runtime + "logs/"))]
    assert stat.S_IMODE(infos[runtime + "bin/ember"].external_attr >> 16) & 0o111
    assert installed.wheel.stat().st_size < 5 * 2**20
    # Ranges, not pins, for what the user's venv shares with other packages.
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.M)
    assert any(r.replace(" ", "").startswith("py4j") and "<0.11" in r for r in requires), requires
    assert any(r.replace(" ", "").startswith("cloudpickle") and "<4" in r for r in requires), requires
    assert "Apache-2.0" in metadata


def expected_word_counts() -> tuple[int, list[tuple[str, int]]]:
    """What examples/wordcount.py must print, computed in plain Python."""
    counts: Counter[str] = Counter()
    for path in sorted((EXAMPLES / "data").iterdir()):
        for line in path.read_text().splitlines():
            counts.update(re.findall(r"[a-z']+", line.lower()))
    top = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:10]
    return sum(counts.values()), top


def test_ember_submit_runs_the_word_count_from_anywhere(installed: Installed) -> None:
    proc = installed.run("ember-submit", str(EXAMPLES / "wordcount.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    total, top = expected_word_counts()
    assert f"{total} words; the 10 most frequent:" in proc.stdout
    printed = [tuple(line.split()) for line in proc.stdout.splitlines()[1:]]
    assert printed == [(str(count), word) for word, count in top]


def test_ember_shell_runs_a_command_with_sc_ready(installed: Installed) -> None:
    proc = installed.run("ember-shell", "-c", "print(sc.parallelize(range(10)).sum()); print(sc.master)")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == [str(sum(range(10))), "local[*]"]
    failing = installed.run("ember-shell", "-c", "raise SystemExit(4)")
    assert failing.returncode == 4


def test_state_goes_to_the_user_never_into_site_packages(installed: Installed) -> None:
    runtime = installed.site_runtime
    before = {p: p.stat().st_mtime for p in runtime.rglob("*")}
    for _ in range(2):  # The first run writes the class-data-sharing archive at its exit, the second takes it.
        proc = installed.run("ember-shell", "-c", "print(sc.parallelize(range(4), 2).count())")
        assert proc.returncode == 0 and proc.stdout.split() == ["4"], proc.stdout + proc.stderr
    cache = installed.home / ".cache" / "ember"
    archives = list((cache / "cds").glob("*/ember.jsa"))
    assert len(archives) == 1, list(cache.rglob("*"))
    assert list((cache / "logs").glob("driver-*.log"))
    state = installed.home / ".local" / "state" / "ember"
    assert (state / "conf" / "spark-defaults.conf").read_text() == (runtime / "conf" / "spark-defaults.conf").read_text()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    after = {p: p.stat().st_mtime for p in runtime.rglob("*")}
    assert after == before, "the runtime in site-packages changed: " + str(set(after) ^ set(before))


def test_ember_submit_takes_spark_submits_options(installed: Installed) -> None:
    work = installed.workdir / "submit"
    work.mkdir(exist_ok=True)
    (work / "helper_lib.py").write_text("def triple(x):\n    return 3 * x\n")
    (work / "lookup.txt").write_text("seven\n")
    (work / "app.properties").write_text("spark.ember.fromFile  yes\nspark.app.name from-file\n")
    script = work / "app.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        from ember import SparkConf, SparkContext, SparkFiles
        import helper_lib  # from --py-files, importable before any context exists
        sc = SparkContext(conf=SparkConf())
        conf = sc.getConf()
        def read(_):
            with open(SparkFiles.get("lookup.txt")) as f:
                return f.read().strip()
        print("REPORT " + json.dumps({
            "args": sys.argv[1:], "master": sc.master, "app": sc.appName,
            "fromFile": conf.get("spark.ember.fromFile"), "flag": conf.get("spark.ember.flag"),
            "javaOptions": conf.get("spark.driver.extraJavaOptions"),
            "tripled": sc.parallelize([1, 2], 2).map(lambda x: helper_lib.triple(x)).collect(),
            "file": sc.parallelize([0], 1).map(read).collect(),
        }))
        sc.stop()
        sys.exit(3)
    """))
    proc = installed.run("ember-submit", "--master", "local[1]", "--name", "submitted", "--conf",
                         "spark.ember.flag=on", "--properties-file", str(work / "app.properties"),
                         "--py-files", str(work / "helper_lib.py"), "--files", str(work / "lookup.txt"),
                         "--driver-java-options", "-Xmx256m", str(script), "first", "--second")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    import json
    report = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("REPORT "))[7:])
    assert report == {"args": ["first", "--second"], "master": "local[1]", "app": "submitted", "fromFile": "yes",
                      "flag": "on", "javaOptions": "-Xmx256m", "tripled": [3, 6], "file": ["seven"]}
    bad = installed.run("ember-submit", "--conf", "no-equals-sign", str(script))
    assert bad.returncode == 2 and "--conf expects KEY=VALUE" in bad.stderr
    missing = installed.run("ember-submit", str(work / "absent.py"))
    assert missing.returncode == 2 and "absent.py: no such file" in missing.stderr
