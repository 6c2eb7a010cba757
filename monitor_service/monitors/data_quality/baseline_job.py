"""The data-quality baseline job: profile a dataset, suggest constraints, write both files."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from monitor_service import io
from monitor_service.core.constraints import suggest_constraints, write_constraints
from monitor_service.core.statistics import write_statistics
from monitor_service.monitors.data_quality import report
from monitor_service.monitors.data_quality.profiling import job_engine, profile_input, start_engine
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.runner.common import JobClock, Progress, job_outcome, new_summary, no_progress
from monitor_service.runner.summary import RunSummary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def run_baseline(spark: SparkSession | None, request: BaselineRequest,
                 progress: Progress = no_progress) -> RunSummary:
    """Write `statistics.json`, `constraints.json` and `summary.json` into `request.output_dir`.

    Runs on `request.engine` (Spark when it is None and a session is given, else DuckDB).
    """
    clock = JobClock()
    out = request.output_dir
    summary = new_summary("baseline", request.input, out)
    with job_outcome(summary, clock):
        engine = summary.engine = job_engine(request.engine, spark)
        summary.startup_seconds = start_engine(engine)
        clock.engine_started = time.perf_counter()
        if engine == "deequ":  # Deequ profiles and suggests (ColumnProfilerRunner, ConstraintSuggestionRunner)
            from monitor_service.deequ.engine import deequ_profile

            profile, suggested = deequ_profile(spark, request.input, io.join(out, "quarantine"), summary, progress,
                                               suggest=True)
        else:
            profile, suggested = profile_input(engine, spark, request.input, out, summary, progress), None
        summary.features = len(profile.columns)
        progress("suggesting constraints")
        constraints = suggested or suggest_constraints(profile)
        stats_path, constraints_path = io.join(out, "statistics.json"), io.join(out, "constraints.json")
        write_statistics(stats_path, profile)
        write_constraints(constraints_path, constraints)
        summary.artifacts.update({"statistics": stats_path, "constraints": constraints_path})
        report.write(out, report.baseline_report(summary, profile, constraints), summary)
        summary.feature_metrics = {
            c.name: {"completeness": c.completeness, "mean": c.numeric.mean if c.numeric else None}
            for c in profile.columns
        }
    return summary
