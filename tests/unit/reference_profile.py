"""A deliberately naive profiler for tests: the expected value of everything a merge must preserve.

It profiles a small in-memory table of CSV-like cells the way Deequ does (per-value type
classification, numeric statistics over the values cast to double, exact histograms up to the
cardinality threshold) in one plain numpy pass and without any merging, so comparing it with
merged profiles tests the merge rather than a copy of it. Only the sketch builders come from
the production code, because a sketch's layout is what is being merged. `tables` is the
hypothesis strategy that feeds it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import strategies as st

from monitor_service.core import hll
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import CARDINALITY_THRESHOLD, ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import TYPE_BINS, classify_value, determine_type

Table = dict[str, list[str | None]]


def profile(table: Table) -> DatasetProfile:
    rows = {len(values) for values in table.values()}
    assert len(rows) <= 1, "every column of a table has the same number of rows"
    columns = [profile_column(name, values, i) for i, (name, values) in enumerate(table.items())]
    return DatasetProfile(item_count=float(rows.pop() if rows else 0), columns=columns)


def profile_column(name: str, values: list[str | None], position: int = 0) -> ColumnProfile:
    present = [v for v in values if v is not None]
    type_counts = dict.fromkeys(TYPE_BINS, 0.0)
    for value in values:
        type_counts[classify_value(value).value] += 1.0
    inferred = determine_type(type_counts)
    numeric = None
    if inferred.is_numeric and present:
        x = np.array([float(v) for v in present])
        numeric = NumericState(count=float(x.size), sum=float(x.sum()), mean=float(x.mean()),
                               std_dev=float(x.std()), min=float(x.min()), max=float(x.max()),
                               kll=KllSketch.from_values(x))
    counts = Counter(present)
    histogram = {v: float(c) for v, c in counts.items()} if len(counts) <= CARDINALITY_THRESHOLD else None
    sketch = hll.sketch_of(present) if present else None
    distinct = float(len(counts)) if histogram is not None or sketch is None else hll.estimate(sketch)
    return ColumnProfile(name=name, inferred_type=inferred, num_present=float(len(present)),
                         num_missing=float(len(values) - len(present)), type_counts=type_counts,
                         numeric=numeric, distinct_count=distinct, hll=sketch, histogram=histogram,
                         position=position)


def concat(a: Table, b: Table) -> Table:
    """Rows of `a` then rows of `b`; a column one side lacks is null on that side."""
    rows_a = len(next(iter(a.values()))) if a else 0
    rows_b = len(next(iter(b.values()))) if b else 0
    names = [*a, *(n for n in b if n not in a)]
    return {n: [*(a.get(n) or [None] * rows_a), *(b.get(n) or [None] * rows_b)] for n in names}


MIXED_KINDS = ("int", "float", "word", "bool")  # column `m` takes one of these per table


def _cells(rng: np.random.Generator, kind: str, rows: int, cardinality: int, scale: float) -> list[str]:
    if kind == "float":
        return [repr(float(v)) for v in rng.normal(scale / 3, scale, rows)]
    if kind == "int":
        return [str(int(v)) for v in rng.integers(-cardinality // 2, cardinality - cardinality // 2, rows)]
    if kind == "bool":
        return [("true", "false")[int(v)] for v in rng.integers(0, 2, rows)]
    return [f"c{int(v)}" for v in rng.integers(0, cardinality, rows)]


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 3000) -> Table:
    """Columns x (Fractional), i (Integral), s (String), m (type varies per table), maybe `extra`."""
    rows = draw(st.integers(0, max_rows))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    null_rate = draw(st.sampled_from([0.0, 0.1, 0.5]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e6]))
    specs = {
        "x": ("float", 0),
        "i": ("int", draw(st.integers(1, 300))),
        "s": ("word", draw(st.integers(1, 200))),
        "m": (draw(st.sampled_from(MIXED_KINDS)), 50),
    }
    if draw(st.booleans()):
        specs["extra"] = ("int", 5)
    table: Table = {}
    for name, (kind, cardinality) in specs.items():
        cells: list[str | None] = list(_cells(rng, kind, rows, cardinality, scale))
        for index in np.flatnonzero(rng.random(rows) < null_rate):
            cells[index] = None
        table[name] = cells
    return table
