"""Where Deequ runs, and handing it the window's records.

1. In-process: the job's SparkSession already has Deequ's classes (e.g. a cluster started with
   `--packages com.amazon.deequ:deequ:<version matching its Spark>`); `calls` runs on that session
   and the records DataFrame directly.
2. Otherwise the sidecar (`monitor_service.deequ.sidecar`) of the Deequ runtime the install step
   builds in `.venv/deequ` (scripts/_deequ.sh): the records are written as Parquet by our own
   Spark (same reader, same quarantine) into a temp folder, the sidecar's Spark 3.5 reads them and
   answers in JSON. One sidecar per process, started on first use and kept (a JVM start costs
   seconds); `close_shared` ends it.

Nothing is downloaded at run time: a missing runtime or jar is a DeequUnavailable error naming
the command that installs it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor_service.errors import DeequUnavailable, JobError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEEQU_JAR = "deequ-2.1.0-spark-3.5.jar"
INSTALL_COMMAND = "bash scripts/_deequ.sh"
_BOOT = ("import sys, runpy; sys.path.append(sys.argv.pop(1)); "
         "runpy.run_module('monitor_service.deequ.sidecar', run_name='__main__')")


@dataclass(frozen=True)
class Runtime:
    """The Deequ runtime: its Python (pyspark 3.5 + pydeequ) and the Deequ jar."""

    python: Path
    jar: Path

    @classmethod
    def locate(cls, home: Path | None = None) -> Runtime:
        """The runtime under `home` (default: `deequ/` in this virtualenv), or DeequUnavailable."""
        root = home if home is not None else Path(sys.prefix) / "deequ"
        runtime = cls(root / "bin" / "python", root / "jars" / DEEQU_JAR)
        missing = [str(p) for p in (runtime.python, runtime.jar) if not p.exists()]
        if missing:
            raise DeequUnavailable(
                f"the Deequ runtime is not installed ({', '.join(missing)} missing); Deequ has no Spark 4.1 "
                "build on Maven Central, so it runs in a sidecar with pyspark 3.5 and the Deequ jar",
                hint=f"run `{INSTALL_COMMAND}` in the project folder (scripts/test.sh and scripts/demo.sh do it)",
            )
        return runtime


class Sidecar:
    """One Deequ sidecar process: JSON requests in, JSON answers out, one at a time."""

    def __init__(self, runtime: Runtime, cores: int = 2) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._log = tempfile.NamedTemporaryFile(prefix="monitor-deequ-", suffix=".log", delete=False)  # noqa: SIM115
        project = str(Path(__file__).resolve().parents[2])
        env = {k: v for k, v in os.environ.items()
               if k not in ("SPARK_HOME", "PYSPARK_SUBMIT_ARGS", "PYTHONPATH", "PYSPARK_DRIVER_PYTHON")}
        env.update(PYSPARK_PYTHON=str(runtime.python), SPARK_VERSION="3.5")
        self._process = subprocess.Popen(
            [str(runtime.python), "-c", _BOOT, project, str(runtime.jar), str(cores)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env, text=True, bufsize=1,
        )
        self.spark_version = self._answer()["spark"]

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def _answer(self) -> Any:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise JobError(f"the Deequ sidecar stopped: {self._log_tail()}",
                           hint=f"see {self._log.name}; reinstall the runtime with `{INSTALL_COMMAND}`")
        answer = json.loads(line)
        if not answer["ok"]:
            raise JobError(f"Deequ failed: {answer['error']}", hint=f"details in {self._log.name}")
        return answer["result"]

    def _log_tail(self) -> str:
        try:
            text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(text[-5:]) or "no output"

    def request(self, payload: dict[str, Any]) -> Any:
        with self._lock:
            if not self.running:
                raise JobError(f"the Deequ sidecar is not running: {self._log_tail()}")
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps(payload) + "\n")
            self._process.stdin.flush()
            return self._answer()

    def close(self) -> None:
        if self._process.stdin is not None and self.running:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


_shared: Sidecar | None = None
_shared_lock = threading.Lock()


def shared_sidecar() -> Sidecar:
    """The process's sidecar, started on first use (DeequUnavailable when the runtime is missing)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = Sidecar(Runtime.locate())
            atexit.register(close_shared)
        return _shared


def close_shared() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.close()
            _shared = None


class Deequ:
    """Run Deequ on records of the job's SparkSession: in that session when it has Deequ, else in
    the sidecar through Parquet. `records` is a DataFrame of string columns named by `names`."""

    def __init__(self, spark: SparkSession) -> None:
        from monitor_service.deequ import calls

        self.spark = spark
        self.in_process = calls.has_deequ(spark)
        self.where = f"in-process (Spark {spark.version})" if self.in_process else "sidecar (Spark 3.5)"
        self._sidecar = None if self.in_process else shared_sidecar()

    def run(self, op: str, records: DataFrame | None, names: list[str] | None = None, **arguments: Any) -> Any:
        from monitor_service.deequ import calls

        request = {"op": op, **arguments}
        if self._sidecar is None:
            frame = records.toDF(*names) if records is not None and names else records
            return calls.run(self.spark, request, lambda _request: frame)
        if records is None:
            return self._sidecar.request(request)
        folder = tempfile.mkdtemp(prefix="monitor-deequ-records-")
        try:
            # Parquet column names may not hold " ,;{}()=" etc.: positional names, renamed back there.
            records.toDF(*[f"c{i}" for i in range(len(records.columns))]).write.mode("overwrite").parquet(folder)
            return self._sidecar.request({**request, "parquet": folder, "names": names or records.columns})
        finally:
            shutil.rmtree(folder, ignore_errors=True)
