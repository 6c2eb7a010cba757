"""SageMaker's data-quality `statistics.json`: render a `DatasetProfile`, and read one back.

The SageMaker part is written the way the Model Monitor container writes it: every number a
float, 10 equal-width KLL buckets recomputed from the sketch, `c`/`k` parameters and the
compactor levels as `sketch.data`, categorical buckets only for low-cardinality columns. So AWS
tooling and existing baselines keep working, and a SageMaker file reads into a profile.

What SageMaker does not store but merging needs (type counts, the HLL sketch, exact histograms
of low-cardinality numeric columns, where a column came from) goes into ONE extra top-level
block that SageMaker readers ignore:

    "monitor_service": {"format_version": 1, "features": {"<name>": {
        "source": "input", "position": 0,          # always
        "type_counts": {"Unknown": 0.0, ...},      # when known
        "hll": "<base64 HLL_8 sketch>",            # when known
        "distinct_count": 17.0,                    # numeric columns (strings keep it in SageMaker's part)
        "histogram": {"1": 5.0, ...},              # numeric low-cardinality columns (strings: categorical)
        "domain_matches": 12.0}}}                  # analysis windows only

Window statistics may also carry, per feature entry, `"drift_metrics": {method: float | null}`.
Each piece of state is stored exactly once, so the two parts can never disagree.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor_service import io
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import CARDINALITY_THRESHOLD, ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.statistics_model import (
    EXTENSION_FORMAT_VERSION,
    EXTENSION_KEY,
    ExtensionFeature,
    Feature,
    NumericalStatistics,
    parse_statistics,
)

STATISTICS_VERSION = 0.0
_MOMENTS = ("mean", "sum", "std_dev", "min", "max")

DriftMetrics = dict[str, dict[str, float | None]]  # feature -> drift method -> value (None: not computed)
DriftInput = Mapping[str, Mapping[str, float | None]]


@dataclass
class Statistics:
    """A read `statistics.json`: the profile, plus the per-feature drift metrics of a window."""

    profile: DatasetProfile
    drift_metrics: DriftMetrics = field(default_factory=dict)


# ----------------------------------------------------------------------------- writing


def to_statistics_json(profile: DatasetProfile, drift_metrics: DriftInput | None = None) -> dict[str, Any]:
    """The statistics.json document of `profile`; `drift_metrics` maps feature -> method -> value."""
    names = Counter(c.name for c in profile.columns)
    duplicated = sorted(n for n, count in names.items() if count > 1)
    if duplicated:
        raise ValueError(f"profile has duplicate column names {duplicated}; statistics need unique names")
    drift = dict(drift_metrics or {})
    unknown = sorted(set(drift) - set(names))
    if unknown:
        raise ValueError(f"drift metrics given for features {unknown} that are not in the profile")
    return {
        "version": STATISTICS_VERSION,
        "dataset": {"item_count": float(profile.item_count)},
        "features": [_feature_json(c, drift.get(c.name)) for c in profile.columns],
        EXTENSION_KEY: {
            "format_version": EXTENSION_FORMAT_VERSION,
            "features": {c.name: _extension_json(c) for c in profile.columns},
        },
    }


def write_statistics(path: str, profile: DatasetProfile, drift_metrics: DriftInput | None = None) -> None:
    """Write `statistics.json` atomically (local path or fsspec URL)."""
    io.write_json_atomic(path, to_statistics_json(profile, drift_metrics))


def _feature_json(column: ColumnProfile, drift: Mapping[str, float | None] | None) -> dict[str, Any]:
    common = {"num_present": float(column.num_present), "num_missing": float(column.num_missing)}
    entry: dict[str, Any] = {"name": column.name, "inferred_type": column.inferred_type.value}
    if column.inferred_type.is_numeric:
        entry["numerical_statistics"] = _numerical_json(common, column.numeric)
    else:
        entry["string_statistics"] = _string_json(common, column)
    if drift is not None:
        entry["drift_metrics"] = {method: None if v is None else float(v) for method, v in drift.items()}
    return entry


def _numerical_json(common: dict[str, float], numeric: NumericState | None) -> dict[str, Any]:
    out: dict[str, Any] = {"common": common}
    if numeric is None:
        return out
    out.update({key: float(getattr(numeric, key)) for key in _MOMENTS})
    if numeric.kll is not None:
        out["distribution"] = {"kll": {
            "buckets": numeric.kll.buckets(numeric.min, numeric.max),
            "sketch": {"parameters": {"c": float(numeric.kll.c), "k": float(numeric.kll.k)},
                       "data": numeric.kll.to_data()},
        }}
    return out


def _string_json(common: dict[str, float], column: ColumnProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"common": common}
    if column.distinct_count is not None:
        out["distinct_count"] = float(column.distinct_count)
    # SageMaker lists categories only for low-cardinality columns; a window may hold a larger
    # histogram in memory (for categorical drift) that does not belong in the file.
    if column.histogram is not None and len(column.histogram) <= CARDINALITY_THRESHOLD:
        out["distribution"] = {"categorical": {"buckets": [
            {"value": value, "count": count} for value, count in _sorted_histogram(column.histogram)
        ]}}
    return out


def _sorted_histogram(histogram: Mapping[str, float]) -> list[tuple[str, float]]:
    """Most frequent first, ties by value: the order SageMaker lists categorical buckets in."""
    return sorted(((v, float(c)) for v, c in histogram.items()), key=lambda item: (-item[1], item[0]))


def _extension_json(column: ColumnProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"source": column.source, "position": column.position}
    if column.type_counts:
        out["type_counts"] = {k: float(v) for k, v in column.type_counts.items()}
    if column.hll is not None:
        out["hll"] = base64.b64encode(column.hll).decode("ascii")
    if column.inferred_type.is_numeric:
        if column.distinct_count is not None:
            out["distinct_count"] = float(column.distinct_count)
        if column.histogram is not None:
            out["histogram"] = dict(_sorted_histogram(column.histogram))
    if column.domain_matches is not None:
        out["domain_matches"] = float(column.domain_matches)
    return out


# ----------------------------------------------------------------------------- reading


def read_statistics(path: str) -> Statistics:
    """Read a statistics.json written by SageMaker or by us."""
    return from_statistics_json(io.read_json(path, "statistics file"), source=path)


def from_statistics_json(obj: Any, source: str = "statistics.json") -> Statistics:
    """Parse a statistics document; tolerant of SageMaker's variations, strict about real shape errors.

    The document is validated as a whole by `core.statistics_model` (types and bounds, one
    FormatError naming feature and field); what is left here is plain conversion.
    """
    document = parse_statistics(obj, source)
    extension = document.monitor_service.features if document.monitor_service else {}
    columns = [_column(feature, index, extension.get(feature.name))
               for index, feature in enumerate(document.features)]
    drift: DriftMetrics = {f.name: dict(f.drift_metrics) for f in document.features if f.drift_metrics is not None}
    item_count = document.dataset.item_count if document.dataset else None
    if item_count is None:  # tolerate files without it: every feature sees every row
        item_count = max((c.num_present + c.num_missing for c in columns), default=0.0)
    return Statistics(DatasetProfile(item_count=item_count, columns=columns), drift)


def _column(feature: Feature, index: int, ext: ExtensionFeature | None) -> ColumnProfile:
    stats = feature.statistics
    column = ColumnProfile(name=feature.name, inferred_type=feature.inferred_type,
                           num_present=stats.common.num_present, num_missing=stats.common.num_missing)
    distribution = stats.distribution
    if isinstance(stats, NumericalStatistics):
        column.numeric = _numeric(stats)
    else:
        column.distinct_count = stats.distinct_count
        categorical = distribution.categorical if distribution else None
        column.histogram = None if categorical is None else {b.value: b.count for b in categorical.buckets}
    ext = ext or ExtensionFeature()
    column.source = column.source if ext.source is None else ext.source
    column.position = index if ext.position is None else ext.position
    column.type_counts = dict(ext.type_counts) if ext.type_counts is not None else {}
    column.hll = ext.hll
    if column.inferred_type.is_numeric:
        column.distinct_count = ext.distinct_count
        column.histogram = dict(ext.histogram) if ext.histogram is not None else None
    column.domain_matches = ext.domain_matches
    return column


def _numeric(stats: NumericalStatistics) -> NumericState | None:
    """Moments and sketch; a moment Deequ failed to compute (absent key) becomes NaN."""
    moments = {key: getattr(stats, key) for key in _MOMENTS}
    kll = stats.distribution.kll if stats.distribution else None
    sketch = kll.sketch if kll else None
    if sketch is None and all(v is None for v in moments.values()):
        return None
    values = {key: float("nan") if v is None else v for key, v in moments.items()}
    state = None
    if sketch is not None:
        state = KllSketch(levels=[list(level) for level in sketch.data] or [[]],
                          k=int(sketch.parameters.k), c=sketch.parameters.c)
    return NumericState(count=stats.common.num_present, kll=state, **values)
