"""Reading and profiling the input of a data-quality job on the engine the request names.

Both engines read, count, quarantine and profile in one pass: Spark in one job
(`monitor_service.spark.onepass`), DuckDB in one stream without a JVM (`monitor_service.duckdb`).
Both fill the summary's counts the same way and return the same `DatasetProfile`, so everything
after this is shared.
"""

from __future__ import annotations

import time
from typing import Any

from monitor_service import io
from monitor_service.core.profile import DatasetProfile
from monitor_service.errors import ConfigError
from monitor_service.runner.common import Progress, counts_on_empty, report_read
from monitor_service.runner.summary import RunSummary
from monitor_service.specs import InputSpec


def job_engine(requested: str | None, spark: Any) -> str:
    """The engine a job runs on: the request's, else Spark when a session was given, else DuckDB."""
    engine = requested or ("spark" if spark is not None else "duckdb")
    if engine != "duckdb" and spark is None:
        raise ConfigError(f"the {engine} engine needs a SparkSession", hint="run with --engine duckdb, or start Spark")
    return engine


def start_engine(engine: str) -> float:
    """Load the DuckDB engine (its modules and compiled loops) before the job's engine time starts,
    as a JVM is started before a Spark job's; returns the seconds it took (0 for Spark)."""
    if engine != "duckdb":
        return 0.0
    started = time.perf_counter()
    from monitor_service.duckdb import (
        kernels,
        reader,  # noqa: F401 (imported for its modules, timed here)
    )

    kernels.warm_up()
    return round(time.perf_counter() - started, 3)


def profile_input(engine: str, spark: Any, spec: InputSpec, output_dir: str, summary: RunSummary,
                  progress: Progress, *, domains: dict[str, list[str]] | None = None,
                  categorical: set[str] | None = None) -> DatasetProfile:
    """Read `spec` (bad records quarantined under `{output_dir}/quarantine`) and profile the good ones."""
    if engine == "deequ":
        from monitor_service.deequ.engine import deequ_profile

        return deequ_profile(spark, spec, io.join(output_dir, "quarantine"), summary, progress)[0]
    if engine == "duckdb":
        from monitor_service.duckdb.reader import profile_input as duckdb_profile

        read_and_profile = duckdb_profile
    else:
        from functools import partial

        from monitor_service.spark.onepass import profile_input as spark_profile

        read_and_profile = partial(spark_profile, spark)
    progress(f"reading and profiling {spec.format} input {spec.path} ({engine})")
    with counts_on_empty(summary):
        counts, profile = read_and_profile(spec, io.join(output_dir, "quarantine"), domains=domains,
                                           categorical=categorical)
    report_read(summary, counts, progress)
    return profile
