"""Capture lines to record batches: DuckDB's fast path for the common shapes, Python for the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor_service.core.quarantine import LINE_TOO_LONG, MAX_SAMPLE_CHARS
from monitor_service.duckdb.fastpath import Sides, envelope_query, split_sides
from monitor_service.duckdb.general import LineResult, capture_line, envelope_metadata
from monitor_service.duckdb.lines import LineBatch
from monitor_service.duckdb.timestamps import NO_TIME, timestamps
from monitor_service.duckdb.window import ABSENT, REASON_CODE, RecordBatch, ValuePart
from monitor_service.specs import DatasetConfig

LINE_SCHEMA = pa.schema([("file_index", pa.int32()), ("line_no", pa.int64()), ("raw", pa.large_binary()),
                         ("too_long", pa.bool_())])
STREAM_ROWS = 8192  # lines per Arrow batch DuckDB pulls
RESULT_ROWS = 65536  # lines per batch of results: fewer, larger calls of the profiler's loops


class CaptureDecoder:
    """Capture lines to record batches: ONE DuckDB query streams over every line of every file.

    One query (rather than one per block of lines) keeps DuckDB's per-query cost out of the
    loop; its scan pulls line batches from `lines` as it needs them, and its results come back
    as Arrow batches of `RESULT_ROWS` lines, decoded here as they arrive.
    """

    def __init__(self, con: Any, config: DatasetConfig) -> None:
        self.con = con
        self.times = con.cursor()  # for the general path's timestamps while the stream's result is open
        self.config = config
        self.sql = envelope_query(config, "_stream")

    def decode_stream(self, lines: Iterator[LineBatch]) -> Iterator[RecordBatch]:
        def arrow_batches() -> Iterator[pa.RecordBatch]:
            for batch in lines:
                table = pa.table({"file_index": pa.array(np.full(len(batch), batch.file_index, np.int32)),
                                  "line_no": batch.line_numbers, "raw": batch.lines,
                                  "too_long": pa.array(batch.long_mask)}, schema=LINE_SCHEMA)
                yield from table.to_batches(max_chunksize=STREAM_ROWS)

        self.con.register("_stream", pa.RecordBatchReader.from_batches(LINE_SCHEMA, arrow_batches()))
        try:
            for result in self.con.sql(self.sql).to_arrow_reader(RESULT_ROWS):
                rows = pa.Table.from_batches([result])
                files = rows.column("file_index").to_numpy()
                for file_index in np.unique(files).tolist():
                    part = rows if files[0] == files[-1] == file_index else rows.filter(pa.array(files == file_index))
                    yield from self._decode(int(file_index), part.combine_chunks())
        finally:
            self.con.unregister("_stream")
            self.times.close()

    def _decode(self, file_index: int, rows: pa.Table) -> Iterator[RecordBatch]:
        sides = split_sides(rows, self.config)
        raw = rows.column("raw").combine_chunks()
        if sides.fast.any():
            yield self._fast(file_index, rows, sides, raw)
        if not sides.fast.all():
            yield self._others(file_index, rows, ~sides.fast, raw)

    def _fast(self, file_index: int, rows: pa.Table, sides: Sides, raw: pa.Array) -> RecordBatch:
        """Fast lines: error lines as one row each, the others as their records (one part per side)."""
        fast = sides.fast
        per_line = np.where(sides.records > 0, sides.records, 1)[fast]
        lines = np.flatnonzero(fast)
        parent = np.repeat(lines, per_line)
        first = np.concatenate([[0], np.cumsum(per_line)[:-1]])
        record_index = (np.arange(len(parent)) - np.repeat(first, per_line)).astype(np.int32)
        parts, counts = [], {}
        for side in ("in", "out"):
            found = sides.sides[side]
            here = found.present[parent]
            lengths = np.zeros(len(parent), np.int64)
            lengths[here] = np.diff(found.offsets)
            offsets = np.zeros(len(parent) + 1, np.int64)
            np.cumsum(lengths, out=offsets[1:])
            parts.append(ValuePart(offsets, found.values, side=side))
            counts[side] = np.where(here, lengths, ABSENT).astype(np.int32)
        error_codes = np.array([REASON_CODE[e] if e else 0 for e in sides.error], np.int8)
        take = pa.array(parent)
        time_us = rows.column("time_us").fill_null(NO_TIME).to_numpy(zero_copy_only=False).astype(np.int64)
        errored = np.flatnonzero(fast & (error_codes != 0))
        texts = [None] * len(rows)
        for i, text in zip(errored.tolist(), pc.take(raw, pa.array(errored)).to_pylist(), strict=True):
            texts[i] = text.decode("utf-8")
        return RecordBatch(
            file_index=file_index, line_no=rows.column("line_no").to_numpy()[parent],
            record_index=record_index, error=error_codes[parent], in_count=counts["in"], out_count=counts["out"],
            time_us=time_us[parent], event_id=pc.take(rows.column("event_id").combine_chunks(), take),
            inference_time=pc.take(rows.column("inference_time").combine_chunks(), take),
            line=pc.take(pa.array(texts, pa.large_string()), take), parts=parts)

    def _others(self, file_index: int, rows: pa.Table, others: np.ndarray, raw: pa.Array) -> RecordBatch:
        """Lines for the general path (decoded in Python) and lines that are not valid UTF-8."""
        picked = np.flatnonzero(others)
        states = pc.take(rows.column("state").combine_chunks(), pa.array(picked)).to_pylist()
        raws = pc.take(raw, pa.array(picked)).to_pylist()
        line_numbers = rows.column("line_no").to_numpy()[picked].tolist()
        out = _Builder()
        for state, raw, line_no in zip(states, raws, line_numbers, strict=True):
            if state == "too_long":
                out.error_row(line_no, LINE_TOO_LONG, sample_text(raw), None, None)
                continue
            if state == "bad_utf8":
                # Spark still reads the envelope of such a line (bytes replaced), so its event id and
                # inferenceTime (which charges the line to a window) are known
                text = raw.decode("utf-8", errors="replace")
                meta = envelope_metadata(text)
                out.error_row(line_no, "invalid_utf8", text, meta.get("eventId"), meta.get("inferenceTime"))
                continue
            text = raw.decode("utf-8")
            out.line(line_no, text, capture_line(text, self.config))
        return out.build(self.times, file_index)


class _Builder:
    """Collects general-path records into the columns of a RecordBatch."""

    def __init__(self) -> None:
        self.line_no: list[int] = []
        self.record_index: list[int] = []
        self.error: list[int] = []
        self.in_count: list[int] = []
        self.out_count: list[int] = []
        self.event_id: list[str | None] = []
        self.inference_time: list[str | None] = []
        self.line_text: list[str | None] = []
        self.lengths: list[int] = []
        self.names: list[str] = []
        self.values: list[str | None] = []

    def error_row(self, line_no: int, reason: str, text: str, event_id: str | None, time: str | None) -> None:
        self._row(line_no, 0, REASON_CODE[reason], ABSENT, ABSENT, event_id, time, text, [])

    def line(self, line_no: int, text: str, result: LineResult) -> None:
        if result.error is not None:
            self.error_row(line_no, result.error, text, result.event_id, result.inference_time)
            return
        for record in result.records:
            self._row(line_no, record.record_index, 0, _absent(record.in_count), _absent(record.out_count),
                      result.event_id, result.inference_time, None, record.fields)

    def record(self, line_no: int, in_count: int, fields: list[tuple[str, str | None]]) -> None:
        """One record of a plain dataset (no output side, no event metadata)."""
        self._row(line_no, 0, 0, in_count, ABSENT, None, None, None, fields)

    def _row(self, line_no: int, index: int, error: int, in_count: int, out_count: int, event_id: str | None,
             time: str | None, text: str | None, fields: list[tuple[str, str | None]]) -> None:
        self.line_no.append(line_no)
        self.record_index.append(index)
        self.error.append(error)
        self.in_count.append(in_count)
        self.out_count.append(out_count)
        self.event_id.append(event_id)
        self.inference_time.append(time)
        self.line_text.append(text)
        self.lengths.append(len(fields))
        for name, value in fields:
            self.names.append(name)
            self.values.append(value)

    def build(self, con: Any, file_index: int, times: bool = True) -> RecordBatch:
        offsets = np.zeros(len(self.lengths) + 1, np.int64)
        np.cumsum(np.asarray(self.lengths, np.int64), out=offsets[1:])
        raw_times = pa.array(self.inference_time, pa.large_string())
        time_us = timestamps(con, raw_times) if times and len(raw_times) else np.full(len(raw_times), NO_TIME)
        return RecordBatch(
            file_index=file_index, line_no=np.asarray(self.line_no, np.int64),
            record_index=np.asarray(self.record_index, np.int32), error=np.asarray(self.error, np.int8),
            in_count=np.asarray(self.in_count, np.int32), out_count=np.asarray(self.out_count, np.int32),
            time_us=time_us, event_id=pa.array(self.event_id, pa.large_string()), inference_time=raw_times,
            line=pa.array(self.line_text, pa.large_string()),
            parts=[ValuePart.strings(offsets, pa.array(self.values, pa.large_string()),
                                     names=pa.array(self.names, pa.large_string()))])


def sample_text(raw: bytes) -> str:
    """What a sample keeps of an over-long line: its first characters, as Spark's `substring`."""
    return raw.decode("utf-8", errors="replace")[:MAX_SAMPLE_CHARS]


def _absent(count: int | None) -> int:
    return ABSENT if count is None else count



