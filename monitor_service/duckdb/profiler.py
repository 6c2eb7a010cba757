"""Profiling Arrow batches of record values into the same `DatasetProfile` the Spark profiler makes.

Per column, as `monitor_service.spark.profiler` computes it: counts, Deequ type counts (the
compiled automaton in `kernels`), moments of the numeric values, a DataSketches KLL sketch
(k = 2048, vectorized updates), a DataSketches HLL sketch (lgK 12, HLL_8; registers from the
compiled MurmurHash3, or the exact distinct values while a column has few), the exact
histogram of low-cardinality columns and the number of values inside a baseline domain. State
is mergeable, so profiles of several groups of records (the reader keeps one per field-count
signature) merge into one at the end.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import datasketches
import numpy as np
import pyarrow as pa

from monitor_service.core import profile as limits
from monitor_service.core.hll import DEFAULT_LG_K, TARGET_TYPE
from monitor_service.core.hll import estimate as hll_estimate
from monitor_service.core.kll import DEFAULT_K, from_datasketches
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import determine_type
from monitor_service.duckdb import kernels as K

TYPE_NAMES = ("Unknown", "Fractional", "Integral", "Boolean", "String")
_HLL_MODE = 2
_OUT_OF_ORDER = 16


@dataclass
class Moments:
    """Count, sum, mean, M2, min and max of the numeric values, merged with Chan's formulas."""

    count: int = 0
    total: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    low: float = np.inf
    high: float = -np.inf

    def add(self, values: np.ndarray) -> None:
        n = len(values)
        if n == 0:
            return
        total = float(values.sum())
        mean = total / n
        m2 = float(np.square(values - mean).sum())
        self.merge(Moments(n, total, mean, m2, float(values.min()), float(values.max())))

    def merge(self, other: Moments) -> None:
        if other.count == 0:
            return
        if self.count == 0:
            self.count, self.total, self.mean, self.m2 = other.count, other.total, other.mean, other.m2
            self.low, self.high = other.low, other.high
            return
        n = self.count + other.count
        delta = other.mean - self.mean
        self.m2 += other.m2 + delta * delta * self.count * other.count / n
        self.mean += delta * other.count / n
        self.total += other.total
        self.count = n
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)


@dataclass
class Column:
    name: str
    position: int
    moments: Moments = field(default_factory=Moments)
    kll: datasketches.kll_doubles_sketch = field(default_factory=lambda: datasketches.kll_doubles_sketch(DEFAULT_K))
    values: dict[int, str] = field(default_factory=dict)  # table slot -> value text


