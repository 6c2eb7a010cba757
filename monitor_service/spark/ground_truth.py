"""Reading SageMaker ground-truth JSONL (uploaded files and REST batches alike) with Spark.

A line is `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId":
"<inferenceId or eventId>"}, "eventVersion": "0"}`, in folders `yyyy/mm/dd/hh/` named by the
hour the labels were *collected*. A label counts for an execution only if it was collected by
the execution time: a file in hour folder H is available from H + 1 h (the whole hour is over,
so a re-run of the same execution sees the same labels); a file outside such folders is
available from its modification time. Files in hour folders that are not available yet are
not read at all (only counted), so a re-run of an old window does not read the later history.
For one id the latest available label wins: ordered by availability, then file path (REST file
names sort by receive time), then position in the file. Files of fsspec-only URLs (s3://,
gs://, memory://) are read from local copies; the rules use the original paths and times.

The label payload is split into records like a capture payload (CSV rows or JSON Lines / lists,
using the capture reader's expressions), record i labelling capture record i of the same event;
values are named as in captures: `_c0`, `_c1`, ... for positional values, keys for JSON objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor_service.core.quarantine import DEFAULT_MAX_LINE_BYTES
from monitor_service.errors import InputError
from monitor_service.spark import payloads as P
from monitor_service.spark.lines import text_lines
from monitor_service.spark.sources import ResolvedInput, hour_of, resolve_input

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GROUND_TRUTH_SCHEMA = (
    "groundTruthData struct<data:string,encoding:string>, "
    "eventMetadata struct<eventId:string,inferenceId:string>, eventVersion string"
)
_HOUR_FOLDER = r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]*$"
STATUSES = ("ok", "late", "malformed")


@dataclass(frozen=True)
class GroundTruthStats:
    """What happened to the label lines read for one execution."""

    lines: int
    malformed: int
    late: int
    usable: int
    distinct_ids: int
    late_files: int = 0  # files in hour folders collected after the execution time: not read

    @property
    def superseded(self) -> int:
        """Usable labels replaced by a later label for the same id."""
        return self.usable - self.distinct_ids

    def as_metrics(self) -> dict[str, float | None]:
        return {
            "label_lines": self.lines,
            "labels_malformed": self.malformed,
            "labels_late": self.late,
            "label_files_late": self.late_files,
            "labels_usable": self.usable,
            "labels_superseded": self.superseded,
            "labelled_ids": self.distinct_ids,
        }


@dataclass
class GroundTruthRead:
    """`labels`: one row per (key, record_index) with the winning label; `lines`: every line read.

    `lines` is persisted, so the statistics and the merge share one read and parse; call
    `release()` once the job no longer needs either (it also removes staged copies).
    """

    lines: DataFrame
    labels: DataFrame
    late_files: int = 0
    source: ResolvedInput | None = None

    def stats(self) -> GroundTruthStats:
        from pyspark.sql import functions as F

        row = self.lines.agg(
            F.count(F.lit(1)).alias("lines"),
            F.count(F.when(F.col("status") == "malformed", 1)).alias("malformed"),
            F.count(F.when(F.col("status") == "late", 1)).alias("late"),
            F.count(F.when(F.col("status") == "ok", 1)).alias("usable"),
            F.count_distinct(F.when(F.col("status") == "ok", F.col("key"))).alias("distinct_ids"),
        ).first()
        assert row is not None
        return GroundTruthStats(**{k: int(row[k] or 0) for k in row.asDict()}, late_files=self.late_files)

    def release(self) -> None:
        self.lines.unpersist()
        if self.source is not None:
            self.source.cleanup()


def _record_stages(data: str, encoding: str) -> list[str]:
    """Expressions, applied one after another, that end in `records`: the label payload split
    into records of named fields (array<array<struct<name, value>>>)."""
    return [
        f"CASE WHEN upper({encoding}) = 'BASE64' THEN cast(try_to_binary({data}, 'base64') as string) "
        f"ELSE {data} END AS gt_text",
        f"(upper({encoding}) = 'JSON' OR (upper({encoding}) != 'CSV' AND "
        "(ltrim(gt_text) LIKE '{%' OR ltrim(gt_text) LIKE '[%'))) AS gt_is_json",
        f"CASE WHEN gt_is_json THEN {P.json_payload_records('gt_text', None, 'records')} "
        f"ELSE {P.split_lines('gt_text')} END AS gt_texts",
        f"transform(gt_texts, r -> CASE WHEN gt_is_json THEN {P.json_record_entries('r', None)} "
        f"ELSE {P.positional_entries(P.csv_values('r'))} END) AS gt_entries",
        "transform(gt_entries, rec -> transform(rec, (e, i) -> named_struct("
        "'name', coalesce(e.key, concat('_c', cast(i as string))), 'value', e.value))) AS records",
    ]


def _label_files(path: str) -> ResolvedInput:
    """The files under `path`; an existing but empty folder means no label has arrived yet."""
    import fsspec

    try:
        return resolve_input(path)
    except InputError:
        fs, root = fsspec.core.url_to_fs(path)
        if fs.isdir(root):
            return ResolvedInput(files=[], described=path)
        raise


def _collected_later(path: str, execution_time: datetime) -> bool:
    """Whether the hour folder of `path` (if any) says its labels are not available yet."""
    hour = hour_of(path)
    return hour is not None and hour + timedelta(hours=1) > execution_time


def _original_modified(url: str) -> datetime | None:
    """The modification time of a staged file's original, when its file system tells it."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        when = fs.modified(root)
    except (NotImplementedError, OSError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _with_originals(spark: SparkSession, lines: DataFrame, source: ResolvedInput, files: list[str]) -> DataFrame:
    """Lines of staged copies get their original's path and, outside hour folders, modification time."""
    from pyspark.sql import functions as F

    originals = [(f, source.originals[f]) for f in files]
    table = spark.createDataFrame(
        [(f, url, None if hour_of(url) else _original_modified(url)) for f, url in originals],
        "staged string, original string, original_modified timestamp",
    )
    # Spark reports `file:` URIs, percent-encoded; '+' is protected from url_decode's form decoding.
    local = F.regexp_replace(F.url_decode(F.replace("file_path", F.lit("+"), F.lit("%2B"))), "^file:(//)?", "")
    joined = lines.join(F.broadcast(table), local == table["staged"], "left")
    return joined.select(
        "line",
        F.coalesce("original", "file_path").alias("file_path"),
        "block_start",
        F.coalesce("original_modified", "modified_at").alias("modified_at"),
        "position",
    )


def read_ground_truth(spark: SparkSession, path: str, execution_time: datetime) -> GroundTruthRead:
    """Read the ground-truth files under `path` that can count by `execution_time`; keep the latest
    label per id. The caller must `release()` the result (also when a later step fails)."""
    when = execution_time if execution_time.tzinfo else execution_time.replace(tzinfo=UTC)
    source = _label_files(path)
    try:
        return _read(spark, source, when)
    except BaseException:
        source.cleanup()
        raise


def _read(spark: SparkSession, source: ResolvedInput, execution_time: datetime) -> GroundTruthRead:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    files = [f for f in source.files if not _collected_later(source.originals.get(f, f), execution_time)]
    if files:
        # An over-long label line arrives as NULL and so counts as malformed, unparsed.
        lines = text_lines(spark, files, DEFAULT_MAX_LINE_BYTES, "_metadata.file_block_start AS block_start",
                           "_metadata.file_modification_time AS modified_at",
                           "monotonically_increasing_id() AS position",
                           ).where("too_long OR trim(line) != ''").select(
            "line", F.col("source_file").alias("file_path"), "block_start", "modified_at", "position")
        if source.originals:
            lines = _with_originals(spark, lines, source, files)
    else:
        lines = spark.createDataFrame(
            [], "line string, file_path string, block_start long, modified_at timestamp, position long"
        )
    hour = [F.regexp_extract("file_path", _HOUR_FOLDER, i) for i in range(1, 5)]
    folder_hour = F.try_to_timestamp(F.concat_ws(" ", F.concat_ws("-", *hour[:3]), hour[3]), F.lit("yyyy-MM-dd HH"))
    parsed = lines.select(
        "*",
        F.from_json("line", GROUND_TRUTH_SCHEMA).alias("env"),
        F.coalesce(folder_hour + F.expr("INTERVAL 1 HOUR"), F.col("modified_at")).alias("available_at"),
    ).select(
        "file_path",
        "block_start",
        "position",
        "available_at",
        F.coalesce(F.col("env.eventMetadata.eventId"), F.col("env.eventMetadata.inferenceId")).alias("key"),
        F.col("env.groundTruthData.data").alias("data"),
        F.col("env.groundTruthData.encoding").alias("encoding"),
    )
    for stage in _record_stages("data", "encoding"):
        parsed = parsed.selectExpr("*", stage)
    valid = (
        F.col("key").isNotNull()
        & F.col("data").isNotNull()
        & F.col("records").isNotNull()
        & (F.size("records") > 0)
        & ~F.exists("records", lambda r: r.isNull() | (F.size(r) == 0))
    )
    status = (
        F.when(~valid, F.lit("malformed"))
        .when(F.col("available_at") > F.lit(execution_time), F.lit("late"))
        .otherwise(F.lit("ok"))
    )
    lines_df = parsed.withColumn("status", status).persist(StorageLevel.MEMORY_AND_DISK)
    order = F.struct("available_at", "file_path", "block_start", "position")
    latest = (
        lines_df.where(F.col("status") == "ok")
        .groupBy("key")
        .agg(F.max_by(F.struct("records", "data", "encoding", "available_at"), order).alias("w"))
    )
    labels = latest.select(
        "key",
        F.posexplode("w.records").alias("record_index", "gt_fields"),
        F.col("w.data").alias("gt_data"),
        F.col("w.encoding").alias("gt_encoding"),
        F.col("w.available_at").alias("gt_available_at"),
    ).withColumn("record_index", F.col("record_index").cast("int"))
    return GroundTruthRead(lines=lines_df, labels=labels, late_files=len(source.files) - len(files), source=source)
