"""Each data-quality check: SageMaker's exact texts, every drift method, enable flags, errors as values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from drift_references import CATEGORICAL_REFERENCE, NUMERIC_REFERENCE
from profile_builders import (
    dataset,
    numeric_column,
    profile_from_sagemaker_statistics,
    string_column,
    type_counts_of,
)

from monitor_service.core import checks
from monitor_service.core.checks import Check, run_check
from monitor_service.core.constraints import Constraints, suggest_constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.types import InferredType
from monitor_service.core.violations import CheckError, Violation

DRIFT_REGEX = re.compile(r"distance: (.+) exceeds threshold: (.+)")  # AWS samples' parser
VALUE_REGEX = re.compile(r"Value: (.+) does not meet the constraint requirement!")

rng = np.random.default_rng(11)
BASE_X = rng.normal(0.0, 1.0, 500)
SHIFTED_X = rng.normal(0.8, 1.0, 400)
BASE_COUNTS = {"a": 600.0, "b": 300.0, "c": 100.0}
SHIFTED_COUNTS = {"a": 300.0, "b": 350.0, "c": 350.0}


def run(name: str, baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints) -> list[Any]:
    return run_check(checks.get(name), baseline, window, constraints)


def constraints_for(baseline: DatasetProfile, **config: Any) -> Constraints:
    """Suggested constraints of `baseline` with `monitoring_config` / feature override patches."""
    raw = suggest_constraints(baseline).to_dict()
    overrides = config.pop("overrides", {})
    distribution = config.pop("distribution", {})
    raw["monitoring_config"].update(config)
    raw["monitoring_config"]["distribution_constraints"].update(distribution)
    for feature in raw["features"]:
        if feature["name"] in overrides:
            feature["monitoringConfigOverrides"] = overrides[feature["name"]]
    return Constraints.from_dict(raw)


def only(findings: Iterable[Any]) -> Violation:
    items = list(findings)
    assert len(items) == 1 and isinstance(items[0], Violation), items
    return items[0]


def fixture_description(fixtures_dir: Path, check: str) -> str:
    doc = json.loads((fixtures_dir / "data_quality_constraint_violations_sdk_test.json").read_text())
    return next(v["description"] for v in doc["violations"] if v["constraint_check_type"] == check)


# ---------------------------------------------------------------- data_type_check
def test_data_type_text_is_exactly_sagemakers() -> None:
    baseline = dataset(numeric_column("Churn", [0, 1], inferred_type=InferredType.INTEGRAL))
    counts = type_counts_of(["1"] * 1970 + ["yes"] * 7)  # 1970 / 1977 Integral
    window = dataset(numeric_column("Churn", [0, 1], inferred_type=InferredType.STRING, type_counts=counts))
    violation = only(run("data_type_check", baseline, window, suggest_constraints(baseline)))
    assert violation.description == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
        "Observed: Only 99.64592817400101% of data is Integral."
    )
    assert violation.metric_value == pytest.approx(1970 / 1977) and violation.threshold == 1.0


def test_data_type_bad_case_fixture_flags_the_string_feature(fixtures_dir: Path) -> None:
    """SageMaker's own "bad case": _c5 constrained to String while the data is Fractional."""
    stats = profile_from_sagemaker_statistics(fixtures_dir / "data_quality_statistics_numeric_6features.json")
    bad = Constraints.from_dict(
        json.loads((fixtures_dir / "data_quality_constraints_numeric_6features_bad_case.json").read_text())
    )
    violation = only(run("data_type_check", stats, stats, bad))
    assert violation.feature_name == "_c5"
    assert violation.description == (
        "Data type match requirement is not met. Expected data type: String, Expected match: 100.0%. "
        "Observed: Only 0.0% of data is String."
    )
    good = Constraints.from_dict(
        json.loads((fixtures_dir / "data_quality_constraints_numeric_6features.json").read_text())
    )
    assert run("data_type_check", stats, stats, good) == []


