#!/usr/bin/env bash
# Builds Ember from a fresh checkout and runs the pi example end to end:
#   1. the Maven reactor (bundles, launcher, distribution in launcher/target/ember),
#   2. .venv/ with the ember client installed (editable),
#   3. the distribution's class-data-sharing archive retrained from a real session (scripts/train_cds.py),
#   4. the wheel with the runtime inside, in dist/ (scripts/build_wheel.py),
#   5. examples/pi.py and examples/wordcount.py on the embedded local distribution.
# Unit and in-framework tests are left to ./test.sh.
set -euo pipefail
cd "$(dirname "$0")"
command -v java >/dev/null || { echo "build.sh: Java 17 is needed (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "build.sh: Maven is needed (apt-get install maven)" >&2; exit 1; }
mvn -B -ntp -q install -DskipTests
./scripts/make-venv.sh
# The class-data-sharing archive from a real session (the build's own covers the boot only): a faster first job.
.venv/bin/python scripts/train_cds.py || true
# The wheel a user installs in a venv of their own, with the runtime inside: dist/ember-<version>-py3-none-any.whl.
.venv/bin/python scripts/build_wheel.py
.venv/bin/python examples/pi.py
.venv/bin/python examples/wordcount.py
