"""What the baseline and analysis jobs share: timing, reading, failure handling, summary output.

A job never lets a data problem escape as a stack trace: known errors become a `Failed`
summary with a plain `failure_reason`; the summary is always written to `{output}/summary.json`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor_service import io
from monitor_service.errors import ConfigError, MonitorError
from monitor_service.runner.summary import ColumnsDropped, Quarantined, RunSummary
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from monitor_service.spark.records import ReadResult

Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    """Default progress sink: silent (the CLI passes one that prints on a terminal)."""


@dataclass
class JobClock:
    started: float = field(default_factory=time.perf_counter)
    engine_started: float | None = None

    def seconds(self) -> float:
        return round(time.perf_counter() - self.started, 3)

    def engine_seconds(self) -> float:
        return round(time.perf_counter() - self.engine_started, 3) if self.engine_started else 0.0


def new_summary(job: str, spec: InputSpec, output_dir: str) -> RunSummary:
    window = spec.window
    return RunSummary(
        job=job,  # type: ignore[arg-type]
        status="Completed",
        input_path=spec.path,
        output_path=output_dir,
        window_start=window.start.isoformat().replace("+00:00", "Z") if window else None,
        window_end=window.end.isoformat().replace("+00:00", "Z") if window else None,
    )


@dataclass
class ReadCounts:
    """What reading an input found: records read, valid, outside the window, quarantined by reason."""

    records_read: int
    records_valid: int
    outside_window: int
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantine_files: list[str] = field(default_factory=list)
    # Fields beyond the dataset config's max_columns in the valid records: dropped, counted here.
    fields_dropped: int = 0
    records_truncated: int = 0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def empty_reason(self, described: str, spec: InputSpec) -> str:
        """Why nothing is left to analyze, naming the path, the window and the counts."""
        window = f" in window {spec.window.label()}" if spec.window else ""
        parts = [f"{self.records_read} records read"]
        if self.outside_window:
            parts.append(f"{self.outside_window} outside the window")
        if self.quarantined:
            reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.quarantined.items()))
            parts.append(f"{self.quarantined_total} quarantined ({reasons})")
        return f"no valid records{window} under {described}: " + "; ".join(parts)


def record_read(summary: RunSummary, read: ReadResult | ReadCounts) -> None:
    summary.records_read = read.records_read
    summary.records_analyzed = read.records_valid
    summary.records_quarantined = Quarantined(total=read.quarantined_total, by_reason=dict(read.quarantined))
    summary.columns_dropped = ColumnsDropped(records=read.records_truncated, fields=read.fields_dropped)
    if read.quarantine_files:
        summary.artifacts["quarantine"] = io.join(summary.output_path or "", "quarantine")


def read_records(
    spark: SparkSession, spec: InputSpec, output_dir: str, summary: RunSummary, progress: Progress
) -> ReadResult:
    from monitor_service.spark.reader import read_input

    progress(f"reading {spec.format} input {spec.path}")
    with counts_on_empty(summary):
        read = read_input(spark, spec, io.join(output_dir, "quarantine"))
    report_read(summary, read, progress)
    return read


@contextmanager
def counts_on_empty(summary: RunSummary) -> Iterator[None]:
    """An input with nothing valid still reports what was read (the error carries the counts)."""
    from monitor_service.errors import EmptyInputError

    try:
        yield
    except EmptyInputError as exc:
        counts = getattr(exc, "read", None)
        if counts is not None:
            record_read(summary, counts)
        raise


def report_read(summary: RunSummary, read: ReadResult | ReadCounts, progress: Progress) -> None:
    record_read(summary, read)
    progress(
        f"read {read.records_read} records: {read.records_valid} valid, "
        f"{read.quarantined_total} quarantined, {read.outside_window} outside the window"
    )


@contextmanager
def job_outcome(summary: RunSummary, clock: JobClock) -> Iterator[None]:
    """Turn known failures into a Failed summary; always stamp times and write summary.json."""
    usage_error = False
    try:
        yield
    except ConfigError:
        usage_error = True
        raise  # usage errors go back to the caller (exit code 2), no summary to write
    except Exception as exc:
        summary.status = "Failed"
        summary.failure_reason = describe_failure(exc, output_dir=summary.output_path)
    finally:
        summary.seconds = clock.seconds()
        summary.engine_seconds = clock.engine_seconds()
        summary.exit_message = exit_message(summary)
        if summary.output_path and not usage_error:
            try:
                path = io.join(summary.output_path, "summary.json")
                io.write_json_atomic(path, summary.model_dump(mode="json"))
                summary.artifacts.setdefault("summary", path)
            except OSError as exc:
                summary.status = "Failed"
                summary.failure_reason = f"cannot write {summary.output_path}/summary.json: {exc}"


def describe_failure(exc: BaseException, *, output_dir: str | None = None,
                     details: str | None = None) -> str:
    """A failure reason in plain words, never a stack trace (jobs, CLI and scheduler alike)."""
    if isinstance(exc, MonitorError):
        return str(exc)
    text = str(exc)
    name = type(exc).__name__
    first = (text.strip().splitlines() or [""])[0][:500]
    jvm_gone = any(s in text for s in ("Answer from Java side is empty", "Connection refused",
                                        "SparkContext was shut down", "Container in shutdown"))
    if jvm_gone:
        return ("the Spark JVM stopped during the job, most often because it ran out of memory; give it "
                "more memory (spark.driver.memory / executor memory) or analyze a shorter window")
    if "OutOfMemoryError" in text or "Java heap space" in text:
        return ("the Spark job ran out of memory; give the driver/executors more memory "
                "(spark.driver.memory) or analyze a shorter window")
    if "Py4J" in name or "Spark" in name or "Java" in first or "Analysis" in name:
        return f"Spark failed while running the job: {first}"
    from monitor_service.error_log import write_error_log

    where = details or (f"the traceback is in {log}" if (log := write_error_log(output_dir, exc)) else
                        "please report it with this message")
    return f"Unexpected {name} while running the job: {first}. This is a bug in monitor-service; {where}."


def exit_message(summary: RunSummary) -> str:
    """SageMaker's processing-job exit message, which some tooling parses."""
    if summary.status == "Failed":
        return f"Failed: {summary.failure_reason}"
    if summary.status == "CompletedWithViolations":
        return f"CompletedWithViolations: Job completed successfully with {summary.violations} violations."
    return "Completed: Job completed successfully with no violations."
