"""User functions recognised by their code, so the fused loops (ember.steps, ember.merge) can run them inline.

Two one-line functions are most of what a counting program calls per record: ``lambda w: (w, 1)`` before a
reduceByKey, and ``lambda a, b: a + b`` as its function. Calling them is most of their cost (a Python call and a
tuple per record). A function is recognised only when its whole bytecode is one of these shapes: its positional
parameters used in order, a literal constant, no default, no closure, no global name. What such a function returns
depends on nothing else, so running its expression inline gives the same records, and the same errors, as calling
it. Anything else, including a function of the same meaning written differently, is called as usual.
"""

from __future__ import annotations

import operator
import types
from typing import TYPE_CHECKING, Any, Callable, Optional

from ember import steps

if TYPE_CHECKING:
    import dis

# Code flags of functions that are not plain: *args, **kwargs, generators, coroutines (either kind), async
# generators (inspect.CO_*, without importing inspect).
_NOT_PLAIN = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200
# Bytecode that does nothing: the marks 3.11 and later put at a function's start, padding and caches.
_NO_EFFECT = frozenset({"RESUME", "NOP", "CACHE", "EXTENDED_ARG"})
# Longer code is not one of the shapes below (which take 10-12 bytes in 3.9 to 3.13), so dis is not run on it.
_MAX_CODE_BYTES = 32


def _instructions(f: Any, parameters: int) -> Optional[list[dis.Instruction]]:
    """The instructions of ``f`` if it is a plain Python function of exactly ``parameters`` positional parameters,
    no defaults and no closure, else None."""
    if type(f) is not types.FunctionType:
        return None
    code = f.__code__
    if (code.co_argcount != parameters or code.co_kwonlyargcount or code.co_flags & _NOT_PLAIN
            or f.__closure__ or f.__defaults__ or len(code.co_code) > _MAX_CODE_BYTES):
        return None
    import dis  # Here: it is 2-3 ms of a driver's start-up, and most functions never get this far.
    return [i for i in dis.get_instructions(code) if i.opname not in _NO_EFFECT]


def _loads_parameters(instructions: list[dis.Instruction], count: int) -> Optional[int]:
    """How many instructions at the start load exactly the first ``count`` local slots, the parameters, in order (one
    LOAD_FAST each, or 3.13's LOAD_FAST_LOAD_FAST for two), or None if they do not. Slots, not names: a code object
    built by hand may give two slots one name."""
    loaded: list[int] = []
    used = 0
    for instruction in instructions:
        if len(loaded) >= count:
            break
        slot = instruction.arg
        if slot is None:
            return None
        if instruction.opname == "LOAD_FAST":
            loaded.append(slot)
        elif instruction.opname == "LOAD_FAST_LOAD_FAST":
            loaded.extend((slot >> 4, slot & 15))
        else:
            return None
        used += 1
    return used if loaded == list(range(count)) else None


def _constant(instruction: dis.Instruction) -> tuple[bool, Any]:
    if instruction.opname in ("LOAD_CONST", "LOAD_SMALL_INT"):
        return True, instruction.argval
    return False, None


def pair_constant(f: Any) -> tuple[bool, Any]:
    """``(True, c)`` if ``f`` is ``lambda x: (x, c)`` for a literal constant ``c`` (in any spelling: a def, other
    names), else ``(False, None)``."""
    instructions = _instructions(f, 1)
    if instructions is None or len(instructions) != 4:
        return False, None
    if _loads_parameters(instructions, 1) != 1:
        return False, None
    is_constant, constant = _constant(instructions[1])
    pair, ret = instructions[2], instructions[3]
    if is_constant and pair.opname == "BUILD_TUPLE" and pair.arg == 2 and ret.opname == "RETURN_VALUE":
        return True, constant
    return False, None


def is_plain_add(f: Any) -> bool:
    """Whether ``f`` is ``lambda a, b: a + b`` (in any spelling), which is ``operator.add``."""
    instructions = _instructions(f, 2)
    if instructions is None:
        return False
    loads = _loads_parameters(instructions, 2)
    if loads is None or len(instructions) != loads + 2:
        return False
    add, ret = instructions[loads], instructions[loads + 1]
    is_add = add.opname == "BINARY_ADD" or (add.opname == "BINARY_OP" and add.argrepr == "+")
    return is_add and ret.opname == "RETURN_VALUE"


def map_step(f: Callable[[Any], Any]) -> steps.Step:
    """The record step of ``map(f)``: pairing with a constant when ``f`` only does that (with 1, the counting idiom,
    as a step of its own), else a call of ``f``."""
    pairs, constant = pair_constant(f)
    if not pairs:
        return steps.MAP, f
    if type(constant) is int and constant == 1:
        return steps.PAIR_WITH_ONE, None
    return steps.PAIR_WITH, constant


def as_operator(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``operator.add`` for a function that is ``a + b``, which the map side's loop runs inline; else ``f``."""
    return operator.add if is_plain_add(f) else f
