"""The declarative model of a data-quality `statistics.json` (SageMaker's part and our extension).

This is the one place where a statistics file is checked: every field has a type and a bound
(`core.json_fields`), unknown keys are ignored (SageMaker adds keys over time), and a shape
error becomes ONE `FormatError` naming the file, the feature and the field, e.g.
`s3://b/statistics.json: feature 'age' field 'numerical_statistics.mean' must be a number`.
`core.statistics` turns a validated document into a `DatasetProfile`.

Bounds, beyond "the right type": counts are finite and non-negative; a KLL sketch has an
integer `k` in [2, 65535], `c` in (0, 1], at most 64 levels and a million items; an HLL sketch
is base64 of at most 3 MB whose bytes `core.hll.validate` accepts (before any native code sees
them); a file holds at most 100 000 features and categorical lists at most 100 000 buckets.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from monitor_service.core import hll
from monitor_service.core.json_fields import Count, Index, Name, Number, Numbers, json_depth_error, located_message
from monitor_service.core.kll import DEFAULT_C, DEFAULT_K
from monitor_service.core.types import InferredType
from monitor_service.errors import FormatError

EXTENSION_KEY = "monitor_service"
EXTENSION_FORMAT_VERSION = 1
MAX_FEATURES = 100_000
MAX_BUCKETS = 100_000
MAX_KLL_LEVELS = 64
MAX_KLL_ITEMS = 1_000_000
MAX_KLL_K = 65_535
MAX_HLL_CHARS = 3 * 1024 * 1024


class _Lenient(BaseModel):
    """Unknown keys are ignored: SageMaker and later releases of ours add keys."""

    model_config = ConfigDict(extra="ignore")


def _sketch_k(value: float) -> int:
    if not (value.is_integer() and 2 <= value <= MAX_KLL_K):  # NaN and infinities fail is_integer
        raise ValueError(f"must be an integer between 2 and {MAX_KLL_K}, got {value!r}")
    return int(value)


def _sketch_c(value: float) -> float:
    if not 0.0 < value <= 1.0:
        raise ValueError(f"must be a number in (0, 1], got {value!r}")
    return value


def _levels(levels: list[list[float]]) -> list[list[float]]:
    if len(levels) > MAX_KLL_LEVELS:
        raise ValueError(f"has {len(levels)} levels; a KLL sketch has at most {MAX_KLL_LEVELS}")
    if sum(len(level) for level in levels) > MAX_KLL_ITEMS:
        raise ValueError(f"holds more than {MAX_KLL_ITEMS} items; no KLL sketch is that large")
    return levels


def _hll_bytes(value: Any) -> bytes:
    """Checked now, so a bad sketch is reported with its feature, not at merge time."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string of base64, got {type(value).__name__}")
    if len(value) > MAX_HLL_CHARS:
        raise ValueError(f"has {len(value)} characters; an HLL sketch has at most {MAX_HLL_CHARS}")
    try:
        blob = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"is not valid base64: {exc}") from None
    try:
        hll.validate(blob)
    except FormatError as exc:
        raise ValueError(f"does not hold an HLL sketch: {exc.message}") from None
    return blob


class KllParameters(_Lenient):
    c: Annotated[Number, AfterValidator(_sketch_c)] = DEFAULT_C
    k: Annotated[Number, AfterValidator(_sketch_k)] = DEFAULT_K


class KllSketchData(_Lenient):
    parameters: KllParameters = Field(default_factory=KllParameters)
    data: Annotated[list[Numbers], AfterValidator(_levels)]


class KllDistribution(_Lenient):
    sketch: KllSketchData | None = None


class CategoricalBucket(_Lenient):
    value: Annotated[str, Field(max_length=1_000_000)]
    count: Count


