"""The Deequ sidecar: a process of the Deequ runtime (`.venv/deequ`: pyspark 3.5 + pydeequ + the jar).

Deequ has no build for this project's Spark 4.1 on Maven Central, so where the main process's
SparkSession cannot load Deequ, the main process reads the window with its own reader (same
capture parsing, same quarantine), writes the good records as Parquet into a temp folder and asks
this process to run Deequ on them (`monitor_service.deequ.client`). One sidecar serves many
requests: one JSON request per line on stdin, one JSON answer per line on the protocol stream.

Imports only what the runtime has: the standard library, pyspark, pydeequ (through `calls`).
Started as `python -c` with the project's folder appended to sys.path, so the runtime's own
pyspark wins over anything else.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any


def _session(jar: str, cores: int) -> Any:
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName("monitor-deequ")
            .config("spark.jars", jar).config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(max(2, cores)))
            .config("spark.driver.memory", os.environ.get("MONITOR_DEEQU_DRIVER_MEMORY", "2g"))
            .getOrCreate())


def _loader(spark: Any) -> Any:
    def load(request: dict[str, Any]) -> Any:
        df = spark.read.parquet(request["parquet"])
        names = request.get("names")
        return df.toDF(*names) if names else df
    return load


def main() -> int:
    """Serve requests until stdin closes. The protocol stream is the original stdout; everything
    else (the JVM's and pydeequ's prints) goes to stderr so it cannot corrupt an answer."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    jar, cores = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("SPARK_VERSION", "3.5")
    from monitor_service.deequ import calls

    spark = _session(jar, cores)
    protocol.write(json.dumps({"ok": True, "result": {"spark": spark.version}}) + "\n")
    load = _loader(spark)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = {"ok": True, "result": calls.run(spark, json.loads(line), load)}
        except Exception as exc:  # every failure is an answer; the sidecar keeps serving
            message = str(exc).strip().splitlines()
            answer = {"ok": False, "error": f"{type(exc).__name__}: {message[0] if message else ''}",
                      "trace": traceback.format_exc()[-4000:]}
        protocol.write(json.dumps(answer) + "\n")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