def test_data_type_threshold_and_integral_counts_as_fractional() -> None:
    baseline = dataset(numeric_column("x", [0.5, 1.5]))
    counts = type_counts_of(["1"] * 5 + ["2.5"] * 90 + ["n/a"] * 5 + [None] * 30)  # 95 of 100 present match
    window = dataset(numeric_column("x", [1.0], inferred_type=InferredType.STRING, type_counts=counts))
    assert run("data_type_check", baseline, window, constraints_for(baseline, datatype_check_threshold=0.9)) == []
    violation = only(run("data_type_check", baseline, window, constraints_for(baseline)))
    assert violation.description.endswith("Observed: Only 95.0% of data is Fractional.")


def test_data_type_skips_unknown_expectation() -> None:
    baseline = dataset(string_column("empty", {}, missing=10, inferred_type=InferredType.UNKNOWN))
    window = dataset(string_column("empty", {"x": 3}))
    assert run("data_type_check", baseline, window, suggest_constraints(baseline)) == []


# ---------------------------------------------------------------- completeness_check
def test_completeness_text_matches_the_real_fixture(fixtures_dir: Path) -> None:
    baseline = dataset(numeric_column("congestion_surcharge", [2.5, 0.0]))
    window = dataset(string_column("congestion_surcharge", {}, missing=999, inferred_type=InferredType.UNKNOWN))
    violation = only(run("completeness_check", baseline, window, suggest_constraints(baseline)))
    assert violation.description == fixture_description(fixtures_dir, "completeness_check")
    assert violation.description == "Value: 0.0 does not meet the constraint requirement! "


def test_completeness_at_or_above_requirement_passes() -> None:
    baseline = dataset(numeric_column("x", range(90), missing=10))  # completeness 0.9
    assert (
        run(
            "completeness_check",
            baseline,
            dataset(numeric_column("x", range(95), missing=5)),
            suggest_constraints(baseline),
        )
        == []
    )
    violation = only(
        run(
            "completeness_check",
            baseline,
            dataset(numeric_column("x", range(80), missing=20)),
            suggest_constraints(baseline),
        )
    )
    assert float(VALUE_REGEX.match(violation.description).group(1)) == 0.8  # type: ignore[union-attr]


# ---------------------------------------------------------------- categorical_values_check
def test_categorical_values_text_matches_the_real_fixture(fixtures_dir: Path) -> None:
    baseline = dataset(string_column("store_and_fwd_flag", {"N": 990}))
    window = dataset(string_column("store_and_fwd_flag", {"N": 1, "Y": 110, "NullValue": 40}, missing=40))
    violation = only(run("categorical_values_check", baseline, window, suggest_constraints(baseline)))
    assert violation.description == fixture_description(fixtures_dir, "categorical_values_check")
    assert violation.metric_value == pytest.approx(1 / 111)


def test_categorical_values_prefers_exact_domain_matches() -> None:
    baseline = dataset(string_column("c", {"a": 50, "b": 50}))
    window_column = string_column("c", None, domain_matches=180.0)  # too many values for a histogram
    window_column.num_present = 200.0
    violation = only(run("categorical_values_check", baseline, dataset(window_column), suggest_constraints(baseline)))
    assert violation.metric_value == pytest.approx(0.9)
    relaxed = constraints_for(baseline, domain_content_threshold=0.9)
    assert run("categorical_values_check", baseline, dataset(window_column), relaxed) == []
    assert (
        run("categorical_values_check", baseline, dataset(string_column("c", None)), suggest_constraints(baseline))
        == []
    )


# ---------------------------------------------------------------- baseline_drift_check, every method
NUMERIC_BASE = dataset(numeric_column("x", BASE_X))
NUMERIC_WINDOW = dataset(numeric_column("x", SHIFTED_X))
STRING_BASE = dataset(string_column("s", BASE_COUNTS))
STRING_WINDOW = dataset(string_column("s", SHIFTED_COUNTS))


