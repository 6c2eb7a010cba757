"""Counting, quarantining and window-filtering records in one pass, while they are profiled.

The rules are `monitor_service.spark.records.finalize_records`'s: a line's own error first,
then an unreadable `inferenceTime` (when a window is asked for), then a positional side whose
field count differs from the most common one among the window's records. The expected field
count is only known at the end, so records are profiled in one group per field-count signature
`(input count, output count)`; at the end the groups whose signature is the expected one are
merged into the profile and the others are quarantined (their first rows kept as samples).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor_service import io
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.quarantine import DUPLICATE_KEY, MAX_SAMPLE_CHARS, CountRow, decide
from monitor_service.duckdb.profiler import ProfileBuilder, Spans
from monitor_service.duckdb.timestamps import NO_TIME
from monitor_service.errors import EmptyInputError
from monitor_service.runner.common import ReadCounts
from monitor_service.spark.sources import hour_of
from monitor_service.specs import InputSpec

# Reason codes of a record's own error (0: none), in the order Spark decides them.
REASONS = ("", "invalid_utf8", "malformed_json", "missing_capture_data", "unsupported_encoding", "invalid_base64",
           "malformed_payload", "record_count_mismatch", "line_too_long", "duplicate_key")
REASON_CODE = {name: i for i, name in enumerate(REASONS)}
IN, OUT, INVALID, NA = 0, 1, 2, 3
_STATES = {IN: "in", OUT: "out", INVALID: "invalid", NA: "n/a"}
ABSENT = -2  # a side's field count when the side is absent (Spark's null)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ValuePart:
    """Values of the batch's records: record r holds values `offsets[r]` to `offsets[r + 1]`.

    With `names`, each value is named; without, the part is one capture side ("in" / "out")
    of positional records, named by the record's signature as `name_fields` names them.
    """

    offsets: np.ndarray
    values: Spans
    names: pa.Array | None = None
    side: str = "in"

    def of(self, r: int) -> tuple[int, int]:
        return int(self.offsets[r]), int(self.offsets[r + 1])

    @classmethod
    def strings(cls, offsets: np.ndarray, values: pa.Array, names: pa.Array | None = None,
                side: str = "in") -> ValuePart:
        return cls(offsets, Spans.of(values), names, side)


@dataclass
class RecordBatch:
    """Records of consecutive lines of one file, columnar; `line` holds the text of error rows."""

    file_index: int
    line_no: np.ndarray
    record_index: np.ndarray
    error: np.ndarray
    in_count: np.ndarray
    out_count: np.ndarray
    time_us: np.ndarray
    event_id: pa.Array
    inference_time: pa.Array
    line: pa.Array
    parts: list[ValuePart]

    def __len__(self) -> int:
        return len(self.line_no)


@dataclass
class _Samples:
    """At most `limit` rows per key with the smallest (file, record index, line) order."""

    limit: int
    rows: dict[Any, list[tuple[tuple[int, int, int], dict[str, Any]]]] = field(default_factory=dict)

    def wants(self, key: Any) -> int:
        return self.limit - len(self.rows.get(key, [])) if self.limit else 0

    def offer(self, key: Any, batch: RecordBatch, picked: np.ndarray, make: Any) -> None:
        if self.limit == 0 or len(picked) == 0:
            return
        order = np.lexsort((batch.line_no[picked], batch.record_index[picked]))
        chosen = picked[order[: self.limit]]
        kept = self.rows.setdefault(key, [])
        for i in chosen.tolist():
            kept.append(((batch.file_index, int(batch.record_index[i]), int(batch.line_no[i])), make(batch, i)))
        kept.sort(key=lambda item: item[0])
        del kept[self.limit:]


class WindowReader:
    """Feeds record batches into counts, samples and per-signature profiles; `finish` decides."""

    def __init__(self, spec: InputSpec, sources: list[str], *, domains: dict[str, list[str]] | None = None,
                 output_names: list[str] | None = None, input_names: list[str] | None = None) -> None:
        self.spec = spec
        self.config = spec.dataset_config
        self.sources = sources
        self.domains = domains or {}
        self.output_names = output_names if output_names is not None else self.config.output.names
        self.input_names = input_names if input_names is not None else self.config.input.names
        window = spec.window
        self._start = _micros(window.start) if window else None
        self._end = _micros(window.end) if window else None
        self._file_hour = [_hour_micros(s) for s in sources]
        self.counts: Counter[tuple[int, int, int, int]] = Counter()
        # (error, in count, out count, state) -> (fields dropped beyond max_columns, records that lost some)
        self.dropped: dict[tuple[int, int, int, int], tuple[int, int]] = {}
        self.groups: dict[tuple[int, int], ProfileBuilder] = {}
        self.samples = _Samples(self.config.quarantine_sample_size)
        self._positional_names: dict[tuple[int, int], list[str]] = {}

    # --- one batch ---------------------------------------------------------------------------------
    def add(self, batch: RecordBatch) -> None:
        if len(batch) == 0:
            return
        state = self._states(batch)
        self._repeated_names(batch)
        fields = sum((np.diff(part.offsets) for part in batch.parts), np.zeros(len(batch), np.int64))
        dropped = np.where(batch.error == 0, np.maximum(fields - self.config.max_columns, 0), 0)
        for key, n, fields_dropped, truncated in _tally(batch.error, batch.in_count, batch.out_count, state,
                                                         dropped):
            self.counts[key] += n
            if fields_dropped:
                self.dropped[key] = self.dropped.get(key, (0, 0))
                self.dropped[key] = (self.dropped[key][0] + fields_dropped, self.dropped[key][1] + truncated)
        errors = batch.error != 0
        charged = state != OUT
        for code in np.unique(batch.error[errors & charged]).tolist():
            picked = np.flatnonzero((batch.error == code) & charged)
            if self.samples.wants(REASONS[code]):
                self.samples.offer(REASONS[code], batch, picked, self._sample)
        invalid = np.flatnonzero(~errors & (state == INVALID))
        if len(invalid) and self.samples.wants("invalid_inference_time"):
            self.samples.offer("invalid_inference_time", batch, invalid, self._sample)
        good = ~errors & (state == IN)
        if not good.any():
            return
        signatures = _pack(batch.in_count, batch.out_count)
        for packed in _distinct(signatures[good]).tolist():
            rows = np.flatnonzero(good & (signatures == packed))
            key = _unpack(packed)
            if self.samples.wants(("signature", key)):
                self.samples.offer(("signature", key), batch, rows, self._sample)
            self._profile(key, batch, rows)

    def _repeated_names(self, batch: RecordBatch) -> None:
        """Records naming a column twice are quarantined as `duplicate_key` (`_checked_fields`)."""
        ok = batch.error == 0
        if not ok.any():
            return
        if any(part.names is not None for part in batch.parts):
            for part in batch.parts:
                if part.names is not None and len(part.names):
                    batch.error[ok & _records_repeating_names(part)] = REASON_CODE[DUPLICATE_KEY]
            return
        signatures = _pack(batch.in_count, batch.out_count)
        for packed in _distinct(signatures[ok]).tolist():
            if _repeated(self._names_for(_unpack(packed))):
                batch.error[ok & (signatures == packed)] = REASON_CODE[DUPLICATE_KEY]

    def _names_of(self, batch: RecordBatch, i: int) -> list[str]:
        """Record i's field names in their order (named parts, else by the record's signature)."""
        names: list[str] = []
        for part in batch.parts:
            if part.names is not None:
                lo, hi = part.of(i)
                names.extend(part.names.slice(lo, hi - lo).to_pylist())
        if names or all(part.names is not None for part in batch.parts):
            return names
        return self._names_for((int(batch.in_count[i]), int(batch.out_count[i])))

    def _states(self, batch: RecordBatch) -> np.ndarray:
        n = len(batch)
        if self._start is None or self._end is None:
            return np.full(n, IN, np.int8)
        t = batch.time_us
        known = t != NO_TIME
        inside = known & (t >= self._start) & (t < self._end)
        state = np.where(known, np.where(inside, IN, OUT), INVALID).astype(np.int8)
        errors = batch.error != 0
        if errors.any():
            hour = self._file_hour[batch.file_index]
            charged = np.where(known, t, hour if hour is not None else NO_TIME)
            outside = (charged != NO_TIME) & ((charged < self._start) | (charged >= self._end))
            state = np.where(errors, np.where(outside, OUT, NA), state).astype(np.int8)
        return state

    def _profile(self, key: tuple[int, int], batch: RecordBatch, rows: np.ndarray) -> None:
        builder = self.groups.get(key)
        if builder is None:
            builder = self.groups[key] = ProfileBuilder(self.domains)
        builder.records += len(rows)
        for part in batch.parts:
            values, names, starts = _select(part, rows, len(batch))
            if names is None:
                self._positional(builder, key, part.side, values, len(rows))
            else:
                self._named(builder, values, names, starts)

    def _positional(self, builder: ProfileBuilder, key: tuple[int, int], side: str, values: Spans,
                    records: int) -> None:
        """Values of one side of positional records with signature `key`: the same width each."""
        in_n, out_n = max(key[0], 0), max(key[1], 0)
        width = in_n if side == "in" else out_n
        if width == 0 or len(values) == 0:
            return
        first = "out" if self.config.output_position == "START" else "in"
        offset = 0 if side == first else (out_n if first == "out" else in_n)
        kept = min(width, self.config.max_columns - offset)  # fields past max_columns are not profiled
        if kept <= 0:
            return
        names = self._names_for(key)[offset:offset + kept]
        cols = np.full(width, -1, np.int32)
        cols[:kept] = builder.column_ids(names, list(range(offset, offset + kept)))
        builder.add(values, np.tile(cols, records), uniform_width=width)

    def _named(self, builder: ProfileBuilder, values: Spans, names: pa.Array, starts: np.ndarray) -> None:
        if len(values) == 0:
            return
        counts = np.diff(np.concatenate([starts, [len(values)]]))
        positions = np.arange(len(values)) - np.repeat(starts, counts)
        encoded = pc.dictionary_encode(names)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        kept = positions < self.config.max_columns  # fields past max_columns are not profiled
        first_pos = np.full(len(encoded.dictionary), np.iinfo(np.int64).max, np.int64)
        np.minimum.at(first_pos, indices[kept], positions[kept])
        seen = first_pos < np.iinfo(np.int64).max
        ids = np.full(len(encoded.dictionary), -1, np.int32)
        if seen.any():
            ids[seen] = builder.column_ids([n for n, s in zip(encoded.dictionary.to_pylist(), seen.tolist(),
                                                              strict=True) if s], first_pos[seen].tolist())
        builder.add(values, np.where(kept, ids[indices], -1).astype(np.int32))

    def _names_for(self, key: tuple[int, int]) -> list[str]:
        """Positional names of a fast-path record with this signature (`name_fields` for two CSV sides)."""
        names = self._positional_names.get(key)
        if names is None:
            in_n, out_n = max(key[0], 0), max(key[1], 0)
            start_first = self.config.output_position == "START"
            first_n, second_n = (out_n, in_n) if start_first else (in_n, out_n)
            first_names, second_names = ((self.output_names, self.input_names) if start_first
                                         else (self.input_names, self.output_names))
            names = [_name(first_names, j, j) for j in range(first_n)]
            names += [_name(second_names, j, first_n + j) for j in range(second_n)]
            self._positional_names[key] = names
        return names

    def _sample(self, batch: RecordBatch, i: int) -> dict[str, Any]:
        line = batch.line[i].as_py()
        sides: dict[str, list[Any]] = {}
        for part in batch.parts:
            lo, hi = part.of(i)
            sides.setdefault(part.side if part.names is None else "named", []).extend(
                part.values.text(v) for v in range(lo, hi))
        first, second = ("out", "in") if self.config.output_position == "START" else ("in", "out")
        values = sides.get("named", []) + sides.get(first, []) + sides.get(second, [])
        names = self._names_of(batch, i) if batch.error[i] == REASON_CODE[DUPLICATE_KEY] else []
        return {"source_file": self.sources[batch.file_index], "event_id": batch.event_id[i].as_py(),
                "record_index": int(batch.record_index[i]), "line": line,
                "inference_time": batch.inference_time[i].as_py(), "names": names,
                "in_count": _count(batch.in_count[i]), "out_count": _count(batch.out_count[i]),
                "values": values[: self.config.max_columns]}

    # --- the end -----------------------------------------------------------------------------------
    def finish(self, quarantine_dir: str | None, described: str,
               categorical: set[str] | None = None) -> tuple[ReadCounts, DatasetProfile]:
        rows = [CountRow(REASONS[e] or None, _count(i), _count(o), _STATES[st], n, *self.dropped.get((e, i, o, st),
                                                                                                     (0, 0)))
                for (e, i, o, st), n in sorted(self.counts.items())]
        decision = decide(rows, self.input_names, self.output_names)
        expected_in, expected_out = decision.expected_in, decision.expected_out
        quarantined, valid = decision.quarantined, decision.valid
        merged = ProfileBuilder(self.domains)
        bad_signatures = []
        for (in_n, out_n), builder in sorted(self.groups.items()):
            if decision.reason(None, "in", _count(in_n), _count(out_n)) is None:
                merged.merge(builder)
            else:
                bad_signatures.append((in_n, out_n))
        files: list[str] = []
        if quarantined and quarantine_dir:
            files = self._write_quarantine(quarantine_dir, dict(quarantined), bad_signatures, expected_in,
                                           expected_out)
        elif quarantine_dir:
            for name in ("counts.json", "samples.jsonl"):
                io.remove(io.join(quarantine_dir, name))
        counts = ReadCounts(records_read=decision.total, records_valid=valid, outside_window=decision.outside,
                            quarantined=dict(quarantined), quarantine_files=files,
                            fields_dropped=decision.fields_dropped, records_truncated=decision.records_truncated)
        if valid == 0:
            error = EmptyInputError(counts.empty_reason(described, self.spec))
            error.read = counts  # type: ignore[attr-defined]
            raise error
        return counts, merged.profile(valid, categorical)

    def _write_quarantine(self, folder: str, counts: dict[str, int], bad_signatures: list[tuple[int, int]],
                          expected_in: int | None, expected_out: int | None) -> list[str]:
        limit = self.config.quarantine_sample_size
        samples_path, counts_path = io.join(folder, "samples.jsonl"), io.join(folder, "counts.json")
        if limit > 0:
            chosen: dict[str, list[tuple[tuple[int, int, int], dict[str, Any]]]] = {}
            for key, rows in self.samples.rows.items():
                if isinstance(key, tuple):
                    if key[1] not in bad_signatures:
                        continue
                    reason = "field_count_mismatch"
                else:
                    reason = key
                if reason in counts:
                    chosen.setdefault(reason, []).extend(rows)
            lines = []
            for reason in sorted(chosen):
                for _, raw in sorted(chosen[reason], key=lambda item: item[0])[:limit]:
                    lines.append(json.dumps(_sample_doc(reason, raw, expected_in, expected_out), ensure_ascii=False))
            io.write_text_atomic(samples_path, "\n".join(lines) + ("\n" if lines else ""))
        io.write_json_atomic(counts_path, {"total": sum(counts.values()), "by_reason": counts,
                                           "sampled_per_reason": limit})
        return [counts_path, samples_path] if limit > 0 else [counts_path]


def _pack(in_count: np.ndarray, out_count: np.ndarray) -> np.ndarray:
    """A signature (input count, output count) as one int64 (counts are at least ABSENT = -2)."""
    return (in_count.astype(np.int64) + 2) << 32 | (out_count.astype(np.int64) + 2)


def _unpack(packed: int) -> tuple[int, int]:
    return (packed >> 32) - 2, (packed & 0xFFFFFFFF) - 2


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct keys; most batches have one, which needs no sort."""
    if len(keys) == 0:
        return keys
    if (keys == keys[0]).all():
        return keys[:1]
    return np.unique(keys)


