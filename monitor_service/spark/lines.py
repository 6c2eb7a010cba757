"""Text lines with a length check before anything parses them: one over-long line cannot fail a job.

Spark's text source reads each line as one value; a single 50 MB capture line then went through
`from_json` and a dozen string expressions (each a copy), and a 2 GB driver ran out of memory
with the good lines lost (issue 7). Here the raw line's byte length is compared with the limit
first, in the projection that reads it: a longer line is replaced by NULL (so no parser ever
sees it), flagged `too_long` and kept only as its first `SAMPLE_CHARS` characters for the
quarantine sample. The rest of the file is read as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SAMPLE_CHARS = 65_536  # what a quarantine sample keeps of any line (records.MAX_SAMPLE_CHARS)


def text_lines(spark: SparkSession, files: list[str], max_bytes: int, *extra: str) -> DataFrame:
    """`line` (NULL when too long), `too_long`, `long_prefix` and `source_file` (+ `extra` columns of the
    text source, e.g. `_metadata.file_modification_time AS modified_at`) for every line of `files`."""
    raw = spark.read.text(files).selectExpr("value", "_metadata.file_path AS source_file", *extra)
    too_long = f"octet_length(value) > {int(max_bytes)}"
    names = [e.rsplit(" AS ", 1)[-1] for e in extra]
    return raw.selectExpr(
        f"CASE WHEN {too_long} THEN NULL ELSE value END AS line",
        f"coalesce({too_long}, false) AS too_long",
        f"CASE WHEN {too_long} THEN substring(value, 1, {SAMPLE_CHARS}) END AS long_prefix",
        "source_file",
        *names,
    )
