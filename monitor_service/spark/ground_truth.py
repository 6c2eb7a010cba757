"""Reading SageMaker ground-truth JSONL (uploaded files and REST batches alike) with Spark.

A line is `{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId":
"<inferenceId or eventId>"}, "eventVersion": "0"}`, in folders `yyyy/mm/dd/hh/` named by the
hour the labels were *collected*. A label counts for an execution only if it was collected by
the execution time: a file in hour folder H is available from H + 1 h (the whole hour is over,
so a re-run of the same execution sees the same labels); a file outside such folders is
available from its modification time. For one id the latest available label wins: ordered by
availability, then file path (REST file names sort by receive time), then position in the file.

The label payload is split into records like a capture payload (CSV rows or JSON Lines / lists,
using the capture reader's expressions), record i labelling capture record i of the same event;
values are named as in captures: `_c0`, `_c1`, ... for positional values, keys for JSON objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor_service.errors import InputError
from monitor_service.spark import payloads as P
from monitor_service.spark.sources import resolve_input

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

    @property
    def superseded(self) -> int:
        """Usable labels replaced by a later label for the same id."""
        return self.usable - self.distinct_ids

    def as_metrics(self) -> dict[str, float | None]:
        return {
            "label_lines": self.lines,
            "labels_malformed": self.malformed,
            "labels_late": self.late,
            "labels_usable": self.usable,
            "labels_superseded": self.superseded,
            "labelled_ids": self.distinct_ids,
        }


@dataclass
class GroundTruthRead:
    """`labels`: one row per (key, record_index) with the winning label; `lines`: every line."""

    lines: DataFrame
    labels: DataFrame

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
        return GroundTruthStats(**{k: int(row[k] or 0) for k in row.asDict()})


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


def _label_files(path: str) -> list[str]:
    """The files under `path`; an existing but empty folder means no label has arrived yet."""
    import fsspec

    try:
        return resolve_input(path).files
    except InputError:
        fs, root = fsspec.core.url_to_fs(path)
        if fs.isdir(root):
            return []
        raise


def read_ground_truth(spark: SparkSession, path: str, execution_time: datetime) -> GroundTruthRead:
    """Read every ground-truth file under `path` and keep the latest label per id."""
    from pyspark.sql import functions as F

    files = _label_files(path)
    if files:
        lines = (
            spark.read.text(files)
            .select(
                F.col("value").alias("line"),
                F.col("_metadata.file_path").alias("file_path"),
                F.col("_metadata.file_block_start").alias("block_start"),
                F.col("_metadata.file_modification_time").alias("modified_at"),
                F.monotonically_increasing_id().alias("position"),
            )
            .where(F.trim("line") != "")
        )
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
    lines_df = parsed.withColumn("status", status)
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
    return GroundTruthRead(lines=lines_df, labels=labels)
