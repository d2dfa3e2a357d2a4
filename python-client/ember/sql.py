"""SparkSession: PySpark 4's entry point, so programs that start with ``SparkSession.builder...getOrCreate()`` run.

Ember implements the RDD API only: a session wraps an Ember ``SparkContext`` (``spark.sparkContext``), and the
DataFrame entry points (``read``, ``createDataFrame``, ``sql``, ``table``, ...) raise ``NotImplementedError`` naming
the RDD call to use instead.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, NoReturn, Optional

from ember.conf import SparkConf
from ember.context import SparkContext

__all__ = ["SparkSession", "is_remote"]


def is_remote() -> bool:
    """Whether this is a Spark Connect client: never, on Ember."""
    return False


class _ClassProperty:
    """``SparkSession.builder`` is a new Builder at each access, as in PySpark."""

    def __init__(self, getter: Any) -> None:
        self.getter = getter

    def __get__(self, instance: Any, owner: type) -> Any:
        return self.getter(owner)


class RuntimeConfig:
    """``spark.conf``: the session's settings (those of its SparkContext's configuration)."""

    def __init__(self, conf: SparkConf) -> None:
        self._conf = conf

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        return self._conf.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._conf.set(key, value)

    def unset(self, key: str) -> None:
        self._conf._conf.pop(key, None)

    def getAll(self) -> dict[str, str]:
        return dict(self._conf.getAll())

    def isModifiable(self, key: str) -> bool:
        return False


class SparkSession:
    """A session over an Ember SparkContext. Create one with ``SparkSession.builder.getOrCreate()``."""

    _instantiatedSession: ClassVar[Optional["SparkSession"]] = None
    _lock = threading.RLock()

    class Builder:
        """Collects a session's settings; ``getOrCreate()`` returns the running session or starts one."""

        def __init__(self) -> None:
            self._options: dict[str, str] = {}

        def config(self, key: Optional[str] = None, value: Any = None, conf: Optional[SparkConf] = None, *,
                   map: Optional[dict[str, Any]] = None) -> "SparkSession.Builder":
            """Sets one setting (``key``, ``value``), every setting of a SparkConf, or those of a dict."""
            with SparkSession._lock:
                if conf is not None:
                    self._options.update(conf.getAll())
                if map is not None:
                    self._options.update({k: _as_setting(v) for k, v in map.items()})
                if key is not None:
                    self._options[key] = _as_setting(value)
                return self

        def master(self, master: str) -> "SparkSession.Builder":
            return self.config("spark.master", master)

        def appName(self, name: str) -> "SparkSession.Builder":
            return self.config("spark.app.name", name)

        def remote(self, url: str) -> NoReturn:
            raise NotImplementedError("Ember has no Spark Connect: use .master('local[*]') or an ember:// master")

        def enableHiveSupport(self) -> "SparkSession.Builder":
            raise NotImplementedError("Ember has no Hive support (it implements PySpark's RDD API only)")

        def getOrCreate(self) -> "SparkSession":
            """The running session (its context takes no new settings, as in PySpark) or a new one with these
            settings, on the running SparkContext if there is one."""
            with SparkSession._lock:
                session = SparkSession._instantiatedSession
                if session is not None and not session._sc._stopped:
                    for key, value in self._options.items():
                        session._sc._conf.setIfMissing(key, value)
                    return session
                conf = SparkConf()
                conf.setAll(list(self._options.items()))
                sc = SparkContext.getOrCreate(conf)
                return SparkSession(sc)

        def create(self) -> "SparkSession":
            """A new session on the running SparkContext (or a new context)."""
            with SparkSession._lock:
                conf = SparkConf()
                conf.setAll(list(self._options.items()))
                return SparkSession(SparkContext.getOrCreate(conf))

    builder: ClassVar["SparkSession.Builder"] = _ClassProperty(lambda cls: cls.Builder())  # type: ignore

    def __init__(self, sparkContext: SparkContext) -> None:
        self._sc = sparkContext
        with SparkSession._lock:
            if SparkSession._instantiatedSession is None or SparkSession._instantiatedSession._sc._stopped:
                SparkSession._instantiatedSession = self

    @classmethod
    def getActiveSession(cls) -> Optional["SparkSession"]:
        session = cls._instantiatedSession
        return session if session is not None and not session._sc._stopped else None

    @classmethod
    def active(cls) -> "SparkSession":
        session = cls.getActiveSession()
        if session is None:
            raise RuntimeError("No active SparkSession: create one with SparkSession.builder.getOrCreate()")
        return session

    @property
    def sparkContext(self) -> SparkContext:
        """The Ember SparkContext this session runs on: the RDD API."""
        return self._sc

    @property
    def version(self) -> str:
        """The PySpark version whose API Ember implements (as ``sc.version``)."""
        return self._sc.version

    @property
    def conf(self) -> RuntimeConfig:
        return RuntimeConfig(self._sc._conf)

    def newSession(self) -> "SparkSession":
        return SparkSession(self._sc)

    def stop(self) -> None:
        """Stops the session's SparkContext."""
        with SparkSession._lock:
            self._sc.stop()
            if SparkSession._instantiatedSession is self:
                SparkSession._instantiatedSession = None

    def __enter__(self) -> "SparkSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- DataFrame entry points: not in Ember ------------------------------------------------------------------

    @property
    def read(self) -> NoReturn:
        _no_dataframes("spark.read", "sc.textFile(path), sc.wholeTextFiles(path), sc.pickleFile(path) or "
                                     "sc.jsonFile(path)")

    @property
    def readStream(self) -> NoReturn:
        _no_dataframes("spark.readStream", "sc.textFile over the files as they arrive")

    def createDataFrame(self, data: Any, schema: Any = None, samplingRatio: Any = None,
                        verifySchema: bool = True) -> NoReturn:
        _no_dataframes("spark.createDataFrame", "sc.parallelize(data)")

    def sql(self, sqlQuery: str, args: Any = None, **kwargs: Any) -> NoReturn:
        _no_dataframes("spark.sql", "RDD transformations (map, filter, reduceByKey, join)")

    def table(self, tableName: str) -> NoReturn:
        _no_dataframes("spark.table", "sc.textFile or sc.pickleFile on the table's files")

    def range(self, start: int, end: Optional[int] = None, step: int = 1,
              numPartitions: Optional[int] = None) -> NoReturn:
        _no_dataframes("spark.range", "sc.range(start, end, step, numSlices)")

    @property
    def catalog(self) -> NoReturn:
        _no_dataframes("spark.catalog", "plain files read with sc.textFile")

    @property
    def udf(self) -> NoReturn:
        _no_dataframes("spark.udf", "plain Python functions in rdd.map")


def _as_setting(value: Any) -> str:
    # As PySpark's builder: booleans become "true"/"false".
    return str(value).lower() if isinstance(value, bool) else str(value)


def _no_dataframes(name: str, instead: str) -> NoReturn:
    raise NotImplementedError(f"{name} needs DataFrames, which Ember does not have (it implements PySpark's RDD API "
                              f"only); use {instead} on spark.sparkContext")
