"""SparkConf: key/value settings, as in PySpark."""

from __future__ import annotations

import os
import re
from typing import Optional, overload

DEFAULTS_FILE = "spark-defaults.conf"

# Set by ember-submit and ember-shell (see ember.cli): the properties file to start from instead of the
# distribution's spark-defaults.conf, and the settings of their options, which every SparkConf() of the program
# starts from (spark-submit hands its own to the program through the JVM's system properties).
_submit_properties_file: Optional[str] = None
_submit_settings: dict[str, str] = {}


def use_submit_settings(properties_file: Optional[str], settings: dict[str, str]) -> None:
    global _submit_properties_file, _submit_settings
    _submit_properties_file = properties_file
    _submit_settings = dict(settings)


class SparkConf:
    """Configuration for a SparkContext. Setters return ``self`` so calls chain. With ``loadDefaults`` (the
    default) it starts from ``conf/spark-defaults.conf`` of the Ember distribution, as spark-submit applies
    Spark's.

    Examples
    --------
    >>> conf = SparkConf(loadDefaults=False).setMaster("local[2]").setAppName("report")
    >>> conf.get("spark.master"), conf.get("spark.app.name")
    ('local[2]', 'report')
    """

    def __init__(self, loadDefaults: bool = True, _jvm: object = None, _jconf: object = None) -> None:
        self._conf: dict[str, str] = {}
        if loadDefaults:
            self._conf.update(load_defaults(_submit_properties_file))
            self._conf.update(_submit_settings)

    def set(self, key: str, value: object) -> "SparkConf":
        """Sets ``key`` to ``str(value)``, replacing any value it had; returns this SparkConf.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).set("spark.task.maxFailures", 4)
        >>> conf.get("spark.task.maxFailures")
        '4'
        """
        if not isinstance(key, str):
            raise TypeError(f"SparkConf key must be a str, got {key!r}")
        self._conf[key] = str(value)
        return self

    def setIfMissing(self, key: str, value: object) -> "SparkConf":
        """Sets ``key`` unless it has a value already; returns this SparkConf.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).set("spark.app.name", "mine")
        >>> conf.setIfMissing("spark.app.name", "default").setIfMissing("spark.master", "local").getAll()
        [('spark.app.name', 'mine'), ('spark.master', 'local')]
        """
        if key not in self._conf:
            self.set(key, value)
        return self

    def setMaster(self, value: str) -> "SparkConf":
        """Sets the master (``spark.master``): ``local[N]``, ``ember://host:port``, ``ember-cluster://host:port``...

        Examples
        --------
        >>> SparkConf(loadDefaults=False).setMaster("local[4]").get("spark.master")
        'local[4]'
        """
        return self.set("spark.master", value)

    def setAppName(self, value: str) -> "SparkConf":
        """Sets the application's name (``spark.app.name``).

        Examples
        --------
        >>> SparkConf(loadDefaults=False).setAppName("nightly report").get("spark.app.name")
        'nightly report'
        """
        return self.set("spark.app.name", value)

    def setSparkHome(self, value: str) -> "SparkConf":
        """Sets ``spark.home``, for Spark's sake: Ember runs its own distribution (``spark.ember.home``).

        Examples
        --------
        >>> SparkConf(loadDefaults=False).setSparkHome("/opt/spark").get("spark.home")
        '/opt/spark'
        """
        return self.set("spark.home", value)

    def setExecutorEnv(self, key: Optional[str] = None, value: Optional[str] = None,
                       pairs: Optional[list[tuple[str, str]]] = None) -> "SparkConf":
        """Sets environment variables of the workers (``spark.executorEnv.<name>``): one ``key`` and ``value``, or
        a list of ``pairs``.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).setExecutorEnv("TZ", "UTC")
        >>> conf.setExecutorEnv(pairs=[("LANG", "C.UTF-8")]).getAll()
        [('spark.executorEnv.TZ', 'UTC'), ('spark.executorEnv.LANG', 'C.UTF-8')]
        """
        if (key is not None and pairs is not None) or (key is None and pairs is None):
            raise ValueError("Either pass one key-value pair or a list of pairs")
        if key is not None:
            self.set("spark.executorEnv." + key, value)
        else:
            for k, v in pairs or []:
                self.set("spark.executorEnv." + k, v)
        return self

    def setAll(self, pairs: list[tuple[str, str]]) -> "SparkConf":
        """Sets every (key, value) of ``pairs``; returns this SparkConf.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).setAll([("spark.master", "local"), ("spark.app.name", "report")])
        >>> conf.getAll()
        [('spark.master', 'local'), ('spark.app.name', 'report')]
        """
        for key, value in pairs:
            self.set(key, value)
        return self

    @overload
    def get(self, key: str) -> Optional[str]: ...

    @overload
    def get(self, key: str, defaultValue: None) -> Optional[str]: ...

    @overload
    def get(self, key: str, defaultValue: str) -> str: ...

    def get(self, key: str, defaultValue: Optional[str] = None) -> Optional[str]:
        """The value of ``key``, or ``defaultValue`` when it has none.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).set("spark.app.name", "report")
        >>> conf.get("spark.app.name"), conf.get("spark.unset"), conf.get("spark.unset", "fallback")
        ('report', None, 'fallback')
        """
        return self._conf.get(key, defaultValue)

    def getAll(self) -> list[tuple[str, str]]:
        """Every (key, value) set, in the order the keys were first set.

        Examples
        --------
        >>> SparkConf(loadDefaults=False).set("b", "2").set("a", "1").getAll()
        [('b', '2'), ('a', '1')]
        """
        return list(self._conf.items())

    def contains(self, key: str) -> bool:
        """Whether ``key`` has a value.

        Examples
        --------
        >>> conf = SparkConf(loadDefaults=False).setMaster("local")
        >>> conf.contains("spark.master"), conf.contains("spark.app.name")
        (True, False)
        """
        return key in self._conf

    def toDebugString(self) -> str:
        """Every setting as ``key=value``, one per line.

        Examples
        --------
        >>> print(SparkConf(loadDefaults=False).setMaster("local").setAppName("report").toDebugString())
        spark.master=local
        spark.app.name=report
        """
        return "\n".join(f"{k}={v}" for k, v in self._conf.items())

    def __repr__(self) -> str:
        return f"SparkConf({self._conf!r})"


def load_defaults(path: Optional[str] = None) -> dict[str, str]:
    """The ``spark.*`` settings of a spark-defaults.conf (by default the distribution's ``conf/``): one
    ``key value`` (or ``key=value``) per line, ``#`` comments, as Java properties files are read. A distribution
    that cannot be found, or has no such file, gives none."""
    if path is None:
        from ember.errors import EmberStartError
        from ember.launch import find_base, find_home
        try:
            home = find_home()
        except EmberStartError:
            return {}
        path = os.path.join(find_base(home), "conf", DEFAULTS_FILE)
        if not os.path.exists(path):  # A base whose conf/ bin/ember has not made yet.
            path = os.path.join(home, "conf", DEFAULTS_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    settings: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        match = re.match(r"([^\s=:]+)\s*[=:]?\s*(.*)$", line)
        if match is None:
            continue  # "= value" with no key: Java's properties would take an empty key, which is no spark.* one.
        key, value = match.groups()
        if key.startswith("spark."):
            settings[key] = value.strip()
    return settings
