"""Ember's API is typed for a type checker: mypy (--strict) accepts a typed program using it and reveals the record
types it should (typing_samples/ok.py), reports the type errors a generic RDD catches (typing_samples/bad.py), and
finds no errors anywhere in the package.

mypy runs in a subprocess, with the client directory on MYPYPATH: an editable install is found by an import hook
that mypy does not run, and the samples must see this checkout's ember.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ember

SAMPLES = Path(__file__).resolve().parent / "typing_samples"
CLIENT_DIR = Path(ember.__file__).resolve().parent.parent

# file:line: severity: message  [code]
MYPY_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*?)"
                       r"(?:  \[(?P<code>[a-z-]+)\])?$")


def run_mypy(*args: str, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=str(CLIENT_DIR))
    proc = subprocess.run([sys.executable, "-m", "mypy", "--show-error-codes", "--no-error-summary",
                           "--no-color-output", "--no-pretty", "--cache-dir", str(cache_dir), *args],
                          cwd=str(CLIENT_DIR), env=env, capture_output=True, text=True, timeout=300)
    assert "No module named mypy" not in proc.stderr, "mypy is not installed: it is in the client's test extra"
    assert proc.returncode in (0, 1), f"mypy failed to run (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
    return proc


def parse(output: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in map(MYPY_LINE.match, output.splitlines()) if m]


def marked_lines(path: Path, marker: str) -> dict[int, str]:
    """Line number -> what follows ``# <marker>: `` at the end of that line."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(rf"  # {marker}: (.+)$", line)
        if m:
            found[number] = m.group(1).strip()
    return found


@pytest.fixture(scope="module")
def samples_checked(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """mypy --strict's messages about both samples (one run: mypy takes seconds to load the package)."""
    proc = run_mypy("--python-version", "3.11", "--strict", "--follow-imports=silent",
                    str(SAMPLES / "ok.py"), str(SAMPLES / "bad.py"), cache_dir=tmp_path_factory.mktemp("mypy"))
    return parse(proc.stdout)


def test_a_typed_program_passes_and_reveals_the_record_types(samples_checked: list[dict[str, str]]) -> None:
    ok = [m for m in samples_checked if m["file"].endswith("ok.py")]
    errors = [f"ok.py:{m['line']}: {m['message']}" for m in ok if m["severity"] == "error"]
    assert not errors, "mypy --strict rejects ok.py:\n" + "\n".join(errors)
    revealed = {int(m["line"]): m["message"] for m in ok if m["message"].startswith("Revealed type is ")}
    expected = marked_lines(SAMPLES / "ok.py", "R")
    assert len(expected) > 60
    wrong = [f"ok.py:{line}: expected {want}, mypy says {revealed.get(line, 'nothing')}"
             for line, want in sorted(expected.items()) if revealed.get(line) != f'Revealed type is "{want}"']
    assert not wrong, "\n".join(wrong)


def test_type_errors_are_found_exactly_where_expected(samples_checked: list[dict[str, str]]) -> None:
    found: dict[int, set[str]] = {}
    for m in samples_checked:
        if m["file"].endswith("bad.py") and m["severity"] == "error":
            found.setdefault(int(m["line"]), set()).add(m["code"] or "")
    expected = {line: {code.strip() for code in codes.split(",")}
                for line, codes in marked_lines(SAMPLES / "bad.py", "E").items()}
    assert len(expected) >= 15
    assert found == expected, "\n".join(
        f"bad.py:{line}: expected {sorted(expected.get(line, []))}, mypy found {sorted(found.get(line, []))}"
        for line in sorted(set(found) | set(expected)) if found.get(line) != expected.get(line))


@pytest.mark.parametrize("python_version", ["3.9", "3.11"])
def test_the_package_has_no_errors(tmp_path: Path, python_version: str) -> None:
    """mypy without --strict on the whole package (3.9 is the oldest Python the client supports) finds no error in
    any of its modules. Py4J and cloudpickle ship no types: their imports are Any."""
    proc = run_mypy("--python-version", python_version, "--ignore-missing-imports", "-p", "ember",
                    cache_dir=tmp_path)
    errors = [f"{m['file']}:{m['line']}: {m['message']}  [{m['code']}]" for m in parse(proc.stdout)
              if m["severity"] == "error"]
    assert not errors, "\n".join(errors)
    # mypy exits 1 on any error, also one MYPY_LINE does not read (an error without a line number, say).
    assert proc.returncode == 0, proc.stdout + proc.stderr
