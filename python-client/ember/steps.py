"""Per-record steps (map, flatMap, filter) fused into one loop.

A stage's narrow transformations compose into one function per stage (ember.plan). Per-record steps that follow
one another compose further: instead of one generator per step, each pulling records from the one before, the
chain runs as one generator with a nested loop per flatMap, so a record costs one generator resumption whatever the
number of steps. In a word count (flatMap then map, then the map-side combine) that is about a tenth of a worker's
time. A shuffle's map-side combine runs the steps before it in its own loop, made from the same lines
(``ember.merge``). The loop for each shape of chain (``("flatMap", "map")``, say) is generated once per process
and cached; the generated code holds no user data, only the step kinds.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from ember.errors import stop_iteration_error

MAP = "map"
FLAT_MAP = "flatMap"
FILTER = "filter"
MAP_VALUES = "mapValues"  # (k, v) -> (k, f(v))
FLAT_MAP_VALUES = "flatMapValues"  # (k, v) -> (k, w) for each w in f(v)
KEYS = "keys"  # (k, v) -> k; no function
VALUES = "values"  # (k, v) -> v; no function
# A map whose function only pairs its record with a literal constant (ember.idioms): x -> (x, c), with c in place of
# a function; and x -> (x, 1), the counting idiom, with none.
PAIR_WITH = "pairWith"
PAIR_WITH_ONE = "pairWithOne"

# A step's kind and its function (for PAIR_WITH its constant; None for the kinds that take neither).
Step = tuple[str, Any]

_loops: dict[tuple[str, ...], Callable[..., Iterator[Any]]] = {}


class RecordSteps:
    """A partition function made of per-record steps, applied in order to each record. Module-level (pickled by
    name), so a stage command carries only the user's functions."""

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps

    def after(self, earlier: "RecordSteps") -> "RecordSteps":
        return RecordSteps(earlier.steps + self.steps)

    def __call__(self, _split: int, iterator: Iterator[Any]) -> Iterator[Any]:
        kinds = tuple(kind for kind, _ in self.steps)
        loop = _loops.get(kinds) or _compile(kinds)
        return loop(iterator, *(f for _, f in self.steps))


def _compile(kinds: tuple[str, ...]) -> Callable[..., Iterator[Any]]:
    """The generator running steps of these kinds (a pair step indexes its record as the lambda it replaces would:
    ``(kv[0], f(kv[1]))`` for mapValues). For (flatMap, map, filter) it is, in effect,
    ``for x0 in records: for x1 in f0(x0): x2 = f1(x1); if f2(x2): yield x2``. As for a single step, a
    StopIteration a user's function raises becomes the error of ``stop_iteration_error`` instead of ending the
    partition early."""
    functions = [f"f{i}" for i in range(len(kinds))]
    lines = [f"def run(records, {', '.join(functions)}):", "    try:", "        for x0 in records:"]
    current, indent = step_lines(kinds, lines, " " * 12)
    lines += [f"{indent}yield {current}",
              "    except StopIteration as e:",
              "        raise stop_iteration_error(e) from None"]
    loop = generate(lines, "+".join(kinds), {})
    _loops[kinds] = loop
    return loop


# Steps that turn each record into exactly one: the expression of the new record (``x`` the record, ``f`` the step's
# function, or PAIR_WITH's constant).
_ASSIGNED = {MAP: "{f}({x})", MAP_VALUES: "({x}[0], {f}({x}[1]))", PAIR_WITH: "({x}, {f})", PAIR_WITH_ONE: "({x}, 1)",
             KEYS: "{x}[0]", VALUES: "{x}[1]"}


def step_lines(kinds: tuple[str, ...], lines: list[str], indent: str) -> tuple[str, str]:
    """Appends the code of steps of these kinds, applied to the record ``x0``, as functions ``f0``, ``f1``, ...
    (PAIR_WITH's ``f`` is its constant); returns the variable that holds a record after the last step, and the
    indentation of the code that takes it."""
    current = "x0"
    for i, kind in enumerate(kinds):
        if kind in _ASSIGNED:
            lines.append(f"{indent}x{i + 1} = " + _ASSIGNED[kind].format(x=current, f=f"f{i}"))
            current = f"x{i + 1}"
        elif kind == FLAT_MAP:
            lines.append(f"{indent}for x{i + 1} in f{i}({current}):")
            current = f"x{i + 1}"
            indent += "    "
        elif kind == FILTER:
            lines.append(f"{indent}if f{i}({current}):")
            indent += "    "
        elif kind == FLAT_MAP_VALUES:
            lines.append(f"{indent}for v{i + 1} in f{i}({current}[1]):")
            indent += "    "
            lines.append(f"{indent}x{i + 1} = ({current}[0], v{i + 1})")
            current = f"x{i + 1}"
        else:
            raise ValueError(f"unknown record step {kind!r}")
    return current, indent


def generate(lines: list[str], name: str, names: dict[str, Any]) -> Callable[..., Iterator[Any]]:
    """The function ``run`` that these lines define, compiled with ``names`` (and stop_iteration_error) global."""
    namespace: dict[str, Any] = {"stop_iteration_error": stop_iteration_error, **names}
    exec(compile("\n".join(lines), f"<ember record steps {name}>", "exec"), namespace)
    return namespace["run"]
