"""The test helpers PySpark's tests import, written for running them against Ember (conformance harness only)."""

import unittest


def main() -> None:
    """What ``python test_x.py`` runs (the harness itself runs the files with pytest)."""
    unittest.main(verbosity=2)
