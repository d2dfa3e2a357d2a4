"""SparkFiles: where files added with ``SparkContext.addFile`` (and ``addPyFile``) are, on the driver and in tasks.

``addFile`` copies each file (or directory, with ``recursive=True``) into the context's files directory when it is
called; tasks of later jobs are told that directory, so ``SparkFiles.get(name)`` gives the same copy everywhere
(driver, JVM and workers share one file system on a local master or a service on the same machine).
"""

from __future__ import annotations

import os
from typing import ClassVar, Optional

__all__ = ["SparkFiles"]


class SparkFiles:
    """Resolves the paths of files added with ``SparkContext.addFile``; it has classmethods only.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "ember-doc-greeting.txt")
    ...     with open(path, "w") as f:
    ...         _ = f.write("hello")
    ...     sc.addFile(path)
    >>> def greet(name):
    ...     with open(SparkFiles.get("ember-doc-greeting.txt")) as f:
    ...         return f"{f.read()}, {name}"
    >>> sc.parallelize(["Ana", "Bo"]).map(greet).collect()
    ['hello, Ana', 'hello, Bo']
    """

    _root_directory: ClassVar[Optional[str]] = None
    _is_running_on_worker: ClassVar[bool] = False

    def __init__(self) -> None:
        raise NotImplementedError("Do not construct SparkFiles objects")

    @classmethod
    def get(cls, filename: str) -> str:
        """The absolute path of a file added with ``addFile`` or ``addPyFile``, by its name (in a task, that task's
        copy; on the driver, the driver's).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = os.path.join(d, "ember-doc-numbers.txt")
        ...     with open(path, "w") as f:
        ...         _ = f.write("1 2 3")
        ...     sc.addFile(path)
        >>> with open(SparkFiles.get("ember-doc-numbers.txt")) as f:
        ...     f.read()
        '1 2 3'
        >>> def total(_):
        ...     with open(SparkFiles.get("ember-doc-numbers.txt")) as f:
        ...         return sum(map(int, f.read().split()))
        >>> sc.parallelize([0], 1).map(total).collect()
        [6]
        """
        return os.path.abspath(os.path.join(cls.getRootDirectory(), filename))

    @classmethod
    def getRootDirectory(cls) -> str:
        """The directory that holds the added files.

        Examples
        --------
        >>> import os
        >>> root = SparkFiles.getRootDirectory()
        >>> os.path.isdir(root), SparkFiles.get("name.txt") == os.path.join(root, "name.txt")
        (True, True)
        >>> sc.parallelize([0], 1).map(lambda _: os.path.isdir(SparkFiles.getRootDirectory())).collect()
        [True]
        """
        if cls._is_running_on_worker:
            if cls._root_directory is None:
                raise RuntimeError("SparkFiles: this task's job has no files directory")
            return cls._root_directory
        from ember.context import SparkContext
        sc = SparkContext._active_spark_context
        if sc is None:
            raise RuntimeError("SparkFiles.getRootDirectory() needs a running SparkContext on the driver")
        return sc._files_root()
