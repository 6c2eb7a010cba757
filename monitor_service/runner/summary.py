"""`summary.json`: the machine-readable outcome of every job, success or failure.

Its `status` uses SageMaker's execution statuses so a scheduler can store it as is; its
`failure_reason` is a plain sentence a user can act on, never a stack trace.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["Completed", "CompletedWithViolations", "Failed"]

EXIT_COMPLETED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VIOLATIONS = 3


class Quarantined(BaseModel):
    total: int = 0
    by_reason: dict[str, int] = Field(default_factory=dict)


class ColumnsDropped(BaseModel):
    """Fields beyond the dataset config's `max_columns` in a record: not profiled, counted here."""

    records: int = Field(default=0, description="Records that had more fields than max_columns")
    fields: int = Field(default=0, description="Fields dropped from those records")


class RunSummary(BaseModel):
    """What a baseline or analysis job did; written to `{output}/summary.json`."""

    job: Literal["baseline", "analyze"]
    monitor_type: str = "DataQuality"
    status: Status
    records_read: int = 0
    records_analyzed: int = 0
    records_quarantined: Quarantined = Field(default_factory=Quarantined)
    columns_dropped: ColumnsDropped = Field(default_factory=ColumnsDropped)
    features: int = 0
    violations: int = 0
    violations_by_check: dict[str, int] = Field(default_factory=dict)
    # Checks that could not be evaluated (details in check_errors.json); they do not fail the job.
    check_errors: int = 0
    seconds: float = 0.0
    engine_seconds: float = 0.0
    # The engine that ran the job (spark / duckdb) and the seconds it took to start before the
    # job, timed apart from engine_seconds: in the CLI the JVM, SparkSession and its first query;
    # for DuckDB loading the engine's modules and compiled loops.
    engine: str | None = None
    startup_seconds: float = 0.0
    # Deequ engine: the Spark jobs Deequ ran over the records (its passes over the data).
    deequ_spark_jobs: int | None = None
    failure_reason: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    input_path: str | None = None
    output_path: str | None = None
    artifacts: dict[str, str] = Field(default_factory=dict)
    # Per-feature numbers for metric history and Prometheus gauges, e.g.
    # {"age": {"completeness": 1.0, "drift_distance": 0.04, "mean": 41.2}}.
    feature_metrics: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    exit_message: str = ""

    @property
    def exit_code(self) -> int:
        if self.status == "Failed":
            return EXIT_FAILED
        return EXIT_VIOLATIONS if self.status == "CompletedWithViolations" else EXIT_COMPLETED

    def one_line(self, *, features: bool = False) -> str:
        """The one-line summary printed at the end of a CLI run (`features`: name how many were profiled)."""
        if self.status == "Failed":
            return f"Failed: {self.failure_reason}"
        quarantined = self.records_quarantined.total
        extra = f", {quarantined} quarantined" if quarantined else ""
        what = f"{self.violations} violations" if self.job == "analyze" else "baseline written"
        columns = f", {self.features} features" if features else ""
        return (
            f"{self.status}: {self.records_analyzed} records{extra}{columns}, "
            f"{what} in {self.seconds:.1f}s -> {self.output_path}"
        )