class ProfileBuilder:
    """Accumulates the profile of one group of records, batch by batch."""

    def __init__(self, domains: dict[str, list[str]] | None = None) -> None:
        self.columns: list[Column] = []
        self.index: dict[str, int] = {}
        self.domains = domains or {}
        self.records = 0
        cap = 8
        self.type_counts = np.zeros((cap, 5), np.int64)
        self.registers = np.zeros((cap, K.HLL_SLOTS), np.uint8)
        self.table_keys = np.zeros((cap, K.TABLE_SLOTS), np.uint64)
        self.table_counts = np.zeros((cap, K.TABLE_SLOTS), np.int64)
        self.distinct = np.zeros(cap, np.int32)
        self.overflow = np.zeros(cap, np.bool_)
        self.domain_matches = np.zeros(cap, np.int64)
        self._domain_keys = np.zeros(0, np.uint64)
        self._domain_bounds = np.zeros(cap + 1, np.int64)

    # --- columns ---------------------------------------------------------------------------------
    def column_ids(self, names: list[str], positions: list[int]) -> np.ndarray:
        """Ids of the named columns (created on first sight), positions kept at their minimum."""
        ids = np.empty(len(names), np.int32)
        for j, (name, pos) in enumerate(zip(names, positions, strict=True)):
            at = self.index.get(name)
            if at is None:
                at = self._add(name, pos)
            elif pos < self.columns[at].position:
                self.columns[at].position = pos
            ids[j] = at
        return ids

    def _add(self, name: str, position: int) -> int:
        at = len(self.columns)
        self.columns.append(Column(name, position))
        self.index[name] = at
        if at >= len(self.distinct):
            self._grow(2 * len(self.distinct))
        self._set_domains()
        return at

    def _grow(self, cap: int) -> None:
        def wider(a: np.ndarray) -> np.ndarray:
            out = np.zeros((cap, *a.shape[1:]), a.dtype)
            out[: len(a)] = a
            return out

        self.type_counts, self.registers = wider(self.type_counts), wider(self.registers)
        self.table_keys, self.table_counts = wider(self.table_keys), wider(self.table_counts)
        self.distinct, self.overflow = wider(self.distinct), wider(self.overflow)
        self.domain_matches = wider(self.domain_matches)

    def _set_domains(self) -> None:
        keys: list[np.ndarray] = []
        bounds = np.zeros(len(self.distinct) + 1, np.int64)
        total = 0
        for at, column in enumerate(self.columns):
            values = self.domains.get(column.name)
            if values:
                keys.append(np.unique(_hash_keys(pa.array(values, pa.large_string()))))
                total += len(keys[-1])
            bounds[at + 1:] = total
        self._domain_keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        self._domain_bounds = bounds

    # --- values ----------------------------------------------------------------------------------
    def add(self, spans: Spans, cols: np.ndarray, uniform_width: int | None = None) -> None:
        """Profile the values `spans`; `cols[i]` is the column of value i (the caller counts records).

        With `uniform_width` n, value i belongs to record i // n and column cols[i % n] (the
        common case of one CSV shape), which lets numbers be split by column without a sort.
        """
        n = len(spans)
        if n == 0:
            return
        types = np.empty(n, np.int8)
        numbers = np.empty(n, np.float64)
        slow = np.empty(n, np.int64)
        room = int((K.TRACKED_DISTINCT - self.distinct[: len(self.columns)])[~self.overflow[: len(self.columns)]].sum())
        new_values = np.empty((min(n, room), 3), np.int64)
        n_slow, n_new = K.profile_values(spans.starts, spans.ends, spans.data, spans.valid, cols, types, numbers,
                                         slow, self.type_counts, self.registers, self.table_keys, self.table_counts,
                                         self.distinct, self.overflow, new_values, self._domain_keys,
                                         self._domain_bounds, self.domain_matches)
        if n_slow:
            numbers[slow[:n_slow]] = [_java_parse(spans.text(i) or "") for i in slow[:n_slow].tolist()]
        for c, i, slot in new_values[:n_new].tolist():
            self.columns[c].values[slot] = spans.text(i) or ""
        self._add_numbers(numbers, cols, uniform_width)

    def _add_numbers(self, numbers: np.ndarray, cols: np.ndarray, width: int | None) -> None:
        if width:
            matrix = numbers.reshape(-1, width)
            for j in range(width):
                if cols[j] < 0:
                    continue
                column = matrix[:, j]
                self._numbers(int(cols[j]), column[~np.isnan(column)])
            return
        keep = ~np.isnan(numbers)
        if not keep.any():
            return
        nums, ids = numbers[keep], cols[keep]
        order = np.argsort(ids, kind="stable")
        nums, ids = nums[order], ids[order]
        cuts = np.flatnonzero(np.diff(ids)) + 1
        for part, ids_part in zip(np.split(nums, cuts), np.split(ids, cuts), strict=True):
            self._numbers(int(ids_part[0]), part)

    def _numbers(self, column: int, values: np.ndarray) -> None:
        if len(values):
            target = self.columns[column]
            target.moments.add(values)
            target.kll.update(np.ascontiguousarray(values, dtype=np.float64))

    # --- merging and the result ------------------------------------------------------------------
    def merge(self, other: ProfileBuilder) -> None:
        """Add another group's state (same domains) to this one."""
        self.records += other.records
        for oc in other.columns:
            src = other.index[oc.name]
            dst = self.column_ids([oc.name], [oc.position])[0]
            col = self.columns[dst]
            self.type_counts[dst] += other.type_counts[src]
            np.maximum(self.registers[dst], other.registers[src], out=self.registers[dst])
            self.domain_matches[dst] += other.domain_matches[src]
            col.moments.merge(oc.moments)
            col.kll.merge(oc.kll)
            self._merge_table(dst, other, src)

    def _merge_table(self, dst: int, other: ProfileBuilder, src: int) -> None:
        if self.overflow[dst]:
            return
        if other.overflow[src]:
            self.overflow[dst] = True
            return
        mine = self.histogram_of(dst)
        for value, count in other.histogram_of(src).items():
            mine[value] = mine.get(value, 0) + count
        if len(mine) > K.TRACKED_DISTINCT:
            self.overflow[dst] = True
            return
        self._replace_table(dst, mine)

    def _replace_table(self, column: int, counts: dict[str, int]) -> None:
        self.table_keys[column] = 0
        self.table_counts[column] = 0
        values = list(counts)
        keys = _hash_keys(pa.array(values, pa.large_string())) if values else np.zeros(0, np.uint64)
        slots: dict[int, str] = {}
        for value, key in zip(values, keys.tolist(), strict=True):
            p = (key >> 40) & (K.TABLE_SLOTS - 1)
            while self.table_keys[column, p] != 0:
                p = (p + 1) & (K.TABLE_SLOTS - 1)
            self.table_keys[column, p] = key
            self.table_counts[column, p] = counts[value]
            slots[p] = value
        self.columns[column].values = slots
        self.distinct[column] = len(values)

    def histogram_of(self, column: int) -> dict[str, int]:
        counts = self.table_counts[column]
        return {text: int(counts[slot]) for slot, text in self.columns[column].values.items()}

    def profile(self, item_count: int, categorical: set[str] | None = None) -> DatasetProfile:
        """The DatasetProfile of everything added, as `spark.profiler.profile_records` builds it."""
        compared = categorical or set()
        query_limit = limits.COMPARED_CARDINALITY_LIMIT if compared else limits.CARDINALITY_THRESHOLD
        columns = [self._column(at, item_count, compared, query_limit) for at in range(len(self.columns))]
        columns.sort(key=lambda c: (c.position, c.name))
        return DatasetProfile(item_count=float(item_count), columns=columns)

    def _column(self, at: int, item_count: int, compared: set[str], query_limit: int) -> ColumnProfile:
        col = self.columns[at]
        counts = {name: float(self.type_counts[at, i]) for i, name in enumerate(TYPE_NAMES) if i}
        present = sum(counts.values())
        counts["Unknown"] = float(item_count) - present
        inferred = determine_type(counts)
        sketch = self._hll(at)
        distinct = hll_estimate(sketch)
        numeric = None
        m = col.moments
        if inferred.is_numeric and m.count:
            numeric = NumericState(count=float(m.count), sum=m.total, mean=m.total / m.count,
                                   std_dev=float(np.sqrt(max(m.m2, 0.0) / m.count)), min=m.low, max=m.high,
                                   kll=from_datasketches(bytes(col.kll.serialize())))
        limit = limits.COMPARED_CARDINALITY_LIMIT if col.name in compared else limits.CARDINALITY_THRESHOLD
        histogram = None
        seen = int(self.distinct[at])
        tracked = not self.overflow[at] and seen < limits.histogram_items(query_limit)
        if tracked and distinct is not None and distinct <= limit and seen < limits.histogram_items(limit):
            histogram = {k: float(v) for k, v in self.histogram_of(at).items()}
        return ColumnProfile(
            name=col.name, inferred_type=inferred, num_present=present, num_missing=float(item_count) - present,
            type_counts=counts, numeric=numeric, distinct_count=distinct, hll=sketch, histogram=histogram,
            source="data", position=col.position,
            # Spark counts matches for every column once any domain is given (0 outside the domains).
            domain_matches=float(self.domain_matches[at]) if self.domains else None,
        )

    def _hll(self, at: int) -> bytes:
        """The column's HLL sketch: exact from its distinct values while few, else from registers."""
        if not self.overflow[at]:
            sketch = datasketches.hll_sketch(DEFAULT_LG_K, TARGET_TYPE)
            for value in self.columns[at].values.values():
                sketch.update(value)
            image = bytes(sketch.serialize_updatable())
            if image[7] & 3 != _HLL_MODE:
                return image
        return register_image(self.registers[at])


