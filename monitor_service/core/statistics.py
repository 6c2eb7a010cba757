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
import binascii
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor_service import io
from monitor_service.core import hll
from monitor_service.core.jsonread import (
    Where,
    as_list,
    as_mapping,
    as_number,
    as_numbers,
    as_str,
    number_map,
    optional_mapping,
    optional_number,
    require,
)
from monitor_service.core.kll import DEFAULT_C, DEFAULT_K, KllSketch
from monitor_service.core.profile import CARDINALITY_THRESHOLD, ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import InferredType
from monitor_service.errors import FormatError

STATISTICS_VERSION = 0.0
EXTENSION_KEY = "monitor_service"
EXTENSION_FORMAT_VERSION = 1
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
    """Parse a statistics document; tolerant of SageMaker's variations, strict about real shape errors."""
    where = Where(source)
    root = as_mapping(obj, where)
    raw_features = as_list(require(root, "features", where), where / "features")
    extension = _read_extension(root, where)
    columns: list[ColumnProfile] = []
    seen: set[str] = set()
    drift: DriftMetrics = {}
    for index, raw in enumerate(raw_features):
        entry = as_mapping(raw, where / "features" / index)
        unnamed = where.within(f"feature #{index}")
        name = as_str(require(entry, "name", unnamed), unnamed / "name")
        at = where.within(f"feature {name!r}")
        if name in seen:
            raise at.error("appears twice in 'features'; feature names must be unique")
        seen.add(name)
        columns.append(_read_column(entry, name, index, extension.get(name, {}), at))
        if entry.get("drift_metrics") is not None:
            drift[name] = _read_drift(entry["drift_metrics"], at / "drift_metrics")
    dataset = optional_mapping(root, "dataset", where)
    item_count = optional_number(dataset, "item_count", where / "dataset") if dataset else None
    if item_count is None:  # tolerate files without it: every feature sees every row
        item_count = max((c.num_present + c.num_missing for c in columns), default=0.0)
    return Statistics(DatasetProfile(item_count=item_count, columns=columns), drift)


def _read_extension(root: Mapping[str, Any], where: Where) -> dict[str, Mapping[str, Any]]:
    block = optional_mapping(root, EXTENSION_KEY, where)
    if block is None:
        return {}
    at = where / EXTENSION_KEY
    version = as_number(block.get("format_version", EXTENSION_FORMAT_VERSION), at / "format_version")
    if version > EXTENSION_FORMAT_VERSION:
        raise at.error(f"has format_version {version:g}; this release reads up to "
                       f"{EXTENSION_FORMAT_VERSION} (upgrade monitor-service to read this file)")
    features = optional_mapping(block, "features", at) or {}
    return {str(name): as_mapping(value, at / "features" / name) for name, value in features.items()}


def _read_type(entry: Mapping[str, Any], at: Where) -> InferredType:
    raw = as_str(require(entry, "inferred_type", at), at / "inferred_type")
    try:
        return InferredType(raw)
    except ValueError:
        allowed = ", ".join(t.value for t in InferredType)
        raise (at / "inferred_type").error(f"is {raw!r}; expected one of {allowed}") from None


def _read_column(entry: Mapping[str, Any], name: str, index: int,
                 ext: Mapping[str, Any], at: Where) -> ColumnProfile:
    inferred = _read_type(entry, at)
    key = "numerical_statistics" if inferred.is_numeric else "string_statistics"
    stats = as_mapping(require(entry, key, at), at / key)
    at_common = at / key / "common"
    common = as_mapping(require(stats, "common", at / key), at_common)
    num_present = as_number(require(common, "num_present", at_common), at_common / "num_present")
    num_missing = as_number(require(common, "num_missing", at_common), at_common / "num_missing")
    column = ColumnProfile(name=name, inferred_type=inferred,
                           num_present=num_present, num_missing=num_missing)
    if inferred.is_numeric:
        column.numeric = _read_numeric(stats, num_present, at / key)
    else:
        column.distinct_count = optional_number(stats, "distinct_count", at / key)
        column.histogram = _read_categorical(stats, at / key)
    _apply_extension(column, ext, index, at.within(f"{EXTENSION_KEY} feature {name!r}"))
    return column


