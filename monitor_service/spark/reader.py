"""One entry point for every input format: resolve files, parse, quarantine, window-filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor_service.spark.capture import capture_records
from monitor_service.spark.datasets import csv_records, jsonl_records, parquet_records, suffixes_for
from monitor_service.spark.records import ReadResult, finalize_records
from monitor_service.spark.sources import resolve_input
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def read_input(spark: SparkSession, spec: InputSpec, quarantine_dir: str | None) -> ReadResult:
    """Read `spec` into good records; bad ones are counted by reason and sampled to `quarantine_dir`."""
    resolved = resolve_input(spec.path, spec.window if spec.format == "capture" else None, suffixes_for(spec.format))
    config = spec.dataset_config
    input_names = None
    if spec.format == "capture":
        raw = capture_records(spark, resolved.files, config)
    elif spec.format == "csv":
        raw, input_names = csv_records(spark, resolved.files, config)
    elif spec.format == "jsonl":
        raw = jsonl_records(spark, resolved.files, config)
    else:
        raw = parquet_records(spark, resolved.files)
    described = spec.path
    if resolved.pruned_by_window:
        described += f" ({resolved.pruned_by_window} hour folders outside the window skipped)"
    try:
        result = finalize_records(raw, spec, quarantine_dir, described, input_names=input_names)
    except BaseException:
        resolved.cleanup()
        raise
    result.staging_dir = resolved.staging_dir
    return result
