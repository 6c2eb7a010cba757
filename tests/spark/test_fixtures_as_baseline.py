"""SageMaker-generated statistics / constraints fixtures used as the baseline of run_analysis.

Windows are small generated CSV captures. Expected violations are derived independently: the
numeric drift from the fixture's raw sketch values (a single KLL level of weight 1) and the
window values with numpy, using SageMaker's documented Robust L∞ (c_α = 1.8), and the
data-type / domain expectations from the rules in sagemaker_formats.md §5.1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from capture_builders import csv_capture, iso

from monitor_service.monitors.data_quality.analysis_job import run_analysis
from monitor_service.monitors.data_quality.requests import AnalyzeRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.schemas import validate
from monitor_service.specs import DatasetConfig, InputSpec, SideConfig, Window

pytestmark = pytest.mark.spark

STATS_6 = "data_quality_statistics_numeric_6features.json"
CONSTRAINTS_6 = "data_quality_constraints_numeric_6features.json"
CONSTRAINTS_6_BAD = "data_quality_constraints_numeric_6features_bad_case.json"
STATS_STRING = "data_quality_statistics_string_feature_sdk_test.json"
CONSTRAINTS_LEGACY = "data_quality_constraints_legacy_fields_sdk_test.json"
START = datetime(2024, 5, 1, 10, tzinfo=UTC)
WINDOW = Window(start=START, end=START + timedelta(hours=1))
M = 1000
C_ALPHA = 1.8
THRESHOLD = 0.1  # comparison_threshold of the fixture constraints
SHIFTS = {"_c0": 1.0, "_c2": 1.0, "_c5": 2.0}


@dataclass
class Outcome:
    summary: RunSummary
    violations: list[dict[str, str]]
    statistics: dict[str, Any]


def baseline_values(fixtures_dir: Path) -> dict[str, np.ndarray]:
    """The 100 raw values behind each feature (the fixture's sketch has one level of weight 1)."""
    stats = json.loads((fixtures_dir / STATS_6).read_text())
    out = {}
    for feature in stats["features"]:
        levels = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
        assert len(levels) == 1 and len(levels[0]) == feature["numerical_statistics"]["common"]["num_present"]
        out[feature["name"]] = np.array(levels[0], dtype=float)
    return out


def draw_window(base: dict[str, np.ndarray], seed: int, shifts: dict[str, float]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.choice(values, M) + shifts.get(name, 0.0) for name, values in base.items()}


def write_window(path: Path, window: dict[str, np.ndarray]) -> None:
    """CSV capture: `_c0` is the endpoint output (SageMaker's START layout), `_c1.._c5` the inputs."""
    names = sorted(window)
    lines = []
    for i in range(M):
        values = [f"{window[n][i]:.1f}" for n in names]
        lines.append(csv_capture(values[1:], values[0], f"w{i}", iso(START + timedelta(seconds=3 * i))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def robust_linf(baseline: np.ndarray, current: np.ndarray) -> float:
    grid = np.union1d(baseline, current)
    cdf_a = np.searchsorted(np.sort(baseline), grid, side="right") / len(baseline)
    cdf_b = np.searchsorted(np.sort(current), grid, side="right") / len(current)
    n, m = len(baseline), len(current)
    return max(0.0, float(np.max(np.abs(cdf_a - cdf_b))) - C_ALPHA * np.sqrt((n + m) / (n * m)))


def analyze(spark: Any, window_path: Path, statistics: Path, constraints: Path, out: Path,
            spec: InputSpec | None = None) -> Outcome:
    request = AnalyzeRequest(input=spec or InputSpec(path=str(window_path), window=WINDOW),
                             baseline_statistics=str(statistics), baseline_constraints=str(constraints),
                             output_dir=str(out))
    summary = run_analysis(spark, request)
    assert summary.status != "Failed", summary.failure_reason
    violations_doc = json.loads((out / "constraint_violations.json").read_text())
    validate("constraint_violations", violations_doc)
    statistics_doc = json.loads((out / "statistics.json").read_text())
    validate("statistics", statistics_doc)
    return Outcome(summary, violations_doc["violations"], statistics_doc)


@pytest.fixture(scope="module")
def windows(fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fixture_windows")
    base = baseline_values(fixtures_dir)
    same, shifted = draw_window(base, 7, {}), draw_window(base, 8, SHIFTS)
    # the values are written with one decimal; all fixture values are whole numbers, so this is exact
    write_window(root / "same" / "capture.jsonl", same)
    write_window(root / "shifted" / "capture.jsonl", shifted)
    return {"root": root, "base": base, "same": same, "shifted": shifted}


@pytest.fixture(scope="module")
def same_outcome(spark: Any, fixtures_dir: Path, windows: dict[str, Any]) -> Outcome:
    root = windows["root"]
    return analyze(spark, root / "same" / "capture.jsonl", fixtures_dir / STATS_6, fixtures_dir / CONSTRAINTS_6,
                   root / "out_same")


def test_same_distribution_window_has_no_violations(same_outcome: Outcome, windows: dict[str, Any]) -> None:
    expected = {n: robust_linf(windows["base"][n], windows["same"][n]) for n in windows["base"]}
    assert all(v <= THRESHOLD for v in expected.values()), expected
    assert same_outcome.violations == []
    assert same_outcome.summary.status == "Completed"
    assert (same_outcome.summary.records_analyzed, same_outcome.summary.features) == (M, 6)
    drift = {f["name"]: f["drift_metrics"]["linf_robust"] for f in same_outcome.statistics["features"]}
    assert drift == pytest.approx(expected, abs=1e-12)


def test_shifted_window_drifts_exactly_where_robust_linf_exceeds_the_threshold(
        spark: Any, fixtures_dir: Path, windows: dict[str, Any]) -> None:
    root = windows["root"]
    outcome = analyze(spark, root / "shifted" / "capture.jsonl", fixtures_dir / STATS_6,
                      fixtures_dir / CONSTRAINTS_6, root / "out_shifted")
    expected = {n: robust_linf(windows["base"][n], windows["shifted"][n]) for n in windows["base"]}
    drifting = sorted(n for n, v in expected.items() if v > THRESHOLD)
    assert drifting == ["_c0", "_c5"]  # _c2 moved too, but Robust damping keeps it under 0.1
    assert [(v["feature_name"], v["constraint_check_type"]) for v in outcome.violations] == [
        (n, "baseline_drift_check") for n in drifting]
    pattern = re.compile(r"distance: (.+) exceeds threshold: (.+)")
    for violation in outcome.violations:
        match = pattern.search(violation["description"])
        assert match, violation["description"]
        assert float(match.group(1)) == pytest.approx(expected[violation["feature_name"]], abs=1e-12)
        assert float(match.group(2)) == THRESHOLD
    drift = {f["name"]: f["drift_metrics"]["linf_robust"] for f in outcome.statistics["features"]}
    assert drift == pytest.approx(expected, abs=1e-12)
    assert outcome.summary.status == "CompletedWithViolations"
    assert outcome.summary.violations_by_check == {"baseline_drift_check": len(drifting)}


def test_bad_case_constraints_fire_data_type_check_on_the_string_column(
        spark: Any, fixtures_dir: Path, windows: dict[str, Any]) -> None:
    # The bad case changes _c5's inferred_type to String. Per §5.1 the ratio is the fraction of
    # window values whose Deequ type equals the constraint's type: numeric texts are never String,
    # so r = 0 < datatype_check_threshold 1.0 -> one data_type_check on _c5, and nothing else (the
    # SDK's pipeline test expects this pair to fail the check step).
    bad = json.loads((fixtures_dir / CONSTRAINTS_6_BAD).read_text())
    assert [f["name"] for f in bad["features"] if f["inferred_type"] == "String"] == ["_c5"]
    root = windows["root"]
    outcome = analyze(spark, root / "same" / "capture.jsonl", fixtures_dir / STATS_6,
                      fixtures_dir / CONSTRAINTS_6_BAD, root / "out_bad_case")
    assert outcome.violations == [{
        "feature_name": "_c5",
        "constraint_check_type": "data_type_check",
        "description": "Data type match requirement is not met. Expected data type: String, "
                       "Expected match: 100.0%. Observed: Only 0.0% of data is String.",
    }]
    assert outcome.summary.status == "CompletedWithViolations"


def test_string_feature_statistics_with_legacy_constraints(spark: Any, fixtures_dir: Path, tmp_path: Path) -> None:
    domain_value = "preproc-not-YET-supported-for-csv-json"
    rng = np.random.default_rng(3)
    n, n_other = 200, 20
    values = [domain_value] * (n - n_other) + [f"other-{k % 3}" for k in range(n_other)]
    values = [values[i] for i in rng.permutation(n)]
    path = tmp_path / "window" / "capture.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(
        csv_capture([v], "0.5", f"s{i}", iso(START + timedelta(seconds=10 * i))) for i, v in enumerate(values)) + "\n")
    config = DatasetConfig(input=SideConfig(names=["message"]), capture_output=False)
    spec = InputSpec(path=str(path), dataset_config=config, window=WINDOW)
    outcome = analyze(spark, path, fixtures_dir / STATS_STRING, fixtures_dir / CONSTRAINTS_LEGACY, tmp_path / "out",
                      spec=spec)
    # legacy min_domain_mass 1.0 is the domain_content_threshold: 180/200 inside the domain < 1.0;
    # legacy comparison_threshold 1.0 can never be exceeded by an L∞ distance.
    assert outcome.violations == [{
        "feature_name": "message",
        "constraint_check_type": "categorical_values_check",
        "description": "Value: 0.9 does not meet the constraint requirement! ",
    }]
    (feature,) = outcome.statistics["features"]
    assert feature["name"] == "message" and feature["inferred_type"] == "String"
    buckets = {b["value"]: b["count"] for b in feature["string_statistics"]["distribution"]["categorical"]["buckets"]}
    assert buckets == {domain_value: 180.0, "other-0": 7.0, "other-1": 7.0, "other-2": 6.0}
    assert outcome.summary.records_analyzed == n
