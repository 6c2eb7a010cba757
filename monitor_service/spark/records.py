"""From raw parsed rows to the records a job analyzes, with bad input counted and quarantined.

Both readers (capture and plain datasets) produce rows carrying a quarantine `error` (or null),
positional signatures (`in_count`, `out_count`) and `fields`. Here we decide the remaining
record-level reasons (wrong field count, unparsable `inferenceTime` when a window is asked
for), count everything by reason in ONE small aggregation, write a bounded sample of the
offending lines to `{output}/quarantine/`, and hand back only the good records in the window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor_service import io
from monitor_service.core.quarantine import DUPLICATE_KEY, MAX_SAMPLE_CHARS, CountRow, decide
from monitor_service.errors import EmptyInputError
from monitor_service.specs import InputSpec, Window

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

RECORD_COLUMNS = ("event_id", "inference_id", "inference_time", "record_index", "source_file", "fields")


@dataclass
class ReadResult:
    """The good records of the window, and what happened to the rest."""

    df: DataFrame
    records_read: int
    records_valid: int
    outside_window: int
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantine_files: list[str] = field(default_factory=list)
    _cached: DataFrame | None = None
    staging_dir: str | None = None
    # Keys beyond `max_columns` in the good records: dropped from the profile, counted here.
    fields_dropped: int = 0
    records_truncated: int = 0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def release(self) -> None:
        """Drop the cached rows once the job no longer needs them."""
        if self._cached is not None:
            self._cached.unpersist()
        if self.staging_dir:
            import shutil

            shutil.rmtree(self.staging_dir, ignore_errors=True)


def checked_rows(raw: DataFrame, spec: InputSpec) -> DataFrame:
    """`raw` with `duplicate_key` decided, fields beyond `max_columns` dropped (`dropped_fields`),
    `inference_time` and `window_state` (in / out / invalid, n/a for a line's own error)."""
    from pyspark.sql import functions as F

    window = spec.window
    time = F.expr("try_cast(inference_time_raw AS timestamp)")
    raw = _checked_fields(raw, spec.dataset_config.max_columns).withColumn("inference_time", time)
    if window is None:
        return raw.withColumn("window_state", F.lit("in"))
    # A broken line is charged to the window of its own inferenceTime when that can be read,
    # else of its file's hour folder, so neighbouring windows do not count it again.
    hour = (r"try_to_timestamp(regexp_extract(source_file, '/(\\d{4}/\\d{2}/\\d{2}/\\d{2})/[^/]*$', 1), "
            "'yyyy/MM/dd/HH')")
    start, end = _instant(window.start), _instant(window.end)
    return raw.withColumn("window_state", F.expr(
        f"CASE WHEN error IS NOT NULL THEN CASE WHEN coalesce(inference_time, {hour}) < {start} "
        f"OR coalesce(inference_time, {hour}) >= {end} THEN 'out' ELSE 'n/a' END ELSE {window_state(window)} END"))


def window_state(window: Window | None) -> str:
    """An error-free record's place against the window, from its `inference_time` column:
    'in', 'out', or 'invalid' (no readable time while a window is asked for)."""
    if window is None:
        return "'in'"
    return (f"CASE WHEN inference_time IS NULL THEN 'invalid' WHEN inference_time >= {_instant(window.start)} "
            f"AND inference_time < {_instant(window.end)} THEN 'in' ELSE 'out' END")


def _instant(moment: datetime) -> str:
    """A Spark SQL timestamp literal of an aware datetime, as an instant (no session time zone involved)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return f"timestamp_micros({(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds})"


def reason_column(expected_in: int | None, expected_out: int | None) -> Any:
    """A row's quarantine reason once the expected field counts are known (null outside the window)."""
    from pyspark.sql import functions as F

    reason = F.coalesce(
        F.col("error"),
        F.when(F.col("window_state") == "invalid", F.lit("invalid_inference_time")),
        _count_mismatch("in_count", expected_in),
        _count_mismatch("out_count", expected_out),
    )
    return F.when(F.col("window_state") != "out", reason)


def write_quarantine(rows: DataFrame | None, quarantine_dir: str | None, quarantined: dict[str, int], spec: InputSpec,
                     expected_in: int | None, expected_out: int | None) -> list[str]:
    """The counts and samples files (rows need `reason`), or remove an earlier run's when nothing was quarantined."""
    if quarantined and quarantine_dir and rows is not None:
        return _write_quarantine(rows, quarantine_dir, quarantined, spec, expected_in, expected_out)
    if quarantine_dir:  # a re-run into the same folder must not leave an earlier run's samples
        for name in ("counts.json", "samples.jsonl"):
            io.remove(io.join(quarantine_dir, name))
    return []


def finalize_records(
    raw: DataFrame,
    spec: InputSpec,
    quarantine_dir: str | None,
    described: str,
    output_names: list[str] | None = None,
    input_names: list[str] | None = None,
) -> ReadResult:
    """Count, quarantine and window-filter `raw`; raise EmptyInputError when nothing is left."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    rows = checked_rows(raw, spec)
    # Kept on local disk, not on the heap: the later passes (counts, quarantine sample, profile,
    # histograms) re-read parsed rows instead of re-parsing JSON, and memory stays bounded by
    # the partition size whatever the input size (MEMORY_AND_DISK filled a 2 GB heap on 1 GB).
    rows = cached = rows.persist(StorageLevel.DISK_ONLY)
    summary = [r.asDict() for r in rows.groupBy("error", "in_count", "out_count", "window_state").agg(
        F.count(F.lit(1)).alias("count"), F.sum("dropped_fields").alias("dropped"),
        F.sum(F.when(F.col("dropped_fields") > 0, 1).otherwise(0)).alias("truncated")).collect()]
    in_names = input_names if input_names is not None else spec.dataset_config.input.names
    out_names = output_names if output_names is not None else spec.dataset_config.output.names
    decision = decide([CountRow(r["error"], r["in_count"], r["out_count"], r["window_state"], r["count"],
                                r["dropped"] or 0, r["truncated"] or 0) for r in summary], in_names, out_names)
    expected_in, expected_out = decision.expected_in, decision.expected_out
    quarantined, valid, outside, total = decision.quarantined, decision.valid, decision.outside, decision.total
    dropped, truncated = decision.fields_dropped, decision.records_truncated

    rows = rows.withColumn("reason", reason_column(expected_in, expected_out))
    files = write_quarantine(rows, quarantine_dir, quarantined, spec, expected_in, expected_out)
    good = rows.where(F.col("reason").isNull() & (F.col("window_state") == "in")).select(*RECORD_COLUMNS)
    result = ReadResult(
        df=good,
        records_read=total,
        records_valid=valid,
        outside_window=outside,
        quarantined=dict(quarantined),
        quarantine_files=files,
        _cached=cached,
        fields_dropped=dropped,
        records_truncated=truncated,
    )
    if valid == 0:
        result.release()
        error = EmptyInputError(_empty_reason(described, spec, result))
        error.read = result  # type: ignore[attr-defined]  # counts for the failed summary
        raise error
    return result


def _checked_fields(raw: DataFrame, max_columns: int) -> DataFrame:
    """Quarantine records that name a column twice (`duplicate_key`) and keep at most `max_columns`
    fields of the others, counting what was dropped in `dropped_fields`.

    A repeated name (`{"a": 1, "a": 2}`, or `{"a.b": 1, "a": {"b": 2}}` flattened) would make the
    record count twice in the profile; a payload of thousands of keys would make thousands of
    columns, each with its own sketches on the driver.
    """
    from pyspark.sql import functions as F

    names = "transform(fields, f -> f.name)"
    repeated = f"fields IS NOT NULL AND size(array_distinct({names})) != size(fields)"
    limit = int(max_columns)
    return (raw.withColumn("error", F.expr(f"coalesce(error, CASE WHEN {repeated} THEN '{DUPLICATE_KEY}' END)"))
            .withColumn("dropped_fields", F.expr(
                f"CASE WHEN error IS NULL AND size(fields) > {limit} THEN size(fields) - {limit} ELSE 0 END"))
            .withColumn("fields", F.expr(
                f"CASE WHEN error IS NULL AND size(fields) > {limit} THEN slice(fields, 1, {limit}) ELSE fields END")))


def _count_mismatch(column: str, expected: int | None) -> Any:
    from pyspark.sql import functions as F

    if expected is None:
        return F.lit(None).cast("string")
    value = F.col(column)
    return F.when(value.isNotNull() & (value >= 0) & (value != expected), F.lit("field_count_mismatch"))


def _write_quarantine(
    rows: DataFrame,
    quarantine_dir: str,
    counts: dict[str, int],
    spec: InputSpec,
    expected_in: int | None,
    expected_out: int | None,
) -> list[str]:
    """Write counts by reason and at most `quarantine_sample_size` offending rows per reason."""
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F

    limit = spec.dataset_config.quarantine_sample_size
    samples_path = io.join(quarantine_dir, "samples.jsonl")
    counts_path = io.join(quarantine_dir, "counts.json")
    lines: list[str] = []
    if limit > 0:
        ranked = (
            rows.where(F.col("reason").isNotNull())
            .withColumn("_n", F.row_number().over(W.partitionBy("reason").orderBy("source_file", "record_index")))
            .where(F.col("_n") <= limit)
            .select(
                "reason",
                "source_file",
                "event_id",
                "record_index",
                "line",
                "in_count",
                "out_count",
                "inference_time_raw",
                F.expr("transform(fields, f -> f.value)").alias("values"),
                F.expr("transform(fields, f -> f.name)").alias("names"),
            )
        )
        import json

        for r in ranked.collect():
            sample = {
                "reason": r.reason,
                "source_file": r.source_file,
                "event_id": r.event_id,
                "record_index": r.record_index,
            }
            if r.line is not None:
                sample["line"] = r.line[:MAX_SAMPLE_CHARS]
            if r.reason == "invalid_inference_time":
                sample["inference_time"] = r.inference_time_raw
            if r.reason == "field_count_mismatch":
                sample["detail"] = (
                    f"input has {r.in_count} fields (expected {expected_in}), "
                    f"output has {r.out_count} fields (expected {expected_out})"
                )
                sample["values"] = list(r["values"] or [])
            if r.reason == DUPLICATE_KEY:
                repeated = sorted(name for name, n in Counter(r["names"] or []).items() if n > 1)
                sample["detail"] = f"the names {repeated} occur more than once in one record"
            lines.append(json.dumps(sample, ensure_ascii=False))
        io.write_text_atomic(samples_path, "\n".join(lines) + ("\n" if lines else ""))
    io.write_json_atomic(counts_path, {"total": sum(counts.values()), "by_reason": counts, "sampled_per_reason": limit})
    return [counts_path, samples_path] if limit > 0 else [counts_path]


def _empty_reason(described: str, spec: InputSpec, result: ReadResult) -> str:
    from monitor_service.runner.common import ReadCounts

    counts = ReadCounts(result.records_read, result.records_valid, result.outside_window, dict(result.quarantined))
    return counts.empty_reason(described, spec)