def _tally(error: np.ndarray, in_count: np.ndarray, out_count: np.ndarray, state: np.ndarray,
           dropped: np.ndarray) -> list[tuple[tuple[int, int, int, int], int, int, int]]:
    """Per (error, in count, out count, window state): records, fields dropped, records that lost some."""
    signature = _pack(in_count, out_count)
    code = error.astype(np.int64) << 3 | state.astype(np.int64)
    if (signature == signature[0]).all() and (code == code[0]).all():
        groups = [(int(signature[0]), int(code[0]), np.arange(len(code)))]
    else:
        keys = np.rec.fromarrays([signature, code], names="s,c")
        unique, inverse = np.unique(keys, return_inverse=True)
        groups = [(int(u["s"]), int(u["c"]), np.flatnonzero(inverse == g)) for g, u in enumerate(unique)]
    out = []
    for packed, c, rows in groups:
        in_n, out_n = _unpack(packed)
        lost = dropped[rows]
        out.append(((c >> 3, in_n, out_n, c & 7), len(rows), int(lost.sum()), int((lost > 0).sum())))
    return out


def _records_repeating_names(part: ValuePart) -> np.ndarray:
    """Per record of a named part: does it name a column twice?"""
    lengths = np.diff(part.offsets)
    assert part.names is not None
    codes = pc.dictionary_encode(part.names).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    records = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    pairs = np.unique(records * (int(codes.max()) + 1 if len(codes) else 1) + codes)
    distinct = np.bincount(pairs // (int(codes.max()) + 1 if len(codes) else 1), minlength=len(lengths))
    return distinct < lengths


def _repeated(names: list[str]) -> bool:
    return len(set(names)) != len(names)


def _select(part: ValuePart, rows: np.ndarray, total: int) -> tuple[Spans, pa.Array | None, np.ndarray]:
    """The values (and names) of records `rows` of a part, with each record's first value index."""
    starts, ends = part.offsets[rows], part.offsets[rows + 1]
    contiguous = len(rows) == total or (rows[-1] - rows[0] + 1 == len(rows))
    if contiguous:
        lo, hi = int(starts[0]), int(ends[-1])
        names = part.names.slice(lo, hi - lo) if part.names is not None else None
        return part.values.slice(lo, hi), names, starts - lo
    lengths = ends - starts
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    index = np.repeat(starts - before, lengths) + np.arange(int(lengths.sum()))
    names = pc.take(part.names, pa.array(index)) if part.names is not None else None
    return part.values.take(index), names, before


def _sample_doc(reason: str, raw: dict[str, Any], expected_in: int | None, expected_out: int | None) -> dict[str, Any]:
    """A samples.jsonl entry, field for field as the Spark reader writes it."""
    sample: dict[str, Any] = {"reason": reason, "source_file": raw["source_file"], "event_id": raw["event_id"],
                              "record_index": raw["record_index"]}
    if raw["line"] is not None:
        sample["line"] = raw["line"][:MAX_SAMPLE_CHARS]
    if reason == "invalid_inference_time":
        sample["inference_time"] = raw["inference_time"]
    if reason == "field_count_mismatch":
        sample["detail"] = (f"input has {raw['in_count']} fields (expected {expected_in}), "
                            f"output has {raw['out_count']} fields (expected {expected_out})")
        sample["values"] = list(raw["values"] or [])
    if reason == DUPLICATE_KEY:
        repeated = sorted(name for name, n in Counter(raw["names"]).items() if n > 1)
        sample["detail"] = f"the names {repeated} occur more than once in one record"
    return sample


def _name(names: list[str] | None, i: int, index: int) -> str:
    return names[i] if names and i < len(names) else f"_c{index}"


def _count(value: Any) -> int | None:
    value = int(value)
    return None if value == ABSENT else value


def _micros(when: datetime) -> int:
    return (when - _EPOCH) // timedelta(microseconds=1)


def _hour_micros(source: str) -> int | None:
    hour = hour_of(source)
    return _micros(hour) if hour is not None else None
