"""Exceptions the driver raises."""

from __future__ import annotations


class EmberError(Exception):
    """Base class of Ember's own errors."""


class EmberStartError(EmberError):
    """The JVM could not be started or did not come up; the message carries its output."""


class EmberAuthError(EmberError):
    """The gateway refused the secret."""


class SparkJobError(EmberError):
    """A job failed. ``kind`` says why: ``USER_CODE``, ``WORKER_LOST``, ``CANCELLED`` or ``SETUP``."""

    def __init__(self, message: str, kind: str = "SETUP") -> None:
        super().__init__(message)
        self.kind = kind


class PythonException(SparkJobError):
    """A user function raised inside a worker; the message holds the worker's traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "USER_CODE")
