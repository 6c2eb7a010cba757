"""Build `ColumnProfile` / `DatasetProfile` objects directly for the constraint, drift and check tests.

Expected numbers in those tests come from numpy / scipy on the raw values, never from the code
under test; these builders only pack raw values into the profile shape the code consumes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import InferredType, classify_value


def numeric_column(
    name: str,
    values: Iterable[float],
    *,
    missing: int = 0,
    inferred_type: InferredType = InferredType.FRACTIONAL,
    type_counts: Mapping[str, float] | None = None,
) -> ColumnProfile:
    """A numeric column whose sketch is built from `values` (exact below 2048 values)."""
    x = np.asarray(list(values), dtype=float)
    state = NumericState(
        count=float(len(x)),
        sum=float(x.sum()),
        mean=float(x.mean()),
        std_dev=float(np.std(x)),
        min=float(x.min()),
        max=float(x.max()),
        kll=KllSketch.from_values(x),
    )
    return ColumnProfile(
        name=name,
        inferred_type=inferred_type,
        num_present=float(len(x)),
        num_missing=float(missing),
        type_counts=dict(type_counts or {}),
        numeric=state,
    )


def string_column(
    name: str,
    counts: Mapping[str, float] | None,
    *,
    missing: int = 0,
    inferred_type: InferredType = InferredType.STRING,
    type_counts: Mapping[str, float] | None = None,
    domain_matches: float | None = None,
) -> ColumnProfile:
    """A categorical column with histogram `counts` (None: too many values for a histogram)."""
    present = float(sum(v for k, v in (counts or {}).items() if k != "NullValue"))
    return ColumnProfile(
        name=name,
        inferred_type=inferred_type,
        num_present=present,
        num_missing=float(missing),
        type_counts=dict(type_counts or {}),
        histogram=None if counts is None else {k: float(v) for k, v in counts.items()},
        domain_matches=domain_matches,
    )


def histogram(values: Iterable[str]) -> dict[str, float]:
    return {k: float(v) for k, v in Counter(values).items()}


def type_counts_of(values: Iterable[str | None]) -> dict[str, float]:
    """Deequ per-value type counts of raw strings (the reference classifier from core.types)."""
    counts = Counter(classify_value(v).value for v in values)
    return {k: float(v) for k, v in counts.items()}


def dataset(*columns: ColumnProfile) -> DatasetProfile:
    items = max((c.num_present + c.num_missing for c in columns), default=0.0)
    return DatasetProfile(item_count=items, columns=list(columns))


def profile_from_sagemaker_statistics(path: Path) -> DatasetProfile:
    """The parts of a real SageMaker statistics.json these tests need: counts, min/max, sketch, buckets."""
    doc = json.loads(path.read_text())
    columns = []
    for feature in doc["features"]:
        kind = InferredType(feature["inferred_type"])
        stats = feature.get("numerical_statistics") or feature["string_statistics"]
        common = stats["common"]
        column = ColumnProfile(
            name=feature["name"],
            inferred_type=kind,
            num_present=float(common["num_present"]),
            num_missing=float(common["num_missing"]),
        )
        if "numerical_statistics" in feature:
            sketch = stats["distribution"]["kll"]["sketch"]["data"]
            column.numeric = NumericState(
                count=column.num_present,
                sum=stats["sum"],
                mean=stats["mean"],
                std_dev=stats["std_dev"],
                min=stats["min"],
                max=stats["max"],
                kll=KllSketch(levels=[list(map(float, level)) for level in sketch]),
            )
        else:
            buckets = stats["distribution"]["categorical"]["buckets"]
            column.histogram = {b["value"]: float(b["count"]) for b in buckets}
        columns.append(column)
    return DatasetProfile(item_count=float(doc["dataset"]["item_count"]), columns=columns)
