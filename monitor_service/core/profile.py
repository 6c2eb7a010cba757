"""The per-column profile: the one data structure between the Spark profiler and everything else.

A `ColumnProfile` holds *mergeable state* (counts, moments, a KLL sketch, an HLL sketch, type
counts, an exact histogram while the column is low-cardinality) rather than only finished
numbers, so two profiles can be merged without rescanning data. `statistics.json` is a
rendering of a `DatasetProfile`; reading a SageMaker-produced `statistics.json` gives a
profile with whatever state that file carries (no HLL, no type counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor_service.core.kll import KllSketch
from monitor_service.core.types import InferredType

# Deequ ColumnProfiler.DEFAULT_CARDINALITY_THRESHOLD: exact histograms only up to this many values.
CARDINALITY_THRESHOLD = 120
# Analysis runs keep exact histograms up to this many values for columns that the baseline
# compares by category, so categorical drift still works when a window has new values.
COMPARED_CARDINALITY_LIMIT = 1000


def histogram_items(limit: int) -> int:
    """Values a profiler tracks for a histogram limit: above it, so that a distinct-count estimate a
    little under the limit still gets them all; a column with this many values has no histogram."""
    return int(limit * 1.2) + 10


@dataclass
class NumericState:
    """Moments of the non-null numeric values (population std dev, as Deequ)."""

    count: float
    sum: float
    mean: float
    std_dev: float
    min: float
    max: float
    kll: KllSketch | None = None


@dataclass
class ColumnProfile:
    """Mergeable profile of one column.

    `type_counts` is keyed by `core.types.TYPE_BINS` ("Unknown" counts nulls); it is empty
    when the profile was read from a file that does not carry it. `histogram` maps the value
    (as Deequ prints it) to its count, or is None when the column has more than
    `CARDINALITY_THRESHOLD` distinct values. `hll` is a serialized DataSketches HLL sketch.
    """

    name: str
    inferred_type: InferredType
    num_present: float
    num_missing: float
    type_counts: dict[str, float] = field(default_factory=dict)
    numeric: NumericState | None = None
    distinct_count: float | None = None
    hll: bytes | None = None
    histogram: dict[str, float] | None = None
    source: str = "input"  # "output" | "input" | "data": where the column came from
    position: int = 0      # order of the column in the dataset
    # Exact number of present values inside the baseline `domains` (analysis runs only): lets
    # categorical_values_check work even when the window has too many values for a histogram.
    domain_matches: float | None = None

    @property
    def completeness(self) -> float:
        total = self.num_present + self.num_missing
        return self.num_present / total if total else 0.0


@dataclass
class DatasetProfile:
    """All column profiles of one dataset or window, in column order."""

    item_count: float
    columns: list[ColumnProfile]

    def by_name(self) -> dict[str, ColumnProfile]:
        return {c.name: c for c in self.columns}


def column_metrics(column: ColumnProfile) -> dict[str, float | None]:
    """The per-window numbers of a column the service stores (history charts, anomaly checks over
    them); None where the column has no such number (e.g. a mean of a String column)."""
    numeric = column.numeric
    return {
        "completeness": column.completeness,
        "mean": numeric.mean if numeric else None,
        "std_dev": numeric.std_dev if numeric else None,
        "min": numeric.min if numeric else None,
        "max": numeric.max if numeric else None,
        "sum": numeric.sum if numeric else None,
        "distinct_count": column.distinct_count,
    }
