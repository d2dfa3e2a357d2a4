"""A plain module that test functions call into. cloudpickle pickles module-level functions of an importable module
by reference, so a worker can only run them if it imports this module itself (from the driver's sys.path)."""

from __future__ import annotations

import os
import sys

OFFSET = 1000


def shift(x: int) -> int:
    return x + OFFSET


def is_interesting(x: int) -> bool:
    return x % 11 == 5


def where(x: int) -> tuple[int, int, str, str, bool]:
    """(x, pid, module name, module file, whether this module is imported) as the calling process sees them."""
    return x, os.getpid(), __name__, os.path.realpath(__file__), __name__ in sys.modules


def fail_deep(x: int) -> int:
    if x == 7:
        raise KeyError(f"helper failed on {x}")
    return x


class FinalResetError(ConnectionResetError):
    """A ConnectionResetError that refuses subclasses, so the driver cannot combine it with its PythonException and
    raises it as itself (test_robustness)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError("FinalResetError cannot be subclassed")


def raise_final_reset(x: int) -> int:
    raise FinalResetError(104, f"the task's own reset on {x}")
