"""Every quarantine reason a reader can give a record, with what it means: one list for all engines.

A record (or a whole line, when the line itself cannot be used) that cannot be analyzed is not
an error of the job: it is counted under one of these reasons in `summary.json`
(`records_quarantined.by_reason`) and sampled to `{output}/quarantine/samples.jsonl`. Another
engine (the DuckDB reader) must give the same reason for the same input, so the reasons are
named here, in the order a reader checks them; the README's "Bad input" section lists them too.
"""

from __future__ import annotations

# name -> meaning. A line gets the first reason that applies, in this order.
QUARANTINE_REASONS: dict[str, str] = {
    "line_too_long": "the line is longer than `max_line_bytes` (dataset config, default 16 MiB); it is not "
                     "parsed, the sample keeps its first 64 KiB",
    "invalid_utf8": "the line (or a payload decoded from base64) is not valid UTF-8",
    "malformed_json": "the line is not a JSON object (capture, JSON Lines)",
    "missing_capture_data": "the capture line has no captureData, or neither an input nor an output side, "
                            "or a side without data",
    "unsupported_encoding": "a capture side's encoding is not CSV, JSON or BASE64",
    "invalid_base64": "a BASE64 capture side is not valid base64",
    "malformed_payload": "a payload that does not parse as its content type says (or as JSON/CSV when sniffed)",
    "record_count_mismatch": "the input and output payloads hold different numbers of records",
    "duplicate_key": "one record names a column twice: a JSON object repeats a key (`{\"a\": 1, \"a\": 2}`), or "
                     "flattening makes two keys one name (`{\"a.b\": 1, \"a\": {\"b\": 2}}`); the record is "
                     "quarantined, never counted twice",
    "invalid_inference_time": "a window was asked for and the record's inferenceTime cannot be read",
    "field_count_mismatch": "a positional (CSV or list) record has another number of fields than the configured "
                            "names, or than most records",
}

LINE_TOO_LONG, DUPLICATE_KEY = "line_too_long", "duplicate_key"
# Default of `DatasetConfig.max_line_bytes`: SageMaker endpoints take requests of up to 6 MB and
# capture them base64-encoded (8 MB), so one capture line of a maximal request and its response
# stays under 16 MiB.
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
# Default of `DatasetConfig.max_columns`: fields kept per record (the rest counted as dropped).
DEFAULT_MAX_COLUMNS = 1000
