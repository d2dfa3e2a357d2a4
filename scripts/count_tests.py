"""Totals the test reports of every suite and prints 'N passed, N failed'.

Exits non-zero if a test failed or errored, or if a suite ran no test (a suite that silently discovers nothing is
a failure, not a pass). Skipped tests are reported but never counted as passed.
"""

from __future__ import annotations

import glob
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    # Bundles and libs one level down, the launcher at the top.
    "JVM unit tests (Surefire)": ("*/*/target/surefire-reports/TEST-*.xml", "*/target/surefire-reports/TEST-*.xml"),
    "in-framework tests (bnd-testing)": ("itests/target/test-reports/*/TEST-*.xml",),
    "Python end-to-end tests (pytest)": ("python-client/target/pytest.xml",),
}


def count(patterns: tuple[str, ...]) -> tuple[int, int, int]:
    """(tests, failed, skipped) over every <testsuite> in the files matching the patterns."""
    tests = failed = skipped = 0
    for path in (path for pattern in patterns for path in glob.glob(str(ROOT / pattern))):
        root = ET.parse(path).getroot()
        for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    return tests, failed, skipped


def main() -> int:
    passed_total = failed_total = skipped_total = 0
    empty = []
    for name, patterns in SUITES.items():
        tests, failed, skipped = count(patterns)
        passed = tests - failed - skipped
        print(f"{name}: {passed} passed, {failed} failed, {skipped} skipped")
        if tests == 0:
            empty.append(name)
        passed_total += passed
        failed_total += failed
        skipped_total += skipped
    for name in empty:
        print(f"count_tests: {name} ran no test", file=sys.stderr)
    failed_total += len(empty)
    print(f"{passed_total} passed, {failed_total} failed" + (f", {skipped_total} skipped" if skipped_total else ""))
    return 1 if failed_total else 0


if __name__ == "__main__":
    sys.exit(main())
