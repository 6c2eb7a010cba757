"""Reading plain datasets (training data for baselines): CSV, JSON Lines and Parquet.

They come out in the same row shape as capture records, so quarantine, windowing and
profiling are shared. CSV is read as text and split with the same expressions as CSV capture
payloads (every value stays a string, so Deequ's type inference applies exactly); a header
line, when present, names the columns. Parquet keeps its own column names; nested structs
are flattened to dotted names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor_service.core.quarantine import LINE_TOO_LONG
from monitor_service.errors import InputError
from monitor_service.spark import payloads as P
from monitor_service.spark.lines import text_lines
from monitor_service.specs import DatasetConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

_META = (
    "cast(null as string) AS event_id",
    "cast(null as string) AS inference_id",
    "cast(null as string) AS inference_time_raw",
    "0 AS record_index",
    "cast(null as int) AS out_count",
)


def csv_header(first_file: str, delimiter: str) -> list[str]:
    """Column names from the first line of the first file (read on the driver, one line only)."""
    import csv

    import fsspec

    with fsspec.open(first_file, "r", encoding="utf-8-sig", errors="replace") as handle:  # BOM: Spark drops it too
        first = handle.readline().rstrip("\r\n")
    names = next(csv.reader([first], delimiter=delimiter), [])
    if not names or any(not n.strip() for n in names):
        raise InputError(
            f"the header line of {first_file} has empty column names: {first[:200]!r}",
            hint="fix the header or read without --header",
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(
            f"the header line of {first_file} repeats column names {duplicated}", hint="rename the duplicated columns"
        )
    return names


def _text_lines(spark: SparkSession, files: list[str], config: DatasetConfig) -> DataFrame:
    """Non-blank lines; an over-long one is kept (as its prefix) to be quarantined as line_too_long."""
    return text_lines(spark, files, config.max_line_bytes).where("too_long OR trim(line) != ''")


def _line_error(check: str = "") -> str:
    """The line-level reason: too long first, then invalid UTF-8, then `check` (a further WHEN ... THEN)."""
    return (f"CASE WHEN too_long THEN '{LINE_TOO_LONG}' WHEN NOT is_valid_utf8(line) THEN 'invalid_utf8' "
            f"{check} END")


def csv_records(spark: SparkSession, files: list[str], config: DatasetConfig) -> tuple[DataFrame, list[str] | None]:
    """Rows of a CSV dataset and the column names (header, dataset config, or Spark's `_c{i}`)."""
    names = config.input.names
    lines = _text_lines(spark, files, config)
    if config.header:
        header = csv_header(files[0], config.csv_delimiter)
        names = names or header
        # Header lines (one per file) are recognised by their parsed values, so quoting
        # ("a","b") or a byte-order mark does not turn them into data rows.
        parsed = P.csv_values("replace(line, '\ufeff', '')", config.csv_delimiter)
        lines = lines.where(f"too_long OR NOT ({parsed} <=> {P.sql_string_array(header)})")
    values = P.positional_entries(P.csv_values("line", config.csv_delimiter))
    error = _line_error()
    return lines.selectExpr(
        "source_file",
        f"CASE WHEN {error} IS NOT NULL THEN coalesce(line, long_prefix) END AS line",
        f"{error} AS error",
        *_META,
        f"CASE WHEN {error} IS NULL THEN size({values}) END AS in_count",
        f"CASE WHEN {error} IS NULL THEN "
        f"{P.name_fields(values, 'cast(null as ' + P.ENTRY_TYPE + ')', names, None, False)} "
        "END AS fields",
    ), names


def jsonl_records(spark: SparkSession, files: list[str], config: DatasetConfig) -> DataFrame:
    """Rows of a JSON Lines dataset: each line one record, objects flattened to dotted names."""
    entries = P.json_record_entries("line", config.input.features_attribute)
    error = _line_error(f"WHEN {entries} IS NULL THEN 'malformed_json'")
    signature = f"CASE WHEN exists({entries}, e -> e.key IS NOT NULL) THEN -1 ELSE size({entries}) END"
    no_entries = "cast(null as " + P.ENTRY_TYPE + ")"
    rows = _text_lines(spark, files, config).selectExpr("source_file", "line", "long_prefix", f"{error} AS error")
    return rows.selectExpr(
        "source_file",
        "CASE WHEN error IS NOT NULL THEN coalesce(line, long_prefix) END AS line",
        "error",
        *_META,
        f"CASE WHEN error IS NULL THEN {signature} END AS in_count",
        f"CASE WHEN error IS NULL THEN {P.name_fields(entries, no_entries, config.input.names, None, False)} "
        "END AS fields",
    )


def _leaf_columns(schema: StructType, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted name, SQL expression) for every leaf column; nested structs are flattened."""
    from pyspark.sql.types import ArrayType, MapType, StructType

    out: list[tuple[str, str]] = []
    for f in schema.fields:
        name = f"{prefix}{f.name}"
        path = ".".join(f"`{part.replace('`', '``')}`" for part in name.split("\u0000"))
        if isinstance(f.dataType, StructType):
            out.extend(_leaf_columns(f.dataType, f"{name}\u0000"))
        elif isinstance(f.dataType, ArrayType | MapType):
            out.append((name.replace("\u0000", "."), f"to_json({path})"))
        else:
            out.append((name.replace("\u0000", "."), f"cast({path} as string)"))
    return out


def parquet_records(spark: SparkSession, files: list[str]) -> DataFrame:
    """Rows of a Parquet dataset; every leaf column becomes a named field."""
    from pyspark.sql import functions as F

    try:
        frame = spark.read.parquet(*files)
    except Exception as exc:  # Spark raises AnalysisException / Py4J errors for unreadable files
        raise InputError(
            f"cannot read Parquet input {files[0]}{' and others' if len(files) > 1 else ''}: "
            f"{str(exc).splitlines()[0]}",
            hint="check that the files are Parquet",
        ) from exc
    leaves = _leaf_columns(frame.schema)
    fields = "array(" + ", ".join(f"named_struct('name', {P.sql_string(n)}, 'value', {e})" for n, e in leaves) + ")"
    return frame.select(F.col("_metadata.file_path").alias("source_file"), F.expr(fields).alias("fields")).selectExpr(
        "source_file",
        "cast(null as string) AS line",
        "cast(null as string) AS error",
        *_META,
        "-1 AS in_count",
        "fields",
    )


def suffixes_for(fmt: str) -> tuple[str, ...] | None:
    """File endings to pick from a folder, so stray files (READMEs, manifests) are not read."""
    return {"parquet": (".parquet",), "capture": (".jsonl", ".json", ".jsonl.gz", ".json.gz")}.get(fmt)
