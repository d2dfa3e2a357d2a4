"""The virtual environments the compared systems run in, under bench/.venvs/ (not in git).

Each is made once from the pinned, complete list in bench/requirements/NAME.txt and remade when that list changes.
Downloads are cached in bench/.venvs/pip-cache, so a remade environment does not fetch PySpark again.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENVS = BENCH / ".venvs"
REQUIREMENTS = BENCH / "requirements"
MARKER = ".bench-requirements"

# Which environment each system runs in; None: the client's own .venv (Ember, and Py4J's floor with its py4j).
ENVIRONMENTS = {"pyspark": "pyspark", "pysparkling": "pysparkling", "dask": "dask"}


def client_python() -> Path:
    """The interpreter of the project's .venv, where the ember package is installed."""
    return ROOT / ".venv" / "bin" / "python"


def ensure(name: str, log=print) -> Path:
    """Makes (or reuses) bench/.venvs/NAME from bench/requirements/NAME.txt and returns its python."""
    wanted = (REQUIREMENTS / f"{name}.txt").read_text()
    home = VENVS / name
    python = home / "bin" / "python"
    marker = home / MARKER
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"setting up bench/.venvs/{name} from bench/requirements/{name}.txt")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--cache-dir", str(VENVS / "pip-cache"), "-r", str(REQUIREMENTS / f"{name}.txt")], check=True)
    marker.write_text(wanted)
    return python


def python_for(system: str, log=print) -> Path:
    """The interpreter a system's workloads run under (made on first use)."""
    if system in ENVIRONMENTS:
        return ensure(ENVIRONMENTS[system], log)
    if system in ("ember", "py4j"):
        return client_python()
    # Plain Python and multiprocessing need nothing installed: the harness's own interpreter.
    return Path(sys.executable)


def installed_version(python: Path, distribution: str) -> str:
    """The version of a distribution installed for that interpreter ('?' when it cannot be told)."""
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))",
                          distribution], capture_output=True, text=True)
    return out.stdout.strip() or "?"