@pytest.mark.parametrize(
    ("method", "distribution", "overrides"),
    [
        ("linf_robust", {}, {}),  # SageMaker's generated default "Robust"
        ("linf_simple", {"comparison_method": "Simple"}, {}),
        ("psi", {}, {"comparison_method": "psi", "comparison_threshold": 0.2}),
        ("jensen_shannon", {}, {"comparison_method": "jensen_shannon"}),
        ("wasserstein", {}, {"comparison_method": "wasserstein", "comparison_threshold": 0.5}),
        ("ks", {}, {"comparison_method": "ks"}),
    ],
)
def test_numeric_drift_each_method(method: str, distribution: dict[str, Any], overrides: dict[str, Any]) -> None:
    constraints = constraints_for(NUMERIC_BASE, distribution=distribution, overrides={"x": overrides})
    violation = only(run("baseline_drift_check", NUMERIC_BASE, NUMERIC_WINDOW, constraints))
    expected = NUMERIC_REFERENCE[method](BASE_X, SHIFTED_X)
    threshold = overrides.get("comparison_threshold", 0.1)
    assert (violation.method, violation.threshold) == (method, threshold)
    assert violation.metric_value == pytest.approx(expected, abs=1e-12)
    distance, limit = DRIFT_REGEX.search(violation.description).groups()  # type: ignore[union-attr]
    assert float(distance) == pytest.approx(expected, abs=1e-12) and float(limit) == threshold
    if method in ("linf_robust", "linf_simple"):
        assert violation.description.startswith("Baseline drift distance: ")


def test_robust_damps_small_windows_where_simple_fires() -> None:
    """n = m = 256 subtracts 1.8·sqrt(2/256) = 0.159: an L∞ of 0.15625 drifts for Simple only."""
    a, b = np.arange(256.0), np.arange(256.0) + 40  # sup |F_a − F_b| = 40/256, exact in binary
    base, window = dataset(numeric_column("x", a)), dataset(numeric_column("x", b))
    assert run("baseline_drift_check", base, window, constraints_for(base)) == []
    simple = only(
        run("baseline_drift_check", base, window, constraints_for(base, distribution={"comparison_method": "Simple"}))
    )
    assert simple.description == "Baseline drift distance: 0.15625 exceeds threshold: 0.1"


@pytest.mark.parametrize(
    ("method", "distribution", "overrides"),
    [
        ("linf_robust", {"categorical_drift_method": "LInfinity"}, {}),
        ("linf_simple", {"comparison_method": "Simple"}, {}),
        ("psi", {}, {"comparison_method": "psi"}),
        ("jensen_shannon", {}, {"comparison_method": "jensen_shannon"}),
    ],
)
def test_categorical_distance_each_method(method: str, distribution: dict[str, Any], overrides: dict[str, Any]) -> None:
    constraints = constraints_for(STRING_BASE, distribution=distribution, overrides={"s": overrides})
    violation = only(run("baseline_drift_check", STRING_BASE, STRING_WINDOW, constraints))
    expected = CATEGORICAL_REFERENCE[method](BASE_COUNTS, SHIFTED_COUNTS)
    assert violation.method == method and violation.metric_value == pytest.approx(expected, rel=1e-9)
    assert float(DRIFT_REGEX.search(violation.description).group(1)) == pytest.approx(expected, rel=1e-9)  # type: ignore[union-attr]


