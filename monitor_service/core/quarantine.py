"""Every quarantine reason a reader can give a record, with what it means: one list for all engines.

A record (or a whole line, when the line itself cannot be used) that cannot be analyzed is not
an error of the job: it is counted under one of these reasons in `summary.json`
(`records_quarantined.by_reason`) and sampled to `{output}/quarantine/samples.jsonl`. Another
engine (the DuckDB reader) must give the same reason for the same input, so the reasons are
named here, in the order a reader checks them; the README's "Bad input" section lists them too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

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


# --- which records are quarantined, from a reader's counts -----------------------------------------
#
# A reader counts its records by (own error, input field count, output field count, window
# state). From those counts alone: the expected field count of a positional side is the one the
# dataset config names, else the most common one among the window's records; a record's reason
# is its own error, else an unreadable `inferenceTime` (when a window is asked for), else a
# positional side whose field count differs from the expected one. Records outside the window
# are counted apart and never quarantined by this window.

IN, OUT, INVALID, NOT_APPLICABLE = "in", "out", "invalid", "n/a"
# What a quarantine sample keeps of a line.
MAX_SAMPLE_CHARS = 65_536


@dataclass(frozen=True)
class CountRow:
    """How many records share one (error, field counts, window state); counts None: side absent, -1: keyed.

    `dropped` / `truncated`: fields beyond `max_columns` dropped from these records, and how many
    of the records lost some (counted in summary.json's `columns_dropped` for valid records).
    """

    error: str | None
    in_count: int | None
    out_count: int | None
    state: str
    count: int
    dropped: int = 0
    truncated: int = 0


@dataclass
class Decision:
    expected_in: int | None
    expected_out: int | None
    total: int = 0
    valid: int = 0
    outside: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    fields_dropped: int = 0
    records_truncated: int = 0

    def reason(self, error: str | None, state: str, in_count: int | None, out_count: int | None) -> str | None:
        """Why a record is quarantined (None: it is not), whatever its window state."""
        if error is not None:
            return error
        if state == INVALID:
            return "invalid_inference_time"
        for value, expected in ((in_count, self.expected_in), (out_count, self.expected_out)):
            if expected is not None and value is not None and value >= 0 and value != expected:
                return "field_count_mismatch"
        return None


def expected_count(rows: Iterable[CountRow], side: str, names: list[str] | None) -> int | None:
    """The field count a positional side must have: the configured names', else the most common one."""
    if names:
        return len(names)
    counts: Counter[int] = Counter()
    for row in rows:
        value = row.in_count if side == "in" else row.out_count
        if row.error is None and row.state != OUT and value is not None and value >= 0:
            counts[value] += row.count
    if not counts:
        return None
    return max(counts.items(), key=lambda item: (item[1], -item[0]))[0]


def decide(rows: list[CountRow], input_names: list[str] | None, output_names: list[str] | None) -> Decision:
    """Totals of valid, outside-the-window and quarantined (by reason) records."""
    decision = Decision(expected_count(rows, "in", input_names), expected_count(rows, "out", output_names))
    quarantined: Counter[str] = Counter()
    for row in rows:
        decision.total += row.count
        reason = decision.reason(row.error, row.state, row.in_count, row.out_count)
        if row.state == OUT:
            decision.outside += row.count
        elif reason:
            quarantined[reason] += row.count
        else:
            decision.valid += row.count
            decision.fields_dropped += row.dropped
            decision.records_truncated += row.truncated
    decision.quarantined = dict(quarantined)
    return decision
