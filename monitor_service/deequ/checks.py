"""The `deequ_checks` block of constraints.json: Deequ's rule language as declarative JSON.

SageMaker's constraints file knows six fixed checks; this block adds Deequ's (pydeequ `Check`
methods, same names and meaning) and anomaly checks over metric history. SageMaker readers ignore
the unknown top-level key. Each entry is validated here, once, at the edge (upload, CLI, job
start): an unknown check, a missing or unexpected argument, or an assertion value outside what
the check's metric can take is refused with the reason and the entry's position.

Assertions are declarative (`{"op": ">=", "value": 0.95}` or `{"op": "between", "value": [a, b]}`),
never Python source: `Assertion.holds` is the only thing that ever evaluates them. `satisfies`
carries a Spark SQL boolean expression, which Deequ (not Python) evaluates.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from monitor_service.core.json_fields import Number, validated
from monitor_service.errors import FormatError

Severity = Literal["warning", "error"]  # Deequ CheckLevel.Warning / CheckLevel.Error
ColumnArity = Literal["none", "one", "many", "pair"]
AssertionUse = Literal["required", "optional", "none"]
# What the asserted metric can be: a ratio in [0, 1], a correlation in [-1, 1], a count, length,
# entropy or spread (>= 0), or any value of the column (min, max, mean, sum, quantile).
MetricRange = Literal["fraction", "correlation", "non_negative", "any"]
DataType = Literal["Null", "Fractional", "Integral", "Boolean", "String", "Numeric"]  # ConstrainableDataTypes

_RANGES: dict[str, tuple[float, float]] = {
    "fraction": (0.0, 1.0),
    "correlation": (-1.0, 1.0),
    "non_negative": (0.0, math.inf),
    "any": (-math.inf, math.inf),
}
# Arguments beyond column(s) and assertion that some checks take.
_EXTRA_ARGUMENTS = ("pattern", "expression", "name", "quantile", "datatype", "allowed_values")


@dataclass(frozen=True)
class CheckSpec:
    """What one Deequ check method takes: column arity, assertion use, metric range, extra arguments."""

    columns: ColumnArity
    assertion: AssertionUse
    metric: MetricRange = "fraction"
    needs: tuple[str, ...] = ()
    allows: tuple[str, ...] = ()


def _spec(columns: ColumnArity, assertion: AssertionUse, metric: MetricRange = "fraction",
          needs: tuple[str, ...] = (), allows: tuple[str, ...] = ()) -> CheckSpec:
    return CheckSpec(columns, assertion, metric, needs, allows)


# pydeequ 1.7 `Check` methods, by name. Assertion-less constraints require the ratio to be 1;
# an optional assertion replaces that default. Left out: hasHistogramValues and
# kllSketchSatisfies, whose assertions take a whole distribution rather than one number.
CHECKS: dict[str, CheckSpec] = {
    "hasSize": _spec("none", "required", "non_negative"),
    "isComplete": _spec("one", "none"),
    "hasCompleteness": _spec("one", "required"),
    "areComplete": _spec("many", "none"),
    "haveCompleteness": _spec("many", "required"),
    "areAnyComplete": _spec("many", "none"),
    "haveAnyCompleteness": _spec("many", "required"),
    "isUnique": _spec("one", "none"),
    "isPrimaryKey": _spec("many", "none"),
    "hasUniqueness": _spec("many", "required"),
    "hasDistinctness": _spec("many", "required"),
    "hasUniqueValueRatio": _spec("many", "required"),
    "hasNumberOfDistinctValues": _spec("one", "required", "non_negative"),
    "hasEntropy": _spec("one", "required", "non_negative"),
    "hasMutualInformation": _spec("pair", "required", "non_negative"),
    "hasApproxQuantile": _spec("one", "required", "any", needs=("quantile",)),
    "hasMinLength": _spec("one", "required", "non_negative"),
    "hasMaxLength": _spec("one", "required", "non_negative"),
    "hasMin": _spec("one", "required", "any"),
    "hasMax": _spec("one", "required", "any"),
    "hasMean": _spec("one", "required", "any"),
    "hasSum": _spec("one", "required", "any"),
    "hasStandardDeviation": _spec("one", "required", "non_negative"),
    "hasApproxCountDistinct": _spec("one", "required", "non_negative"),
    "hasCorrelation": _spec("pair", "required", "correlation"),
    "satisfies": _spec("none", "optional", needs=("expression",), allows=("name",)),
    "hasPattern": _spec("one", "optional", needs=("pattern",), allows=("name",)),
    "containsCreditCardNumber": _spec("one", "optional"),
    "containsEmail": _spec("one", "optional"),
    "containsURL": _spec("one", "optional"),
    "containsSocialSecurityNumber": _spec("one", "optional"),
    "hasDataType": _spec("one", "optional", needs=("datatype",)),
    "isNonNegative": _spec("one", "optional"),
    "isPositive": _spec("one", "optional"),
    "isLessThan": _spec("pair", "optional"),
    "isLessThanOrEqualTo": _spec("pair", "optional"),
    "isGreaterThan": _spec("pair", "optional"),
    "isGreaterThanOrEqualTo": _spec("pair", "optional"),
    "isContainedIn": _spec("one", "optional", needs=("allowed_values",)),
}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "between"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _number_or_pair(value: Any) -> float | tuple[float, float]:
    """One number, or [low, high]; strings and booleans are not numbers (one clear message)."""
    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"assertion value must be a number or [low, high], got {value!r}")
        return float(v)
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"assertion value [low, high] needs 2 numbers, got {len(value)}")
        return number(value[0]), number(value[1])
    return number(value)


class Assertion(_Strict):
    """A declarative assertion on the metric a check computes: `metric <op> value`.

    `between` takes `[low, high]` and holds for low <= metric <= high.
    """

    op: Operator
    value: Annotated[float | tuple[float, float], BeforeValidator(_number_or_pair)]

    @model_validator(mode="after")
    def _shape(self) -> Assertion:
        between = self.op == "between"
        if between != isinstance(self.value, tuple):
            raise ValueError("'between' takes value [low, high]; every other op takes one number")
        bounds = self.value if isinstance(self.value, tuple) else (self.value,)
        if not all(math.isfinite(b) for b in bounds):
            raise ValueError("assertion values must be finite numbers")
        if between and bounds[0] > bounds[1]:
            raise ValueError(f"'between' needs low <= high, got [{bounds[0]:g}, {bounds[1]:g}]")
        return self

    def bounds(self) -> tuple[float, float]:
        return self.value if isinstance(self.value, tuple) else (self.value, self.value)

    def holds(self, metric: float) -> bool:
        """Whether the metric satisfies the assertion (what Deequ calls back with the metric value)."""
        if isinstance(self.value, tuple):
            return self.value[0] <= metric <= self.value[1]
        return _OPERATORS[self.op](metric, self.value)

    def text(self) -> str:
        if isinstance(self.value, tuple):
            return f"between {self.value[0]:g} and {self.value[1]:g}"
        return f"{self.op} {self.value:g}"


ColumnName = Annotated[str, Field(min_length=1)]


class DeequCheck(_Strict):
    """One Deequ constraint, e.g. `{"check": "hasMin", "column": "age", "assertion": {"op": ">=", "value": 0}}`."""

    check: str
    column: ColumnName | None = None
    columns: list[ColumnName] | None = None
    assertion: Assertion | None = None
    pattern: Annotated[str, Field(min_length=1)] | None = None
    expression: Annotated[str, Field(min_length=1)] | None = None
    name: Annotated[str, Field(min_length=1)] | None = None
    quantile: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    datatype: DataType | None = None
    allowed_values: Annotated[list[str], Field(min_length=1)] | None = None
    severity: Severity = "warning"
    description: str | None = None

    @model_validator(mode="after")
    def _fits_spec(self) -> DeequCheck:
        spec = CHECKS.get(self.check)
        if spec is None:
            raise ValueError(f"unknown Deequ check {self.check!r}; use one of {sorted(CHECKS)} or 'anomaly'")
        _check_columns(self, spec)
        if spec.assertion == "required" and self.assertion is None:
            raise ValueError(f"{self.check} needs an assertion, e.g. {{\"op\": \">=\", \"value\": ...}}")
        if spec.assertion == "none" and self.assertion is not None:
            raise ValueError(f"{self.check} takes no assertion (it requires the ratio to be 1); "
                             f"use the has... variant to assert a ratio")
        if self.assertion is not None:
            low, high = _RANGES[spec.metric]
            lo, hi = self.assertion.bounds()
            if lo < low or hi > high:
                raise ValueError(f"{self.check} asserts a metric in [{low:g}, {high:g}]; "
                                 f"the assertion value {self.assertion.text()} is outside it")
        for arg in _EXTRA_ARGUMENTS:
            given = getattr(self, arg) is not None
            if arg in spec.needs and not given:
                raise ValueError(f"{self.check} needs {arg!r}")
            if given and arg not in spec.needs and arg not in spec.allows:
                raise ValueError(f"{self.check} takes no {arg!r}")
        return self

    def target_columns(self) -> list[str]:
        return [self.column] if self.column is not None else list(self.columns or [])

    def label(self) -> str:
        """A stable human label, e.g. `hasMin(age) >= 0` or `satisfies(price > 0)`."""
        args = [self.expression] if self.expression else self.target_columns()
        args += [str(v) for v in (self.pattern, self.quantile, self.datatype) if v is not None]
        if self.allowed_values is not None:
            args.append("[" + ", ".join(self.allowed_values) + "]")
        text = f"{self.check}({', '.join(args)})"
        return f"{text} {self.assertion.text()}" if self.assertion else text


def _check_columns(check: DeequCheck, spec: CheckSpec) -> None:
    one, many = check.column is not None, check.columns is not None
    if spec.columns == "none":
        if one or many:
            raise ValueError(f"{check.check} takes no column")
    elif spec.columns == "one":
        if not one or many:
            raise ValueError(f"{check.check} needs 'column' (one column name), not 'columns'")
    else:
        if one or not many:
            raise ValueError(f"{check.check} needs 'columns' (a list of column names), not 'column'")
        count = len(check.columns or [])
        if spec.columns == "pair" and count != 2:
            raise ValueError(f"{check.check} compares exactly 2 columns, got {count}")
        if spec.columns == "many" and count < 1:
            raise ValueError(f"{check.check} needs at least one column")


# ---- anomaly checks over metric history (Deequ's anomalydetection strategies) ----

class _Bounded(_Strict):
    """RelativeRateOfChange / AbsoluteChange: at least one bound, decrease <= increase."""

    maxRateDecrease: Number | None = None  # Deequ's argument names
    maxRateIncrease: Number | None = None
    order: Annotated[int, Field(ge=0, le=10)] = 1

    @model_validator(mode="after")
    def _bounds(self) -> _Bounded:
        low, high = self.maxRateDecrease, self.maxRateIncrease
        if low is None and high is None:
            raise ValueError("give maxRateDecrease and/or maxRateIncrease")
        if low is not None and high is not None and low > high:
            raise ValueError(f"maxRateDecrease {low:g} is above maxRateIncrease {high:g}")
        return self


class RelativeRateOfChangeStrategy(_Bounded):
    """Flags x_i / x_(i-order) outside [maxRateDecrease, maxRateIncrease], e.g. (0.9, 1.1) is +/-10%."""

    strategy: Literal["RelativeRateOfChangeStrategy"]


class AbsoluteChangeStrategy(_Bounded):
    """Flags the order-th difference outside [maxRateDecrease, maxRateIncrease]."""

    strategy: Literal["AbsoluteChangeStrategy"]


class SimpleThresholdStrategy(_Strict):
    """Flags a value below lowerBound or above upperBound."""

    strategy: Literal["SimpleThresholdStrategy"]
    lowerBound: Number = -1.7976931348623157e308  # Deequ default: -Double.MaxValue
    upperBound: Number

    @model_validator(mode="after")
    def _ordered(self) -> SimpleThresholdStrategy:
        if self.lowerBound > self.upperBound:
            raise ValueError(f"lowerBound {self.lowerBound:g} is above upperBound {self.upperBound:g}")
        return self


Factor = Annotated[float, Field(ge=0.0)]


class OnlineNormalStrategy(_Strict):
    """Running mean +/- factor * sd (Welford, current point included); the first points are never flagged."""

    strategy: Literal["OnlineNormalStrategy"]
    lowerDeviationFactor: Factor | None = 3.0
    upperDeviationFactor: Factor | None = 3.0
    ignoreStartPercentage: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    ignoreAnomalies: bool = True


class BatchNormalStrategy(_Strict):
    """Mean +/- factor * sample sd of the history (the newest point excluded unless includeInterval)."""

    strategy: Literal["BatchNormalStrategy"]
    lowerDeviationFactor: Factor | None = 3.0
    upperDeviationFactor: Factor | None = 3.0
    includeInterval: bool = False


class HoltWinters(_Strict):
    """Additive Holt-Winters forecast; needs two full seasons of history (15 daily points for weekly)."""

    strategy: Literal["HoltWinters"]
    metricsInterval: Literal["Daily", "Monthly"]
    seasonality: Literal["Weekly", "Yearly"]


Strategy = Annotated[
    RelativeRateOfChangeStrategy | AbsoluteChangeStrategy | SimpleThresholdStrategy | OnlineNormalStrategy
    | BatchNormalStrategy | HoltWinters,
    Field(discriminator="strategy"),
]

# Per-feature metrics an anomaly check can follow: the names the data-quality job stores per
# window (summary.feature_metrics), so the service's history rows are the series.
ANOMALY_METRICS: tuple[str, ...] = (
    "completeness", "mean", "std_dev", "min", "max", "sum", "distinct_count",
)


class AnomalyCheck(_Strict):
    """`{"check": "anomaly", "column": "age", "metric": "mean", "strategy": {"strategy": "OnlineNormalStrategy"}}`:
    is this window's metric an anomaly given the previous windows' values?"""

    check: Literal["anomaly"]
    column: ColumnName
    metric: str
    strategy: Strategy
    severity: Severity = "warning"
    description: str | None = None

    @model_validator(mode="after")
    def _known_metric(self) -> AnomalyCheck:
        if self.metric not in ANOMALY_METRICS:
            raise ValueError(f"metric {self.metric!r} is not stored per window; use one of {list(ANOMALY_METRICS)}")
        return self

    def label(self) -> str:
        return f"anomaly({self.column}.{self.metric}, {self.strategy.strategy})"


def _kind(entry: Any) -> str:
    check = entry.get("check") if isinstance(entry, dict) else getattr(entry, "check", None)
    return "anomaly" if check == "anomaly" else "deequ"


Entry = Annotated[
    Annotated[DeequCheck, Tag("deequ")] | Annotated[AnomalyCheck, Tag("anomaly")],
    Discriminator(_kind),
]
_BLOCK = TypeAdapter(list[Entry])


@dataclass(frozen=True)
class DeequChecks:
    """The validated block: Deequ constraints and anomaly checks, in file order."""

    checks: tuple[DeequCheck, ...]
    anomaly_checks: tuple[AnomalyCheck, ...]

    @classmethod
    def from_json(cls, data: Any, source: str = "constraints.json") -> DeequChecks:
        """Validate the `deequ_checks` value (a list; None = no block) or raise FormatError with the reason."""
        if data is None:
            return cls((), ())
        entries = validated(_BLOCK.validate_python, data, lambda exc: f"{source}: invalid {_describe(exc, data)}",
                            hint="see docs/deequ.md for the checks, their arguments and assertion forms")
        labels = [e.label() for e in entries]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise FormatError(f"{source}: deequ_checks lists {repeated} more than once",
                              hint="remove the duplicate entries")
        return cls(tuple(e for e in entries if isinstance(e, DeequCheck)),
                   tuple(e for e in entries if isinstance(e, AnomalyCheck)))

    def to_json(self) -> list[dict[str, Any]]:
        entries = [*self.checks, *self.anomaly_checks]
        return [e.model_dump(mode="json", exclude_none=True, exclude_defaults=False) for e in entries]

    def columns(self) -> set[str]:
        """Every column the block names (to compare with the records' columns before running)."""
        named = {c for check in self.checks for c in check.target_columns()}
        return named | {a.column for a in self.anomaly_checks}


def _describe(exc: ValidationError, data: Any) -> str:
    """`deequ_checks[3] (hasMin): assertion.value: ...`: the entry's position and check, without pydantic's
    union-member names."""
    parts = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = "deequ_checks"
        if loc and isinstance(loc[0], int):
            index = loc.pop(0)
            entry = data[index] if isinstance(data, list) and index < len(data) else None
            name = entry.get("check") if isinstance(entry, dict) else None
            where += f"[{index}]" + (f" ({name})" if isinstance(name, str) else "")
            if loc and loc[0] in ("deequ", "anomaly"):
                loc.pop(0)
        inner = ".".join(str(p) for p in loc if not str(p).startswith("function-"))
        message = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        scalar = isinstance(given, str | int | float | bool)
        shown = f" (got {given!r})" if inner and scalar and repr(given) not in message else ""
        parts.append(f"{where}{'.' + inner if inner else ''}: {message}{shown}")
    return "; ".join(parts)