def register_image(registers: np.ndarray) -> bytes:
    """The updatable DataSketches image of an HLL_8 sketch in HLL mode with these registers.

    The out-of-order flag makes readers use the composite estimator, which depends on the
    registers only (HIP would depend on the order of updates, which a merge loses anyway).
    """
    regs = registers.astype(np.int64)
    inv = np.ldexp(1.0, -regs)
    kxq0 = float(inv[regs < 32].sum())
    kxq1 = float(inv[regs >= 32].sum())
    header = bytes([10, 1, 7, DEFAULT_LG_K, 0, _OUT_OF_ORDER, 0, _HLL_MODE | (2 << 2)])
    body = struct.pack("<dddii", 0.0, kxq0, kxq1, int((regs == 0).sum()), 0)
    return header + body + registers.astype(np.uint8).tobytes()


@dataclass
class Spans:
    """Values as byte ranges of a buffer: value i is `data[starts[i]:ends[i]]`, null where not `valid`."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, i: int) -> str | None:
        if not self.valid[i]:
            return None
        return bytes(self.data[int(self.starts[i]):int(self.ends[i])]).decode("utf-8")

    def take(self, index: np.ndarray) -> Spans:
        return Spans(self.data, self.starts[index], self.ends[index], self.valid[index])

    def slice(self, lo: int, hi: int) -> Spans:
        return Spans(self.data, self.starts[lo:hi], self.ends[lo:hi], self.valid[lo:hi])

    @classmethod
    def of(cls, values: pa.Array) -> Spans:
        """The spans of a (large) string array, without copying its data."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if values.type != pa.large_string():
            values = values.cast(pa.large_string())
        bufs = values.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[values.offset:values.offset + len(values) + 1]
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
        valid = (values.is_valid().to_numpy(zero_copy_only=False) if values.null_count
                 else np.ones(len(values), np.bool_))
        return cls(data, offsets[:-1], offsets[1:], valid)


def _hash_keys(values: pa.Array) -> np.ndarray:
    spans = Spans.of(values)
    return K.hash_keys(spans.starts, spans.ends, spans.data)


def _java_parse(text: str) -> float:
    """`cast(replace(text, ' ', '') AS double)` for numbers the compiled fast path leaves."""
    cleaned = text.replace(" ", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        return float("nan")
