"""Merging two profiles without rescanning data: the reason profiles hold state, not just numbers.

`merge_profiles(profile(A), profile(B))` describes A ∪ B. Counts and type counts add, numeric
moments combine exactly (Chan et al.'s parallel mean and variance), KLL sketches merge with
Deequ's compaction, HLL sketches unite, and exact histograms add until they exceed the
cardinality threshold. A column missing from one side counts as all-missing there, exactly as
if that side had a column of nulls.

Two rules make partial state safe. A side without any present value is neutral for value state
(its missing sketch or histogram means "empty", not "unknown"). A side that has values but
lacks some state (profiles read from SageMaker files have no type counts and no HLL) makes
that piece of the result unknown (None / empty) rather than silently wrong.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import TypeVar

from monitor_service.core import hll
from monitor_service.core.profile import CARDINALITY_THRESHOLD, ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import determine_type

T = TypeVar("T")


def merge_profiles(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile:
    """Profile of the rows of `a` followed by the rows of `b`; columns keep `a`'s order, then `b`'s."""
    a_columns, b_columns = a.by_name(), b.by_name()
    names = [*a_columns, *(name for name in b_columns if name not in a_columns)]
    columns = [
        merge_columns(
            a_columns[name] if name in a_columns else _all_missing(b_columns[name], a.item_count),
            b_columns[name] if name in b_columns else _all_missing(a_columns[name], b.item_count),
        )
        for name in names
    ]
    return DatasetProfile(item_count=a.item_count + b.item_count, columns=columns)


def merge_columns(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """Profile of one column over the rows of both sides (names must match)."""
    if a.name != b.name:
        raise ValueError(f"cannot merge column {a.name!r} with column {b.name!r}")
    a_empty, b_empty = a.num_present == 0, b.num_present == 0
    a_no_rows, b_no_rows = a_empty and a.num_missing == 0, b_empty and b.num_missing == 0
    type_counts = _combine(a.type_counts or None, b.type_counts or None, a_no_rows, b_no_rows, _add)
    inferred = determine_type(_add(_type_evidence(a), _type_evidence(b)))
    histogram = _combine(a.histogram, b.histogram, a_empty, b_empty, _add_histograms)
    sketch = _combine(a.hll, b.hll, a_empty, b_empty, hll.union)
    numeric = _combine(a.numeric, b.numeric, a_empty, b_empty, merge_numeric) if inferred.is_numeric else None
    return ColumnProfile(
        name=a.name,
        inferred_type=inferred,
        num_present=a.num_present + b.num_present,
        num_missing=a.num_missing + b.num_missing,
        type_counts=type_counts or {},
        numeric=numeric,
        distinct_count=_distinct_count(a, b, histogram, sketch),
        hll=sketch,
        histogram=histogram,
        source=a.source,
        position=a.position,
        domain_matches=_combine(a.domain_matches, b.domain_matches, a_empty, b_empty, operator.add),
    )


def merge_numeric(a: NumericState, b: NumericState) -> NumericState:
    """Exact moments of the union (population std dev) and the merged KLL sketch."""
    if a.count == 0 or b.count == 0:  # the moments of an empty side are NaN, not neutral
        return b if a.count == 0 else a
    n = a.count + b.count
    delta = b.mean - a.mean
    m2 = a.std_dev**2 * a.count + b.std_dev**2 * b.count + delta * delta * a.count * b.count / n
    return NumericState(
        count=n,
        sum=a.sum + b.sum,
        mean=(a.count * a.mean + b.count * b.mean) / n,  # symmetric form: merge order cannot matter
        std_dev=math.sqrt(max(m2 / n, 0.0)),
        min=min(a.min, b.min),
        max=max(a.max, b.max),
        kll=a.kll.merge(b.kll) if a.kll is not None and b.kll is not None else None,
    )


def _distinct_count(a: ColumnProfile, b: ColumnProfile,
                    histogram: Mapping[str, float] | None, sketch: bytes | None) -> float | None:
    """Exact from the merged histogram, else the HLL union's estimate, else a lower bound."""
    if a.num_present == 0 or b.num_present == 0:
        return b.distinct_count if a.num_present == 0 else a.distinct_count
    if histogram is not None:
        return float(len(histogram))
    if sketch is not None:
        return hll.estimate(sketch)
    known = [c.distinct_count for c in (a, b) if c.distinct_count is not None]
    return max(known) if known else None  # without sketches, the larger side bounds the union from below


def _combine(a: T | None, b: T | None, a_empty: bool, b_empty: bool,
             combine: Callable[[T, T], T | None]) -> T | None:
    """Combine optional state: an empty side is neutral, a side with data but no state is unknown."""
    if a is not None and b is not None:
        if a_empty != b_empty:
            return b if a_empty else a
        return combine(a, b)
    if a is None and a_empty:
        return b
    if b is None and b_empty:
        return a
    return None


def _add(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    out = dict(a)
    for key, count in b.items():
        out[key] = out.get(key, 0.0) + count
    return out


def _add_histograms(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float] | None:
    """Exact histograms add; beyond the cardinality threshold the column has none (as in Deequ)."""
    merged = _add(a, b)
    return merged if len(merged) <= CARDINALITY_THRESHOLD else None


def _type_evidence(column: ColumnProfile) -> dict[str, float]:
    """Type counts, or, for profiles read from files without them, the column's type as evidence.

    A column typed T with p present and m missing values counts as {T: p, "Unknown": m}; that
    is enough for `determine_type` to combine e.g. Integral with Fractional or String.
    """
    if column.type_counts:
        return dict(column.type_counts)
    return _add({column.inferred_type.value: column.num_present}, {"Unknown": column.num_missing})


def _all_missing(like: ColumnProfile, rows: float) -> ColumnProfile:
    """The profile of a column of `rows` nulls, standing in for a column one side lacks."""
    return ColumnProfile(
        name=like.name,
        inferred_type=determine_type({"Unknown": rows}),
        num_present=0.0,
        num_missing=rows,
        type_counts={**dict.fromkeys(like.type_counts, 0.0), "Unknown": rows} if like.type_counts else {},
        distinct_count=0.0,
        source=like.source,
        position=like.position,
    )
