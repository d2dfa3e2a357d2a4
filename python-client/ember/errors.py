"""Exceptions the driver raises."""

from __future__ import annotations

import re


class EmberError(Exception):
    """Base class of Ember's own errors."""


class EmberStartError(EmberError):
    """The JVM could not be started or did not come up; the message carries its output."""


class EmberAuthError(EmberError):
    """The gateway refused the secret."""


class SparkJobError(EmberError):
    """A job failed. ``kind`` says why: ``USER_CODE``, ``WORKER_LOST``, ``INPUT``, ``CANCELLED`` or
    ``SETUP``."""

    def __init__(self, message: str, kind: str = "SETUP") -> None:
        super().__init__(message)
        self.kind = kind


class MalformedInputError(SparkJobError, ValueError):
    """Input data that its codec cannot read: invalid UTF-8 in a text file, a malformed JSON line, a truncated
    file. The message names the file and the line or byte offset."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "INPUT")


class PythonException(SparkJobError):
    """A user function raised inside a worker; the message holds the worker's traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "USER_CODE")


def stop_iteration_error(error: StopIteration) -> RuntimeError:
    """What a StopIteration raised by a user's function becomes, as in PySpark: inside a loop it would silently end
    the partition's data instead of failing the task."""
    return RuntimeError(f"[STOP_ITERATION_OCCURRED] Caught StopIteration thrown from user's code; failing the task: "
                        f"{error}")


def user_exception(message: str, pickled: bytes) -> BaseException:
    """The exception a task raised, rebuilt on the driver: an instance of the user's own class that is also a
    PythonException whose message is the whole report (stage, partition, attempt and worker traceback). Where the
    two classes cannot be combined, the user's exception itself, with the PythonException as its cause."""
    import pickle
    report = PythonException(message)
    try:
        base, args, attributes = pickle.loads(pickled)
    except Exception:
        return report
    if not (isinstance(base, type) and issubclass(base, BaseException)):
        return report
    try:
        combined = type(base.__name__, (base, PythonException), {
            "__module__": base.__module__, "__qualname__": base.__qualname__,
            "__str__": lambda self: self._ember_report, "__reduce__": BaseException.__reduce__})
        rebuilt = combined.__new__(combined, *args)
        rebuilt.args = args
        rebuilt.__dict__.update(attributes)
        rebuilt.kind = "USER_CODE"
        rebuilt._ember_report = message
        return rebuilt
    except Exception:
        # The user's class cannot be combined with ours (a layout conflict): raise it, caused by the report.
        try:
            original = base.__new__(base, *args)
            original.args = args
            original.__dict__.update(attributes)
        except Exception:
            return report
        original.__cause__ = report
        return original


def java_message(error: BaseException) -> str:
    """The message of the Java exception behind a ``Py4JJavaError``, without Py4J's framing or the Java stack (read
    from the error's text: the gateway serves no calls into exception objects)."""
    text = str(error)
    for line in text.splitlines():
        match = re.match(r"\s*(?::\s*)?(?:[\w$]+\.)+[\w$]*(?:Exception|Error): (.*)", line)
        if match:
            return match.group(1)
    return text.strip()
