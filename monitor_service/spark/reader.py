"""One entry point for every input format: resolve files, parse, quarantine, window-filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor_service.spark.capture import capture_records
from monitor_service.spark.datasets import csv_records, jsonl_records, parquet_records, suffixes_for
from monitor_service.spark.records import ReadResult, finalize_records
from monitor_service.spark.sources import ResolvedInput, resolve_input
from monitor_service.specs import InputSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class RawRecords:
    """The parsed rows of an input before counting (`raw`), and what reading it needs to remember."""

    raw: DataFrame
    input_names: list[str] | None
    described: str
    resolved: ResolvedInput

    def cleanup(self) -> None:
        self.resolved.cleanup()


def resolve(spec: InputSpec) -> ResolvedInput:
    """The files of `spec` (capture pruned to the window's hour folders), staged locally when needed."""
    return resolve_input(spec.path, spec.window if spec.format == "capture" else None, suffixes_for(spec.format))


def raw_records(spark: SparkSession, spec: InputSpec, resolved: ResolvedInput | None = None,
                where: str | None = None) -> RawRecords:
    """Parse the files of `spec` into rows (quarantine reasons of their own included).

    `resolved` reuses files already listed; `where` (capture only) keeps the lines that satisfy it."""
    resolved = resolved if resolved is not None else resolve(spec)
    config = spec.dataset_config
    input_names = None
    try:
        if spec.format == "capture":
            raw = capture_records(spark, resolved.files, config, where)
        elif spec.format == "csv":
            raw, input_names = csv_records(spark, resolved.files, config)
        elif spec.format == "jsonl":
            raw = jsonl_records(spark, resolved.files, config)
        else:
            raw = parquet_records(spark, resolved.files)
    except BaseException:
        resolved.cleanup()
        raise
    return RawRecords(raw, input_names, describe(spec, resolved), resolved)


def describe(spec: InputSpec, resolved: ResolvedInput) -> str:
    """The input as error messages name it."""
    pruned = resolved.pruned_by_window
    return spec.path + (f" ({pruned} hour folders outside the window skipped)" if pruned else "")


def read_input(spark: SparkSession, spec: InputSpec, quarantine_dir: str | None) -> ReadResult:
    """Read `spec` into good records; bad ones are counted by reason and sampled to `quarantine_dir`."""
    source = raw_records(spark, spec)
    try:
        result = finalize_records(source.raw, spec, quarantine_dir, source.described, input_names=source.input_names)
    except BaseException:
        source.cleanup()
        raise
    result.staging_dir = source.resolved.staging_dir
    return result
