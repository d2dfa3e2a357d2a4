"""Finding what makes a function unpicklable, so the error can name it instead of just failing."""

from __future__ import annotations

import types
from typing import Any, Optional

import cloudpickle

MAX_DEPTH = 6


def _picklable(obj: Any) -> bool:
    try:
        cloudpickle.dumps(obj)
        return True
    except Exception:
        return False


def _type_name(obj: Any) -> str:
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def find_unpicklable(obj: Any, depth: int = 0) -> Optional[str]:
    """A path such as "closure variable 'conn' -> socket.socket" to the first part of ``obj`` that cannot be
    pickled, or None if it all pickles. Ember's own wrappers are looked through without appearing in the path."""
    if _picklable(obj):
        return None
    if depth >= MAX_DEPTH:
        return _type_name(obj)
    internal = getattr(obj, "__module__", "") or ""
    internal = internal.startswith("ember.") or internal == "ember"
    for label, part in _parts(obj):
        found = find_unpicklable(part, depth + 1)
        if found is not None:
            return found if internal or not label else f"{label} -> {found}"
    return _type_name(obj)


def _parts(obj: Any) -> list[tuple[str, Any]]:
    parts: list[tuple[str, Any]] = []
    if isinstance(obj, types.FunctionType):
        code = obj.__code__
        for name, cell in zip(code.co_freevars, obj.__closure__ or ()):
            try:
                parts.append((f"closure variable '{name}'", cell.cell_contents))
            except ValueError:
                pass
        for name in code.co_names:
            if name in obj.__globals__ and not isinstance(obj.__globals__[name], types.ModuleType):
                parts.append((f"global '{name}'", obj.__globals__[name]))
        for i, default in enumerate(obj.__defaults__ or ()):
            parts.append((f"default argument {i}", default))
    elif isinstance(obj, types.MethodType):
        parts.append(("bound object", obj.__self__))
    elif isinstance(obj, (list, tuple, set, frozenset)):
        parts.extend((f"item {i}", item) for i, item in enumerate(obj))
    elif isinstance(obj, dict):
        parts.extend((f"key {key!r}", value) for key, value in obj.items())
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        parts.extend((f"attribute '{name}'", value) for name, value in vars(obj).items())
    return parts
