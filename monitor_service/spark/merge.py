"""Joining captured predictions with late-arriving labels, and writing SageMaker's merge output.

A capture record's key is its `inferenceId` when the caller sent one, else its `eventId`
(SageMaker's rule); ground truth carries that key in `eventMetadata.eventId`. Record i of an
event joins label record i. The join is a left join: records without a label stay in the frame
(`has_label` false) so that they are counted, reported and used for the CBPE estimate instead
of being silently dropped.

The labelled records are written like SageMaker's merge job, one JSON object per line under
`{output}/merge/yyyy/mm/dd/hh/part-*.jsonl` (hh = the execution hour), with SageMaker's envelope
(`eventMetadata`, `eventVersion`, `groundTruthData`, `captureData`). `captureData` holds the
flattened record the metrics were computed from (`flattenedRecord`, JSON-encoded), because the
reader keeps named fields rather than the raw payload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor_service import io

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def merge_with_ground_truth(records: DataFrame, labels: DataFrame) -> DataFrame:
    """Left-join capture records (read_capture's shape) with `read_ground_truth(...).labels`."""
    from pyspark.sql import functions as F

    keyed = records.withColumn("join_key", F.coalesce(F.col("inference_id"), F.col("event_id")))
    right = labels.withColumnRenamed("key", "gt_key").withColumnRenamed("record_index", "gt_record_index")
    merged = keyed.join(
        right,
        (keyed["join_key"] == right["gt_key"]) & (keyed["record_index"] == right["gt_record_index"]),
        "left",
    )
    return merged.drop("gt_key", "gt_record_index").withColumn("has_label", F.col("gt_fields").isNotNull())


def merge_output_dir(output_dir: str, execution_time: datetime) -> str:
    t = execution_time.astimezone(UTC)
    return io.join(output_dir, "merge", f"{t:%Y}", f"{t:%m}", f"{t:%d}", f"{t:%H}")


def write_merged(merged: DataFrame, output_dir: str, execution_time: datetime) -> str:
    """Write the labelled records as SageMaker merged records; returns the folder written."""
    from pyspark.sql import functions as F

    target = merge_output_dir(output_dir, execution_time)
    record = F.struct(
        F.struct(
            F.col("join_key").alias("eventId"),
            F.col("inference_id").alias("inferenceId"),
            F.date_format("inference_time", "yyyy-MM-dd'T'HH:mm:ss'Z'").alias("inferenceTime"),
            F.col("record_index").alias("recordIndex"),
        ).alias("eventMetadata"),
        F.lit("0").alias("eventVersion"),
        F.struct(F.col("gt_data").alias("data"), F.col("gt_encoding").alias("encoding")).alias("groundTruthData"),
        F.struct(
            F.struct(F.to_json(F.map_from_entries("fields")).alias("data"), F.lit("JSON").alias("encoding")).alias(
                "flattenedRecord"
            )
        ).alias("captureData"),
    )
    (
        merged.where("has_label")
        .select(F.to_json(record).alias("value"))
        .write.mode("overwrite")
        .option("compression", "none")
        .text(target)
    )
    _rename_parts(target)
    return target


def _rename_parts(folder: str) -> None:
    """Spark's text writer names parts `.txt`; SageMaker's merge output uses `.jsonl`."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(folder)
    for part in fs.glob(f"{root}/part-*.txt"):
        fs.mv(part, part[: -len(".txt")] + ".jsonl")