class CategoricalDistribution(_Lenient):
    buckets: Annotated[list[CategoricalBucket], Field(max_length=MAX_BUCKETS)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> CategoricalDistribution:
        seen: set[str] = set()
        for i, bucket in enumerate(self.buckets):
            if bucket.value in seen:
                raise _at(("buckets", i, "value"), f"repeats the categorical value {bucket.value[:200]!r}")
            seen.add(bucket.value)
        return self


class Distribution(_Lenient):
    kll: KllDistribution | None = None
    categorical: CategoricalDistribution | None = None


class Common(_Lenient):
    num_present: Count
    num_missing: Count


class NumericalStatistics(_Lenient):
    common: Common
    mean: Number | None = None
    sum: Number | None = None
    std_dev: Number | None = None
    min: Number | None = None
    max: Number | None = None
    distribution: Distribution | None = None


class StringStatistics(_Lenient):
    common: Common
    distinct_count: Count | None = None
    distribution: Distribution | None = None


class Feature(_Lenient):
    name: Name
    inferred_type: InferredType
    numerical_statistics: NumericalStatistics | None = None
    string_statistics: StringStatistics | None = None
    drift_metrics: Annotated[dict[Name, Number | None], Field(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _statistics_of_its_type(self) -> Feature:
        key = "numerical_statistics" if self.inferred_type.is_numeric else "string_statistics"
        if getattr(self, key) is None:
            raise _at((key,), "is missing")
        return self

    @property
    def statistics(self) -> NumericalStatistics | StringStatistics:
        found = self.numerical_statistics if self.inferred_type.is_numeric else self.string_statistics
        assert found is not None  # checked by _statistics_of_its_type
        return found


class ExtensionFeature(_Lenient):
    source: Annotated[str, Field(max_length=64)] | None = None
    position: Index | None = None
    type_counts: Annotated[dict[Annotated[str, Field(max_length=64)], Count], Field(max_length=64)] | None = None
    hll: Annotated[bytes, BeforeValidator(_hll_bytes)] | None = None
    distinct_count: Count | None = None
    histogram: Annotated[dict[Annotated[str, Field(max_length=1_000_000)], Count],
                         Field(max_length=MAX_BUCKETS)] | None = None
    domain_matches: Count | None = None


class Extension(_Lenient):
    format_version: Number = EXTENSION_FORMAT_VERSION
    features: Annotated[dict[Name, ExtensionFeature], Field(max_length=MAX_FEATURES)] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _readable_version(cls, data: Any) -> Any:
        """Refuse a newer layout before its fields are read (they may mean something else)."""
        if isinstance(data, dict):
            version = data.get("format_version")
            if isinstance(version, int | float) and not isinstance(version, bool) and not (
                    math.isnan(version) or version <= EXTENSION_FORMAT_VERSION):
                raise _at(("format_version",), f"is {version:g}; this release reads up to "
                          f"{EXTENSION_FORMAT_VERSION} (upgrade monitor-service to read this file)")
        return data


class Dataset(_Lenient):
    item_count: Count | None = None


class StatisticsDocument(_Lenient):
    """A whole statistics.json; `monitor_service` is the extension block SageMaker readers ignore."""

    version: Number | None = None
    dataset: Dataset | None = None
    features: Annotated[list[Feature], Field(max_length=MAX_FEATURES)]
    monitor_service: Extension | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> StatisticsDocument:
        seen: set[str] = set()
        for i, feature in enumerate(self.features):
            if feature.name in seen:
                raise _at(("features", i), "appears twice in 'features'; feature names must be unique")
            seen.add(feature.name)
        return self


class _Located(ValueError):
    """A model-level error that knows the field it is about (pydantic reports it at the model)."""

    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        self.loc, self.problem = loc, problem
        super().__init__(f"@{'.'.join(str(p) for p in loc)}: {problem}")


def _at(loc: tuple[str | int, ...], problem: str) -> _Located:
    return _Located(loc, problem)


def parse_statistics(obj: Any, source: str) -> StatisticsDocument:
    """Validate a parsed statistics document; every problem is a FormatError naming feature and field."""
    if not isinstance(obj, dict):
        raise FormatError(f"{source}: document must be a JSON object, got {type(obj).__name__}")
    problem = json_depth_error(obj)
    if problem:
        raise FormatError(f"{source}: document {problem}; a statistics file nests 8")
    try:
        return StatisticsDocument.model_validate(obj)
    except ValidationError as exc:
        raise FormatError(located_message([_relocated(e) for e in exc.errors()], source, _namer(obj))) from None


def _relocated(err: Any) -> Any:
    """Move a `_Located` error to the field it names (pydantic files it under the model)."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, _Located):
        return {**err, "loc": (*err["loc"], *cause.loc), "msg": cause.problem, "type": "value_error"}
    return err


def _namer(obj: dict[str, Any]) -> Any:
    features = obj.get("features")

    def name_of(loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
            entry = features[loc[1]] if isinstance(features, list) and loc[1] < len(features) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and loc[2:] != ("name",):
                return f"feature {name[:200]!r}", loc[2:]
            return f"feature #{loc[1]}", loc[2:]
        if len(loc) >= 3 and loc[:2] == (EXTENSION_KEY, "features"):
            return f"{EXTENSION_KEY} feature {str(loc[2])[:200]!r}", loc[3:]
        return "", loc

    return name_of