def test_chi_squared_p_value_below_threshold() -> None:
    distribution = {"categorical_drift_method": "ChiSquared", "categorical_comparison_threshold": 0.05}
    constraints = constraints_for(STRING_BASE, distribution=distribution)
    violation = only(run("baseline_drift_check", STRING_BASE, STRING_WINDOW, constraints))
    expected = CATEGORICAL_REFERENCE["chi_squared"](BASE_COUNTS, SHIFTED_COUNTS)
    assert violation.method == "chi_squared" and violation.metric_value == pytest.approx(expected, rel=1e-9)
    assert violation.description.startswith("Baseline drift ChiSquared p-value ")
    assert "is below threshold 0.05; distance: " in violation.description
    distance, limit = DRIFT_REGEX.search(violation.description).groups()  # type: ignore[union-attr]
    assert float(distance) == pytest.approx(expected, rel=1e-9) and float(limit) == 0.05
    similar = dataset(string_column("s", {"a": 590.0, "b": 310.0, "c": 100.0}))
    assert run("baseline_drift_check", STRING_BASE, similar, constraints) == []  # p-value ~0.8


def test_categorical_threshold_is_separate_and_defaults_to_comparison_threshold() -> None:
    linf = CATEGORICAL_REFERENCE["linf_robust"](BASE_COUNTS, SHIFTED_COUNTS)  # ~0.22
    loose = constraints_for(STRING_BASE, distribution={"categorical_comparison_threshold": 0.5})
    assert run("baseline_drift_check", STRING_BASE, STRING_WINDOW, loose) == []
    default = only(run("baseline_drift_check", STRING_BASE, STRING_WINDOW, constraints_for(STRING_BASE)))
    assert default.threshold == 0.1 and default.metric_value == pytest.approx(linf)


def test_drift_respects_perform_comparison_and_missing_state() -> None:
    off = constraints_for(NUMERIC_BASE, distribution={"perform_comparison": "Disabled"})
    assert run("baseline_drift_check", NUMERIC_BASE, NUMERIC_WINDOW, off) == []
    off_for_x = constraints_for(NUMERIC_BASE, overrides={"x": {"perform_comparison": "Disabled"}})
    assert run("baseline_drift_check", NUMERIC_BASE, NUMERIC_WINDOW, off_for_x) == []
    no_sketch = dataset(numeric_column("x", BASE_X))
    no_sketch.columns[0].numeric.kll = None  # type: ignore[union-attr]  # e.g. a statistics.json without sketch
    assert run("baseline_drift_check", no_sketch, NUMERIC_WINDOW, constraints_for(NUMERIC_BASE)) == []
    no_histogram = dataset(string_column("s", None))
    assert run("baseline_drift_check", no_histogram, STRING_WINDOW, constraints_for(STRING_BASE)) == []


def test_method_that_cannot_compare_the_baseline_kind_is_an_error_row() -> None:
    """The constraint says Fractional (so wasserstein is allowed) but the baseline is categorical."""
    constraints = constraints_for(NUMERIC_BASE, overrides={"x": {"comparison_method": "wasserstein"}})
    baseline = dataset(string_column("x", BASE_COUNTS))
    window = dataset(string_column("x", SHIFTED_COUNTS))
    findings = run("baseline_drift_check", baseline, window, constraints)
    assert len(findings) == 1 and isinstance(findings[0], CheckError)
    assert findings[0].feature_name == "x" and "does not support categorical" in findings[0].message


# ---------------------------------------------------------------- column checks
def test_missing_and_extra_columns_by_name() -> None:
    baseline = dataset(*(numeric_column(n, [1.0]) for n in ("a", "b", "c")))
    window = dataset(*(numeric_column(n, [1.0]) for n in ("a", "c", "d")))
    constraints = suggest_constraints(baseline)
    missing = only(run("missing_column_check", baseline, window, constraints))
    extra = only(run("extra_column_check", baseline, window, constraints))
    assert (missing.feature_name, extra.feature_name) == ("b", "d")
    assert missing.description == (
        "Missing column: 'b' is in the baseline but not in the current data (baseline columns: 3, current columns: 3)."
    )
    assert extra.description == (
        "Extra column: 'd' is in the current data but not in the baseline (baseline columns: 3, current columns: 3)."
    )
    quiet_b = constraints_for(baseline, overrides={"b": {"evaluate_constraints": "Disabled"}})
    assert run("missing_column_check", baseline, window, quiet_b) == []


