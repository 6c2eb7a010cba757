"""`evaluate` end to end, and `constraint_violations.json` in SageMaker's shape."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from drift_references import CATEGORICAL_REFERENCE, NUMERIC_REFERENCE
from profile_builders import dataset, numeric_column, profile_from_sagemaker_statistics, string_column

from monitor_service.core.analysis import evaluate
from monitor_service.core.constraints import Constraints, suggest_constraints
from monitor_service.core.types import InferredType
from monitor_service.core.violations import (
    Violation,
    format_double,
    read_violations,
    violations_from_dict,
    write_violations,
)
from monitor_service.errors import FormatError

NUMERIC_KEYS = ["linf_simple", "linf_robust", "psi", "jensen_shannon", "wasserstein", "ks"]
CATEGORICAL_KEYS = ["linf_simple", "linf_robust", "chi_squared", "psi", "jensen_shannon"]

rng = np.random.default_rng(3)
X_BASE, X_WINDOW = rng.gamma(2.0, 1.0, 900), rng.gamma(3.5, 1.0, 700)
S_BASE, S_WINDOW = {"red": 400.0, "green": 350.0, "blue": 250.0}, {"red": 200.0, "green": 380.0, "blue": 420.0}


def scenario() -> tuple[object, object, Constraints]:
    baseline = dataset(
        numeric_column("x", X_BASE),
        string_column("s", S_BASE),
        numeric_column("gone", [1.0, 2.0]),
        string_column("nothing", {}, missing=5, inferred_type=InferredType.UNKNOWN),
    )
    window = dataset(
        numeric_column("new", [1.0]),
        string_column("nothing", {}, missing=5, inferred_type=InferredType.UNKNOWN),
        string_column("s", S_WINDOW | {"purple": 10.0}),
        numeric_column("x", X_WINDOW, missing=7),
    )
    return baseline, window, suggest_constraints(baseline)


def test_evaluate_violations_in_feature_then_check_order() -> None:
    baseline, window, constraints = scenario()
    result = evaluate(baseline, window, constraints)  # type: ignore[arg-type]
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [
        ("x", "completeness_check"),
        ("x", "baseline_drift_check"),
        ("s", "baseline_drift_check"),
        ("s", "categorical_values_check"),
        ("gone", "missing_column_check"),
        ("new", "extra_column_check"),
    ]
    assert result.errors == []


def test_drift_metrics_hold_every_applicable_method() -> None:
    baseline, window, constraints = scenario()
    metrics = evaluate(baseline, window, constraints).drift_metrics  # type: ignore[arg-type]
    assert list(metrics) == ["x", "s", "nothing"]  # features present in both, baseline order
    assert list(metrics["x"]) == NUMERIC_KEYS and list(metrics["s"]) == CATEGORICAL_KEYS
    assert metrics["nothing"] == {}
    for key in NUMERIC_KEYS:
        assert metrics["x"][key] == pytest.approx(NUMERIC_REFERENCE[key](X_BASE, X_WINDOW), abs=1e-12), key
    current = S_WINDOW | {"purple": 10.0}
    for key in CATEGORICAL_KEYS:
        assert metrics["s"][key] == pytest.approx(CATEGORICAL_REFERENCE[key](S_BASE, current), rel=1e-9), key


def test_drift_metrics_none_when_not_computable() -> None:
    baseline = dataset(string_column("s", {"a": 95.0, "b": 5.0}), string_column("h", None))
    window = dataset(string_column("s", {"a": 50.0, "b": 50.0}), string_column("h", {"a": 3.0}))
    result = evaluate(baseline, window, suggest_constraints(baseline))
    assert result.drift_metrics["s"]["chi_squared"] is None  # NaN: fewer than 2 categories after regrouping
    assert set(result.drift_metrics["h"].values()) == {None}  # the baseline has no histogram
    assert result.errors == []


def test_a_failing_measure_is_an_error_row() -> None:
    baseline = dataset(string_column("s", {"a": 5.0, "b": 5.0}))
    window = dataset(string_column("s", {"a": 3.0}))
    window.columns[0].histogram = {"a": "many"}  # type: ignore[dict-item]
    result = evaluate(baseline, window, suggest_constraints(baseline))
    assert result.drift_metrics["s"]["linf_simple"] is None
    assert {e.check for e in result.errors} >= {"drift_metrics"}
    assert all(e.feature_name == "s" for e in result.errors)


def test_real_baseline_against_itself_and_a_shifted_window(fixtures_dir: Path) -> None:
    """The real container statistics + constraints: no violation on itself; a shift is drift."""
    baseline = profile_from_sagemaker_statistics(fixtures_dir / "data_quality_statistics_numeric_6features.json")
    constraints = Constraints.from_dict(
        json.loads((fixtures_dir / "data_quality_constraints_numeric_6features.json").read_text())
    )
    same = evaluate(baseline, baseline, constraints)
    assert same.violations == [] and same.errors == []
    assert all(value == 0.0 for metrics in same.drift_metrics.values() for value in metrics.values())
    raw = {c.name: np.array(c.numeric.kll.levels[0]) for c in baseline.columns}  # type: ignore[union-attr]
    window = dataset(*(numeric_column(name, values + (5.0 if name == "_c2" else 0.0)) for name, values in raw.items()))
    shifted = evaluate(baseline, window, constraints)
    violation = shifted.violations[0]
    assert [(v.feature_name, v.constraint_check_type) for v in shifted.violations] == [("_c2", "baseline_drift_check")]
    assert violation.metric_value == pytest.approx(NUMERIC_REFERENCE["linf_robust"](raw["_c2"], raw["_c2"] + 5.0))


# ---------------------------------------------------------------- constraint_violations.json
def test_violations_file_has_sagemakers_shape_without_evidence(tmp_path: Path) -> None:
    path = tmp_path / "constraint_violations.json"
    violations = [
        Violation(
            "age",
            "baseline_drift_check",
            "Baseline drift distance: 0.2345 exceeds threshold: 0.1",
            0.2345,
            0.1,
            "linf_robust",
        ),
    ]
    write_violations(str(path), violations)
    doc = json.loads(path.read_text())
    assert doc == {
        "violations": [
            {
                "feature_name": "age",
                "constraint_check_type": "baseline_drift_check",
                "description": "Baseline drift distance: 0.2345 exceeds threshold: 0.1",
            }
        ]
    }
    assert read_violations(str(path)) == [Violation("age", "baseline_drift_check", violations[0].description)]


def test_real_violations_fixture_round_trips(fixtures_dir: Path, tmp_path: Path) -> None:
    source = fixtures_dir / "data_quality_constraint_violations_sdk_test.json"
    violations = read_violations(str(source))
    assert len(violations) == 7
    assert [v.constraint_check_type for v in violations].count("data_type_check") == 5
    assert violations[0] == Violation(
        "store_and_fwd_flag",
        "categorical_values_check",
        "Value: 0.009009009009009009 does not meet the constraint requirement! ",
    )
    write_violations(str(tmp_path / "out.json"), violations)
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(source.read_text())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"violation": []}, "'violations' list"),
        ({"violations": ["x"]}, "violations[0] must be an object"),
        ({"violations": [{"feature_name": "a", "constraint_check_type": "c"}]}, "violations[0]: description"),
        ({"violations": [{"feature_name": 1, "constraint_check_type": "c", "description": "d"}]}, "feature_name"),
    ],
)
def test_malformed_violations_are_format_errors(doc: object, message: str) -> None:
    with pytest.raises(FormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        violations_from_dict(doc, source="v.json")


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0.0, "0.0"),
        (100.0, "100.0"),
        (99.64592817400101, "99.64592817400101"),
        (0.009009009009009009, "0.009009009009009009"),
        (0.001, "0.001"),
        (1.0e-4, "1.0E-4"),
        (0.00012345, "1.2345E-4"),
        (9999999.0, "9999999.0"),
        (1.0e7, "1.0E7"),
        (123456789.0, "1.23456789E8"),
        (-2.5, "-2.5"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
    ],
)
def test_numbers_print_like_java_doubles(value: float, java: str) -> None:
    assert format_double(value) == java
