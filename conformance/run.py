#!/usr/bin/env python3
"""Runs PySpark's own tests and doctests on PySpark 4.3.0 and on Ember, and writes RESULTS.md.

    python3 conformance/run.py                 # both implementations, then the report
    python3 conformance/run.py --only ember    # one implementation (the other's last results are kept)
    python3 conformance/run.py --report        # RESULTS.md from the saved results only
    python3 conformance/run.py -k test_rdd     # only test files whose name contains this (no report)

Each implementation gets a venv of its own under conformance/.venvs/ (made on first use from the pinned
requirements-*.txt). PySpark's venv has pyspark==4.3.0; Ember's has the ember client (editable, from this checkout)
and never pyspark: there, the ``shim/`` directory stands first on the path and its ``pyspark`` package re-exports
Ember's modules under PySpark's names. The test files are PySpark's, pinned in MANIFEST.tsv and kept (not
committed) in conformance/pyspark-tests/; see README.md for how to fetch them.

Results go to results/<implementation>.json (committed: the pinned copy's results); RESULTS.md puts the two side
by side, file by file, with the tests listed in out_of_scope.tsv set apart with their reasons.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TESTS = HERE / "pyspark-tests"
TEST_FILES = TESTS / "python" / "pyspark" / "tests"
SUPPORT = TESTS / "python" / "test_support"
RESULTS = HERE / "results"
VENVS = HERE / ".venvs"
IMPLEMENTATIONS = ("pyspark", "ember")
# A test that hangs fails after this long instead of stopping the run.
TEST_TIMEOUT_SECONDS = 600


def sh(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, **kwargs)


def venv_python(name: str) -> Path:
    """The interpreter of an implementation's venv, made (with its pinned requirements) when missing."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    requirements = (HERE / f"requirements-{name}.txt").read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == requirements:
        return python
    print(f"run.py: setting up {venv}", flush=True)
    sh(sys.executable, "-m", "venv", "--clear", str(venv))
    sh(str(python), "-m", "pip", "install", "-q", "-r", str(HERE / f"requirements-{name}.txt"))
    if name == "ember":
        sh(str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT / "python-client"))
    stamp.write_text(requirements)
    return python


def check_test_files() -> list[Path]:
    """The pinned test files, each checked against MANIFEST.tsv; stops with what to do when one is missing."""
    problems, files = [], []
    for line in (HERE / "MANIFEST.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        path, commit, _chars, digest = line.split("\t")
        local = TESTS / path
        if not local.exists():
            problems.append(f"missing: {path} (apache/spark at {commit})")
        elif hashlib.sha256(local.read_bytes()).hexdigest() != digest:
            problems.append(f"changed: {path} (its sha256 is not the pinned one)")
        elif local.parent == TEST_FILES:
            files.append(local)
    if problems:
        sys.exit("run.py: the pinned PySpark test files are not all in conformance/pyspark-tests/:\n  "
                 + "\n  ".join(problems) + "\nFetch them as conformance/README.md says.")
    return sorted(files)


def make_support_files() -> None:
    """Test data the tests read that the public index does not hold, made from what the tests expect of it."""
    hello = SUPPORT / "hello" / "hello.txt"
    hello.parent.mkdir(parents=True, exist_ok=True)
    hello.write_text("Hello World!\n")
    archive = SUPPORT / "userlib-0.1.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("userlib/lib.py", "class UserClass(object):\n    def hello(self):\n"
                                     "        return 'Hello World from inside a package!'\n")
        z.writestr("userlib/__init__.py", "from userlib.lib import UserClass\n")


