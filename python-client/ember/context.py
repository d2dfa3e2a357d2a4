"""SparkContext: the driver's entry point, as in PySpark."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import sys
import threading
from base64 import b64encode
from typing import Any, Callable, Iterable, Optional

import cloudpickle
from py4j.protocol import Py4JError, Py4JJavaError

from ember import serializers as ser
from ember.conf import SparkConf
from ember.errors import EmberError, SparkJobError
from ember.java_gateway import Launched, SideChannel, connect, find_home

# Command blobs larger than this go through the side socket instead of inside the plan.
INLINE_COMMAND_BYTES = 64 * 1024
DEFAULT_BATCH_SIZE = 1024


def parse_master(master: str) -> int:
    """The number of worker slots ``local``, ``local[N]``, ``local[*]`` or ``local[N, F]`` asks for."""
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[\s*(\*|\d+)\s*(?:,\s*\d+\s*)?\]", master)
    if not match:
        raise ValueError(f"Could not parse Master URL: '{master}' (Ember runs 'local', 'local[N]' or 'local[*]')")
    slots = (os.cpu_count() or 1) if match.group(1) == "*" else int(match.group(1))
    if slots < 1:
        raise ValueError(f"Master URL '{master}' asks for {slots} workers; at least 1 is needed")
    return slots


class SparkContext:
    """Connects to Ember, launching the distribution as a child process, and creates RDDs."""

    _active_spark_context: Optional["SparkContext"] = None
    _lock = threading.RLock()

    def __init__(self, master: Optional[str] = None, appName: Optional[str] = None,
                 sparkHome: Optional[str] = None, pyFiles: Optional[list[str]] = None,
                 environment: Optional[dict[str, Any]] = None, batchSize: int = 0,
                 serializer: Any = None, conf: Optional[SparkConf] = None, gateway: Any = None,
                 jsc: Any = None, profiler_cls: Any = None) -> None:
        with SparkContext._lock:
            if SparkContext._active_spark_context is not None:
                raise ValueError(
                    f"Cannot run multiple SparkContexts at once; existing SparkContext(app="
                    f"{SparkContext._active_spark_context.appName}, master={SparkContext._active_spark_context.master})")
            self._conf = conf if conf is not None else SparkConf()
            if master:
                self._conf.setMaster(master)
            if appName:
                self._conf.setAppName(appName)
            self._conf.setIfMissing("spark.master", "local[*]")
            self._conf.setIfMissing("spark.app.name", "ember")
            self.master: str = self._conf.get("spark.master")
            self.appName: str = self._conf.get("spark.app.name")
            self._parallelism = parse_master(self.master)
            self._batch_size = batchSize if batchSize > 0 else DEFAULT_BATCH_SIZE
            self.environment = {k[len("spark.executorEnv."):]: v for k, v in self._conf.getAll()
                                if k.startswith("spark.executorEnv.")}
            self.environment.update({k: str(v) for k, v in (environment or {}).items()})
            self._stopped = False
            self._start()
            SparkContext._active_spark_context = self
        atexit.register(self.stop)

    def _start(self) -> None:
        home = find_home(self._conf.get("spark.ember.home"))
        timeout = float(self._conf.get("spark.ember.startTimeout", "60"))
        self._launched = Launched(home, timeout)
        try:
            self._gateway, self._entry = connect(self._launched.port, self._launched.secret)
            self._session = self._entry.openSession(json.dumps({
                "appName": self.appName,
                "parallelism": self._parallelism,
                "pythonExec": self._python_exec(),
                "workerEnv": self._worker_env(),
            }))
            self._side = SideChannel(self._entry.sidePort(), self._launched.secret, self._session.id())
        except BaseException:
            self._launched.close()
            raise

    def _python_exec(self) -> str:
        return (self._conf.get("spark.pyspark.python") or os.environ.get("PYSPARK_PYTHON") or sys.executable)

    def _worker_env(self) -> dict[str, str]:
        env = dict(self.environment)
        # Workers import what the driver can: its script directory, site-packages and PYTHONPATH.
        paths = [p for p in sys.path if p and os.path.exists(p)]
        existing = env.get("PYTHONPATH") or os.environ.get("PYTHONPATH")
        if existing:
            paths.append(existing)
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # The same hash seed everywhere, so string keys hash alike in every worker.
        env.setdefault("PYTHONHASHSEED", "0")
        return env

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> "SparkContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the session and the JVM this context launched (and with it every worker)."""
        with SparkContext._lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                self._session.stop()
            except (Py4JError, OSError):
                pass  # The JVM is already gone; closing below is all that is left.
            try:
                self._gateway.close()
            except (Py4JError, OSError):
                pass
            self._launched.close()
            if SparkContext._active_spark_context is self:
                SparkContext._active_spark_context = None

    @classmethod
    def getOrCreate(cls, conf: Optional[SparkConf] = None) -> "SparkContext":
        with cls._lock:
            if cls._active_spark_context is None:
                cls(conf=conf or SparkConf())
            return cls._active_spark_context

    # -- properties --------------------------------------------------------------------------------------------

    @property
    def defaultParallelism(self) -> int:
        return self._parallelism

    @property
    def defaultMinPartitions(self) -> int:
        return min(self.defaultParallelism, 2)

    @property
    def version(self) -> str:
        from ember import __version__
        return __version__

    @property
    def applicationId(self) -> str:
        return f"local-{self._session.id()}"

    def getConf(self) -> SparkConf:
        copy = SparkConf()
        copy.setAll(self._conf.getAll())
        return copy

    # -- creating RDDs -----------------------------------------------------------------------------------------

    def parallelize(self, c: Iterable[Any], numSlices: Optional[int] = None) -> "RDD":
        """Distributes a local collection; slices are as even as PySpark makes them."""
        from ember.rdd import RDD
        self._check_running()
        num_slices = int(numSlices) if numSlices is not None else self.defaultParallelism
        if num_slices < 1:
            raise ValueError(f"numSlices must be at least 1, got {num_slices}")
        if isinstance(c, range):
            return self._parallelize_range(c, num_slices)
        data = c if isinstance(c, list) else list(c)
        size = len(data)
        batch = max(1, min(size // num_slices, self._batch_size))
        partitions = []
        for i in range(num_slices):
            chunk = data[i * size // num_slices:(i + 1) * size // num_slices]
            partitions.append([ser.dumps_batch(chunk[j:j + batch]) for j in range(0, len(chunk), batch)])
        dataset_id = self._side.store(partitions)
        return RDD(self, {"kind": "dataset", "dataset": dataset_id}, num_slices)

    def _parallelize_range(self, r: range, num_slices: int) -> "RDD":
        # No data moves: each partition computes its own slice of the range in the worker.
        from ember.rdd import RDD
        size = len(r)
        start, step = r.start, r.step

        def slice_of_range(split: int, _: Iterable[Any]) -> Iterable[int]:
            lo = split * size // num_slices
            hi = (split + 1) * size // num_slices
            return iter(range(start + lo * step, start + hi * step, step))

        return RDD(self, {"kind": "empty"}, num_slices, slice_of_range)

    def range(self, start: int, end: Optional[int] = None, step: int = 1,
              numSlices: Optional[int] = None) -> "RDD":
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self) -> "RDD":
        from ember.rdd import RDD
        return RDD(self, {"kind": "empty"}, 0)

    # -- running jobs ------------------------------------------------------------------------------------------

    def runJob(self, rdd: "RDD", partitionFunc: Callable[[Iterable[Any]], Iterable[Any]],
               partitions: Optional[Iterable[int]] = None, allowLocal: bool = False) -> list:
        """Runs ``partitionFunc`` on the given partitions of ``rdd`` and returns all results, partition by
        partition, in the order the partitions were given."""
        return list(self._run(rdd.mapPartitions(partitionFunc), partitions))

    def _run(self, rdd: "RDD", partitions: Optional[Iterable[int]] = None) -> Iterable[Any]:
        """Runs a job for ``rdd`` and yields its records as they stream back, partition by partition."""
        self._check_running()
        wanted = list(range(rdd.getNumPartitions()) if partitions is None else partitions)
        command = cloudpickle.dumps(rdd._task_function())
        stage: dict[str, Any] = {
            "id": 0,
            "numPartitions": rdd.getNumPartitions(),
            "commandId": hashlib.sha1(command).hexdigest(),
            "input": rdd._source,
            "inputCodec": "pickle",
            "outputCodec": "pickle",
        }
        if len(command) > INLINE_COMMAND_BYTES:
            stage["commandBlob"] = self._side.blob(command)
        else:
            stage["command"] = b64encode(command).decode("ascii")
        plan = {"stages": [stage], "partitions": wanted, "jobGroup": None}
        try:
            job_id = self._session.submitJob(json.dumps(plan))
        except Py4JJavaError as e:
            raise SparkJobError(f"the gateway refused the job: {e.java_exception.getMessage()}") from None
        for frames in self._side.results(job_id):
            yield from ser.load_records(frames)

    def _check_running(self) -> None:
        if self._stopped:
            raise EmberError("This SparkContext has been stopped; create a new one to run jobs")
        if self._launched.process.poll() is not None:
            raise EmberError(f"The Ember JVM exited with code {self._launched.process.returncode}. "
                             f"Its last output:\n{self._launched.log_tail()}")


from ember.rdd import RDD  # noqa: E402  (RDD refers back to SparkContext)
