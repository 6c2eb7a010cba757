"""Deequ's answers as the project's types: profiles, suggested constraints, violations, anomalies.

The Deequ engine produces the same `DatasetProfile` the native profiler does (so statistics.json,
the report and every check are shared) and the same `Constraints` (constraints.json). Deequ's
constraint suggestions map onto SageMaker's per-feature fields:

- `isComplete` -> completeness 1.0; `hasCompleteness(c, _ >= x)` -> completeness x (Deequ's
  RetainCompletenessRule lower bound, where SageMaker writes the observed completeness);
- `isNonNegative` -> num_constraints.is_non_negative true (false for other numeric columns);
- `isContainedIn(c, values)` (CategoricalRangeRule) -> string_constraints.domains;
- `hasDataType` is the profile's inferred type, which the feature carries anyway.
docs/deequ.md lists where this differs from the native engine and why.
"""

from __future__ import annotations

import re
from typing import Any

from monitor_service.core.constraints import (
    Constraints,
    FeatureConstraint,
    NumConstraints,
    StringConstraints,
    domain_values,
)
from monitor_service.core.drift.distributions import NULL_VALUE
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.types import TYPE_BINS, InferredType
from monitor_service.core.violations import Violation
from monitor_service.deequ.checks import AnomalyCheck, DeequCheck

CHECK_TYPE = "deequ_check"
ANOMALY_CHECK_TYPE = "deequ_anomaly_check"
# pydeequ rewrites Deequ's Scala `_ >= x` as `lambda x: x >= x` in code_for_constraint; both are read.
_COMPLETENESS = re.compile(r"\.hasCompleteness\(.*,\s*(?:_|lambda x: x)\s*>=\s*([0-9.Ee+-]+)")


def profile_from_deequ(result: dict[str, Any], names: list[str]) -> DatasetProfile:
    """The DatasetProfile of Deequ's ColumnProfilerRunner answer (columns named c0..cN in the same
    order as `names`)."""
    total = float(result["num_records"])
    columns = []
    for position, name in enumerate(names):
        entry = result["columns"][f"c{position}"]
        present = round(entry["completeness"] * total)
        counts = {b: float(entry["type_counts"].get(b, 0)) for b in TYPE_BINS}
        if not entry["type_counts"]:
            counts = {}
        inferred = InferredType(entry["data_type"])
        columns.append(ColumnProfile(
            name=name, inferred_type=inferred, num_present=float(present), num_missing=total - present,
            type_counts=counts, numeric=_numeric(entry, counts, inferred),
            distinct_count=float(entry["approximate_num_distinct_values"]),
            histogram=_present(entry["histogram"]),
            source="data", position=position,
        ))
    return DatasetProfile(item_count=total, columns=columns)


def _present(histogram: dict[str, int] | None) -> dict[str, float] | None:
    """Deequ's histogram without its "NullValue" entry: a profile's histogram holds present values
    only (the nulls are `num_missing`), as the native profiler's does."""
    if histogram is None:
        return None
    return {value: float(count) for value, count in histogram.items() if value != NULL_VALUE}


def _numeric(entry: dict[str, Any], counts: dict[str, float], inferred: InferredType) -> NumericState | None:
    if not inferred.is_numeric or entry.get("mean") is None:
        return None
    kll = entry.get("kll")
    sketch = KllSketch(levels=kll["levels"], k=kll["k"], c=kll["c"]) if kll else None
    fractional = counts.get("Fractional", 0.0) if inferred is InferredType.FRACTIONAL else 0.0
    count = counts.get("Integral", 0.0) + fractional
    return NumericState(count=count, sum=entry["sum"], mean=entry["mean"], std_dev=entry["std_dev"] or 0.0,
                        min=entry["minimum"], max=entry["maximum"], kll=sketch)


def constraints_from_deequ(profile: DatasetProfile, suggestions: list[dict[str, Any]]) -> Constraints:
    """SageMaker's constraints.json from Deequ's DEFAULT-rule suggestions (see the module docstring)."""
    by_column: dict[str, list[dict[str, Any]]] = {}
    for suggestion in suggestions:
        by_column.setdefault(suggestion["column"], []).append(suggestion)
    features = []
    for position, column in enumerate(profile.columns):
        made = by_column.get(f"c{position}", [])
        completeness = None
        for s in made:
            if s["code"].startswith(".isComplete("):
                completeness = 1.0
            elif (match := _COMPLETENESS.search(s["code"])) is not None:
                completeness = max(0.0, float(match.group(1)))  # Deequ's bound goes below 0 on tiny samples
        numeric = column.inferred_type.is_numeric and column.num_present > 0
        non_negative = any(s["code"].startswith(".isNonNegative(") for s in made)
        # SageMaker's domains belong to String features (Deequ 2.1 also suggests isContainedIn for
        # low-cardinality numeric columns; see docs/deequ.md)
        categorical = column.inferred_type is InferredType.STRING and any(
            s["code"].startswith(".isContainedIn(") and ">=" not in s["code"] for s in made)
        domains = domain_values(column) if categorical else None
        features.append(FeatureConstraint(
            name=column.name, inferred_type=column.inferred_type, completeness=completeness,
            num_constraints=NumConstraints(is_non_negative=non_negative) if numeric else None,
            string_constraints=StringConstraints(domains=domains) if domains else None,
        ))
    return Constraints(features=features)


def check_violations(checks: tuple[DeequCheck, ...], results: list[dict[str, Any]]) -> list[Violation]:
    """One `deequ_check` violation per failed check: the check and Deequ's message in the description."""
    out = []
    for check, result in zip(checks, results, strict=True):
        if result["status"] == "Success":
            continue
        messages = "; ".join(c["message"] for c in result["constraints"] if c["status"] != "Success")
        text = f"{check.severity}: {check.label()} failed: {messages or 'constraint not met'}"
        if check.description:
            text += f" ({check.description})"
        out.append(Violation(feature_name=", ".join(check.target_columns()) or check.name or check.expression or "",
                             constraint_check_type=CHECK_TYPE, description=text))
    return out


def anomaly_violation(check: AnomalyCheck, current: float, history: int,
                      found: list[dict[str, Any]]) -> Violation | None:
    """A `deequ_anomaly_check` violation when Deequ's strategy flags this window's value."""
    if not found:
        return None
    detail = found[0]["detail"] or "anomalous value"
    text = (f"{check.severity}: {check.label()}: this window's {check.metric} {current:g} is an anomaly "
            f"given {history} earlier windows: {detail}")
    if check.description:
        text += f" ({check.description})"
    return Violation(feature_name=check.column, constraint_check_type=ANOMALY_CHECK_TYPE, description=text)