# ---------------------------------------------------------------- enable flags, disabled_checks
BASE_ALL = dataset(numeric_column("x", BASE_X), string_column("s", BASE_COUNTS), numeric_column("gone", [1.0]))
WINDOW_ALL = dataset(
    numeric_column("x", SHIFTED_X, missing=100, inferred_type=InferredType.STRING, type_counts={"String": 400.0}),
    string_column("s", {"zzz": 1000.0}),
    numeric_column("new", [1.0]),
)


def all_findings(constraints: Constraints) -> list[Any]:
    return [f for check in checks.CHECKS for f in run_check(check, BASE_ALL, WINDOW_ALL, constraints)]


def test_every_check_fires_on_the_bad_window() -> None:
    fired = {f.constraint_check_type for f in all_findings(suggest_constraints(BASE_ALL))}
    assert fired == set(checks.names())


def test_evaluate_constraints_disabled_globally_and_per_feature() -> None:
    assert all_findings(constraints_for(BASE_ALL, evaluate_constraints="Disabled")) == []
    quiet_x = constraints_for(BASE_ALL, overrides={"x": {"evaluate_constraints": "Disabled"}})
    assert "x" not in {f.feature_name for f in all_findings(quiet_x)}
    assert {"s", "gone", "new"} <= {f.feature_name for f in all_findings(quiet_x)}


def test_disabled_checks_switch_single_checks_off() -> None:
    constraints = constraints_for(BASE_ALL, disabled_checks=["data_type_check", "extra_column_check"])
    fired = {f.constraint_check_type for f in all_findings(constraints)}
    assert fired == set(checks.names()) - {"data_type_check", "extra_column_check"}


# ---------------------------------------------------------------- failures are values
def test_a_crash_for_one_feature_is_an_error_row_and_others_still_run() -> None:
    baseline = dataset(numeric_column("ok", [1.0]), numeric_column("broken", [1.0]))
    window = dataset(
        numeric_column("ok", [1.0], inferred_type=InferredType.STRING, type_counts={"String": 3.0}),
        numeric_column("broken", [1.0], type_counts={"Integral": "three"}),  # type: ignore[dict-item]
    )
    findings = run("data_type_check", baseline, window, suggest_constraints(baseline))
    errors = [f for f in findings if isinstance(f, CheckError)]
    assert [v.feature_name for v in findings if isinstance(v, Violation)] == ["ok"]
    assert len(errors) == 1 and errors[0].feature_name == "broken" and errors[0].check == "data_type_check"


def test_a_crashing_check_becomes_one_error_row() -> None:
    def explode(baseline: DatasetProfile, window: DatasetProfile, constraints: Constraints) -> list[Violation]:
        raise RuntimeError("boom")

    findings = run_check(Check("exploding_check", explode, ""), BASE_ALL, WINDOW_ALL, Constraints())
    assert findings == [CheckError("exploding_check", None, "RuntimeError: boom")]


# ---------------------------------------------------------------- registry exhaustiveness
CHECK_TESTS = {
    "data_type_check": test_data_type_text_is_exactly_sagemakers,
    "completeness_check": test_completeness_text_matches_the_real_fixture,
    "baseline_drift_check": test_numeric_drift_each_method,
    "missing_column_check": test_missing_and_extra_columns_by_name,
    "extra_column_check": test_missing_and_extra_columns_by_name,
    "categorical_values_check": test_categorical_values_text_matches_the_real_fixture,
}


def test_every_registered_check_has_a_test_case() -> None:
    assert set(checks.names()) == set(CHECK_TESTS)
    assert checks.names() == [
        "data_type_check",
        "completeness_check",
        "baseline_drift_check",
        "missing_column_check",
        "extra_column_check",
        "categorical_values_check",
    ]
