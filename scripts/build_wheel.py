"""Builds the wheel a user installs: the ember package with the Ember runtime inside (ember/_runtime).

    .venv/bin/python scripts/build_wheel.py [--out DIR]

Needs the built distribution (launcher/target/ember, from the Maven build). The wheel holds the launcher, Felix and
Ember's bundles, the configuration and the optional transports (~3 MB of jars); not the cluster scheduler and
Hazelcast (21 MB, for ember-cluster:// masters, which need a built distribution on every member anyway), and not the
build's class-data-sharing archive, which is only good for the Java build that made it: an installed runtime writes
its own into ~/.cache/ember on first use (see bin/ember). lib/ember.packaged marks the runtime as installed, so it
keeps its state (conf/, load/, run/, logs/) per user instead of in site-packages.

The package is staged in python-client/target/wheel/ (the checkout's ember/ directory stays as it is) and built
there with pip and the venv's pinned setuptools; the wheel is written to dist/ and its path printed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "python-client"
DISTRIBUTION = ROOT / "launcher" / "target" / "ember"
STAGING = CLIENT / "target" / "wheel"

# Parts of the built distribution the wheel leaves out (see the module's docstring), as glob patterns.
LEFT_OUT = ["lib/ember.jsa", "lib/ember.jsa.*", "extras/hazelcast-*.jar", "extras/dev.ember.engine.cluster-*.jar",
            "run", "logs", "load/*"]
PACKAGED_NOTE = """\
This Ember runtime was installed with the Python package: it keeps its state per user (see bin/ember).
"""


def stage_runtime(target: Path) -> None:
    if not (DISTRIBUTION / "bin" / "ember").is_file():
        raise SystemExit(f"build_wheel: no built distribution at {DISTRIBUTION}: run the Maven build first "
                         f"(./build.sh, or mvn -q install -DskipTests)")
    shutil.copytree(DISTRIBUTION, target, symlinks=False)
    for pattern in LEFT_OUT:
        for path in target.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    (target / "load").mkdir(exist_ok=True)
    (target / "lib" / "ember.packaged").write_text(PACKAGED_NOTE)
    # pip keeps the mode of the files a wheel holds; make sure the launcher script can be run.
    (target / "bin" / "ember").chmod(0o755)


def stage_package() -> Path:
    if STAGING.exists():
        shutil.rmtree(STAGING)
    STAGING.mkdir(parents=True)
    if not (CLIENT / "ember" / "_version.py").exists():
        raise SystemExit("build_wheel: python-client/ember/_version.py is missing: install the client first "
                         "(scripts/make-venv.sh), whose build writes it from .mvn/maven.config")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(CLIENT / name, STAGING / name)
    for name in ("LICENSE", "NOTICE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, STAGING / name)
    shutil.copytree(CLIENT / "ember", STAGING / "ember",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_runtime"))
    stage_runtime(STAGING / "ember" / "_runtime")
    return STAGING


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where the wheel goes (default: dist/)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    staged = stage_package()
    for old in out.glob("ember-*.whl"):
        old.unlink()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(staged)], check=True)
    wheels = sorted(out.glob("ember-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"build_wheel: expected one wheel in {out}, found {wheels}")
    print(wheels[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