def _read_numeric(stats: Mapping[str, Any], num_present: float, at: Where) -> NumericState | None:
    """Moments and sketch; a moment Deequ failed to compute (absent key) becomes NaN."""
    moments = {key: optional_number(stats, key, at) for key in _MOMENTS}
    kll = _read_kll(stats, at)
    if kll is None and all(v is None for v in moments.values()):
        return None
    values = {key: float("nan") if v is None else v for key, v in moments.items()}
    return NumericState(count=num_present, kll=kll, **values)


def _read_kll(stats: Mapping[str, Any], at: Where) -> KllSketch | None:
    distribution = optional_mapping(stats, "distribution", at)
    kll = optional_mapping(distribution, "kll", at / "distribution") if distribution else None
    at = at / "distribution" / "kll"
    sketch = optional_mapping(kll, "sketch", at) if kll else None
    if sketch is None:
        return None
    at = at / "sketch"
    parameters = optional_mapping(sketch, "parameters", at) or {}
    k = optional_number(parameters, "k", at / "parameters")
    c = optional_number(parameters, "c", at / "parameters")
    data = as_list(require(sketch, "data", at), at / "data")
    levels = [as_numbers(level, at / "data" / h) for h, level in enumerate(data)]
    return KllSketch(levels=levels or [[]], k=DEFAULT_K if k is None else int(k),
                     c=DEFAULT_C if c is None else c)


def _read_categorical(stats: Mapping[str, Any], at: Where) -> dict[str, float] | None:
    distribution = optional_mapping(stats, "distribution", at)
    categorical = optional_mapping(distribution, "categorical", at / "distribution") if distribution else None
    if categorical is None:
        return None
    at = at / "distribution" / "categorical" / "buckets"
    histogram: dict[str, float] = {}
    for i, raw in enumerate(as_list(categorical.get("buckets", []), at)):
        bucket = as_mapping(raw, at / i)
        value = as_str(require(bucket, "value", at / i), at / i / "value")
        if value in histogram:
            raise (at / i / "value").error(f"repeats the categorical value {value!r}")
        histogram[value] = as_number(require(bucket, "count", at / i), at / i / "count")
    return histogram


def _apply_extension(column: ColumnProfile, ext: Mapping[str, Any], index: int, at: Where) -> None:
    column.source = as_str(ext.get("source", column.source), at / "source")
    position = as_number(ext.get("position", index), at / "position")
    if not position.is_integer() or position < 0:
        raise (at / "position").error(f"must be a non-negative integer, got {position:g}")
    column.position = int(position)
    if ext.get("type_counts") is not None:
        column.type_counts = number_map(ext["type_counts"], at / "type_counts")
    if ext.get("hll") is not None:
        column.hll = _read_hll(ext["hll"], at / "hll")
    if column.inferred_type.is_numeric:
        column.distinct_count = optional_number(ext, "distinct_count", at)
        if ext.get("histogram") is not None:
            column.histogram = number_map(ext["histogram"], at / "histogram")
    column.domain_matches = optional_number(ext, "domain_matches", at)


def _read_hll(value: Any, at: Where) -> bytes:
    """The sketch bytes, checked now so a bad sketch is reported with its feature, not at merge time."""
    try:
        blob = base64.b64decode(as_str(value, at), validate=True)
    except binascii.Error as exc:
        raise at.error(f"is not valid base64: {exc}") from None
    try:
        hll.decode(blob)
    except FormatError as exc:
        raise at.error(f"does not hold an HLL sketch: {exc.message}") from None
    return blob


def _read_drift(value: Any, at: Where) -> dict[str, float | None]:
    return {str(method): None if v is None else as_number(v, at / method)
            for method, v in as_mapping(value, at).items()}