def environment(name: str, python: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # As PySpark's own test runner: string hashes alike in driver and workers.
    env["PYTHONHASHSEED"] = "0"
    env["PYSPARK_PYTHON"] = str(python)
    env["PYSPARK_DRIVER_PYTHON"] = str(python)
    env["PYTHONPATH"] = str(HERE / "plugins")
    if name == "ember":
        env["PYTHONPATH"] = os.pathsep.join([str(HERE / "shim"), str(HERE / "plugins")])
        env["EMBER_HOME"] = str(ROOT / "launcher" / "target" / "ember")
    return env


def link_support_into_pyspark(python: Path) -> None:
    """PySpark's tests find test_support under SPARK_HOME, which for a pip install is the pyspark package."""
    package = Path(subprocess.run([str(python), "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    link = package / "python" / "test_support"
    link.parent.mkdir(exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(SUPPORT, target_is_directory=True)


def run_tests(name: str, files: list[Path]) -> dict[str, dict[str, str]]:
    """Runs each test file in its own pytest process; returns {file: {test id: outcome}}."""
    python = venv_python(name)
    if name == "pyspark":
        link_support_into_pyspark(python)
    env = environment(name, python)
    outcomes: dict[str, dict[str, str]] = {}
    for test_file in files:
        report = RESULTS / f".{name}-{test_file.stem}.xml"
        command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "isolation",
                   f"--timeout={TEST_TIMEOUT_SECONDS}",
                   f"--junitxml={report}", "-o", "junit_family=xunit1", str(test_file)]
        if name == "ember":
            command[3:3] = ["-p", "ember_errors"]
        started = time.monotonic()
        log = RESULTS / f".{name}-{test_file.stem}.log"
        with open(log, "w") as out:
            subprocess.run(command, env=env, cwd=str(TEST_FILES), stdout=out, stderr=subprocess.STDOUT)
        outcomes[test_file.name] = parse_junit(report)
        passed = sum(o == "passed" for o in outcomes[test_file.name].values())
        print(f"{name:8} {test_file.name:28} {passed:3}/{len(outcomes[test_file.name]):3} passed "
              f"({time.monotonic() - started:.0f} s)", flush=True)
        report.unlink(missing_ok=True)
    return outcomes


def parse_junit(report: Path) -> dict[str, str]:
    """{Class.test: "passed" | "skipped: why" | "failed: first line"} from a JUnit XML report."""
    if not report.exists():
        return {"<file>": "failed: pytest wrote no report (see the log)"}
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '').split('.')[-1]}.{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag == "skipped":
                outcome = "skipped: " + (child.get("message") or "")[:200]
            elif child.tag in ("failure", "error"):
                outcome = "failed: " + (child.get("message") or "").splitlines()[0][:300] if child.get(
                    "message") else "failed"
        outcomes[test_id] = outcome
    return outcomes


def run_doctests(name: str) -> dict[str, dict[str, str]]:
    """The rdd.py and context.py doctests (from the installed PySpark 4.3.0 sources) on one implementation."""
    sources = Path(subprocess.run([str(venv_python("pyspark")), "-c",
                                   "import os, pyspark; print(os.path.dirname(pyspark.__file__))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    python = venv_python(name)
    out = RESULTS / f".{name}-doctests.json"
    with open(RESULTS / f".{name}-doctests.log", "w") as log:
        subprocess.run([str(python), str(HERE / "doctests.py"), str(sources), str(out)],
                       env=environment(name, python), cwd=str(HERE), stdout=log, stderr=subprocess.STDOUT)
    results = json.loads(out.read_text()) if out.exists() else {}
    out.unlink(missing_ok=True)
    for module, outcomes in results.items():
        passed = sum(o == "passed" for o in outcomes.values())
        print(f"{name:8} doctests of {module + '.py':16} {passed:3}/{len(outcomes):3} passed", flush=True)
    return {f"doctest {module}.py": outcomes for module, outcomes in results.items()}


def out_of_scope() -> dict[str, str]:
    """{key: reason} from out_of_scope.tsv; a key is file::Class.test, or ends in ``*`` for a class or file."""
    listed = {}
    for line in (HERE / "out_of_scope.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            key, reason = line.split("\t", 1)
            listed[key] = reason
    return listed


def scope_reason(scope: dict[str, str], key: str) -> str | None:
    """Why a test (``file::Class.test``) is out of scope, or None: its own entry, its class's or its file's."""
    if key in scope:
        return scope[key]
    group, _, test = key.partition("::")
    for pattern in (f"{group}::{test.split('.')[0]}.*", f"{group}::*"):
        if pattern in scope:
            return scope[pattern]
    return None


def summary(outcome: str) -> str:
    """One line of an outcome: doctests report many lines, of which the last say what went wrong."""
    lines = [line.strip() for line in outcome.splitlines() if line.strip() and not line.strip().startswith("*")]
    if len(lines) <= 1:
        return outcome[:240]
    return f"{lines[0][:40]} ... {lines[-1][:200]}"


def report() -> None:
    """RESULTS.md from results/pyspark.json and results/ember.json."""
    data = {name: json.loads((RESULTS / f"{name}.json").read_text()) for name in IMPLEMENTATIONS}
    scope = out_of_scope()
    rows, failing, excluded, baseline_failing = [], [], [], []
    totals = {"tests": 0, "pyspark": 0, "ember": 0, "out": 0}
    groups = sorted(set(data["pyspark"]["results"]) | set(data["ember"]["results"]),
                    key=lambda g: (g.startswith("doctest"), g))
    for group in groups:
        base = data["pyspark"]["results"].get(group, {})
        ember = data["ember"]["results"].get(group, {})
        tests = sorted(set(base) | set(ember))
        passing_base = [t for t in tests if base.get(t) == "passed"]
        in_scope = [t for t in passing_base if scope_reason(scope, f"{group}::{t}") is None]
        passing_ember = [t for t in in_scope if ember.get(t) == "passed"]
        out = [t for t in passing_base if scope_reason(scope, f"{group}::{t}") is not None]
        rows.append(f"| {group} | {len(tests)} | {len(passing_base)} | {len(out)} | {len(passing_ember)} of "
                    f"{len(in_scope)} |")
        totals["tests"] += len(tests)
        totals["pyspark"] += len(passing_base)
        totals["out"] += len(out)
        totals["ember"] += len(passing_ember)
        failing += [f"- `{group}::{t}`: {summary(ember.get(t, 'not run'))}" for t in in_scope
                    if t not in passing_ember]
        excluded += [f"- `{group}::{t}`: {scope_reason(scope, f'{group}::{t}')} (on Ember: "
                     f"{summary(ember.get(t, 'not run'))[:100]})" for t in out]
        baseline_failing += [f"- `{group}::{t}`: {summary(base.get(t, 'not run'))[:200]}" for t in tests
                             if base.get(t) != "passed"]
    passing_keys = [f"{g}::{t}" for g in groups for t, o in data["pyspark"]["results"].get(g, {}).items()
                    if o == "passed"]
    stale = sorted(k for k in scope if not any(k == p or (k.endswith("*") and p.startswith(k[:-1]))
                                                for p in passing_keys))
    in_scope_total = totals["pyspark"] - totals["out"]
    text = [
        "# PySpark's tests on Ember",
        "",
        "Generated by `python3 conformance/run.py` (see README.md); do not edit by hand.",
        f"PySpark {data['pyspark']['version']} run {data['pyspark']['date']}; "
        f"Ember {data['ember']['version']} run {data['ember']['date']} (commit {data['ember']['commit']}).",
        "",
        f"**{totals['ember']} of the {in_scope_total} in-scope tests and doctests that pass on PySpark pass on "
        f"Ember**; {totals['out']} more that pass on PySpark are out of scope (listed below with the reason).",
        "",
        "Columns: tests in the file (unittest methods, or docstrings with examples); those passing on PySpark; of "
        "those, out of scope for Ember; Ember's passes among the in-scope rest.",
        "",
        "| file | tests | pass on PySpark | out of scope | pass on Ember |",
        "|---|---|---|---|---|",
        *rows,
        f"| **all** | {totals['tests']} | {totals['pyspark']} | {totals['out']} | {totals['ember']} of "
        f"{in_scope_total} |",
        "",
        "## In scope, failing on Ember",
        "",
        *(failing or ["None."]),
        "",
        "## Out of scope (pass on PySpark, not expected of Ember)",
        "",
        *(excluded or ["None."]),
        "",
        "## Not counted: these fail or are skipped on PySpark 4.3.0 itself on this machine",
        "",
        *(baseline_failing or ["None."]),
    ]
    if stale:
        text += ["", "## Listed in out_of_scope.tsv but not passing on PySpark (stale entries)", "",
                 *(f"- `{k}`" for k in stale)]
    (HERE / "RESULTS.md").write_text("\n".join(text) + "\n")
    print(f"run.py: wrote {HERE / 'RESULTS.md'}: Ember passes {totals['ember']} of {in_scope_total} in scope")


def version_of(name: str) -> str:
    code = "import pyspark; print(pyspark.__version__)" if name == "pyspark" else \
        "import ember; print(ember.__version__)"
    return subprocess.run([str(venv_python(name)), "-c", code], capture_output=True, text=True,
                          env=environment(name, venv_python(name))).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=IMPLEMENTATIONS)
    parser.add_argument("--report", action="store_true", help="only write RESULTS.md from the saved results")
    parser.add_argument("-k", dest="pattern", help="only test files whose name contains this; no report")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if not args.report:
        files = check_test_files()
        if args.pattern:
            files = [f for f in files if args.pattern in f.name]
        make_support_files()
        for name in [args.only] if args.only else IMPLEMENTATIONS:
            results = run_tests(name, files)
            if not args.pattern:
                results.update(run_doctests(name))
            commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True).stdout.strip()
            saved = {"version": version_of(name), "date": time.strftime("%Y-%m-%d"), "commit": commit,
                     "results": results}
            target = RESULTS / (f"{name}.json" if not args.pattern else f".{name}-partial.json")
            target.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        if args.pattern:
            return
    report()


if __name__ == "__main__":
    main()
