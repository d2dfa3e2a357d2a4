"""Threads that keep the driver thread's local properties (job group, description, ...), as PySpark's do."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Optional

__all__ = ["InheritableThread", "inheritable_thread_target"]


def _current_properties() -> Optional[dict[str, str]]:
    from ember.context import SparkContext
    sc = SparkContext._active_spark_context
    return None if sc is None else dict(sc._local_properties())


def _adopt(properties: Optional[dict[str, str]]) -> None:
    from ember.context import SparkContext
    sc = SparkContext._active_spark_context
    if sc is not None and properties is not None:
        sc._local_properties().clear()
        sc._local_properties().update(properties)


def inheritable_thread_target(f: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a thread's target so it runs with the local properties of the thread that wrapped it."""
    properties = _current_properties()

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _adopt(properties)
        return f(*args, **kwargs)

    return wrapped


class InheritableThread(threading.Thread):
    """A thread whose jobs carry the local properties (``sc.setLocalProperty``, ``setJobGroup``) that its creator's
    thread had when it was created; a plain ``threading.Thread`` starts with none."""

    def __init__(self, target: Optional[Callable[..., Any]] = None, *args: Any, **kwargs: Any) -> None:
        self._inherited = _current_properties()
        # As PySpark's InheritableThread: further positional arguments go to Thread's own, group first. mypy cannot
        # tell that *args stops short of target (two or more would clash with it, at run time too).
        super().__init__(*args, target=target, **kwargs)  # type: ignore[misc]

    def run(self) -> None:
        _adopt(self._inherited)
        super().run()
