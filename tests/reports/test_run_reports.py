"""Per-run `report.html`: numbers from the run's statistics files, self-contained, drawn in Chromium.

The expected values are computed here from the JSON files alone (numpy over the KLL levels,
level h weighing 2^h, and the categorical buckets), never through the report code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from monitor_service.core.constraints import read_constraints, suggest_constraints, write_constraints
from monitor_service.core.profile import DatasetProfile
from monitor_service.core.statistics import write_statistics
from monitor_service.monitors.data_quality.analysis_job import finish_analysis
from monitor_service.monitors.data_quality.report import baseline_report, write
from monitor_service.monitors.data_quality.requests import AnalyzeRequest
from monitor_service.monitors.model_quality.constraints import Constraint
from monitor_service.monitors.model_quality.report import write_model_quality_report
from monitor_service.runner.summary import RunSummary
from tests.browser import graph_traces
from tests.unit.profile_builders import histogram, numeric_column, string_column

BINS = 20


def _profiles() -> tuple[DatasetProfile, DatasetProfile]:
    rng = np.random.default_rng(5)
    # 6,000 values: the sketches compact, so items carry weights 2, 4, ...
    baseline = DatasetProfile(6000, [
        numeric_column("age", rng.normal(40, 5, 6000)),
        numeric_column("income", rng.lognormal(3, 1, 6000)),
        string_column("color", histogram(rng.choice(["red", "green", "blue"], 6000, p=[0.5, 0.3, 0.2]))),
        numeric_column("score", rng.uniform(0, 1, 6000)),
    ])
    window = DatasetProfile(3000, [
        numeric_column("age", rng.normal(46, 5, 3000)),
        numeric_column("income", rng.lognormal(3, 1, 2900), missing=100),
        string_column("color", histogram(rng.choice(["red", "green", "blue", "pink"], 3000, p=[0.2, 0.3, 0.2, 0.3]))),
        numeric_column("score", rng.uniform(0, 1, 3000)),
    ])
    return baseline, window


@pytest.fixture
def analysed(tmp_path: Path) -> dict[str, Any]:
    baseline, window = _profiles()
    base_path, constraints_path = str(tmp_path / "statistics.json"), str(tmp_path / "constraints.json")
    write_statistics(base_path, baseline)
    write_constraints(constraints_path, suggest_constraints(baseline))
    request = AnalyzeRequest(input={"path": "/capture", "format": "capture"}, baseline_statistics=base_path,
                             baseline_constraints=constraints_path, output_dir=str(tmp_path / "run"))
    summary = RunSummary(job="analyze", status="Completed", window_start="2024-05-01T10:00:00+00:00",
                         window_end="2024-05-01T11:00:00+00:00", records_read=3100, records_analyzed=3000)
    finish_analysis(request, baseline, window, read_constraints(constraints_path), summary)
    return {"summary": summary, "run": tmp_path / "run", "baseline": json.loads(Path(base_path).read_text()),
            "window": json.loads((tmp_path / "run" / "statistics.json").read_text()),
            "violations": json.loads((tmp_path / "run" / "constraint_violations.json").read_text())["violations"]}


def _features(statistics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in statistics["features"]}


def _weighted(feature: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    levels = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    items = np.concatenate([np.asarray(level, float) for level in levels])
    weights = np.concatenate([np.full(len(level), 2.0**h) for h, level in enumerate(levels)])
    return items, weights


def expected_fractions(base: dict[str, Any], current: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Each side's weight share in 20 equal bins over both ranges, [a, b) and the last [a, b]."""
    low = min(base["numerical_statistics"]["min"], current["numerical_statistics"]["min"])
    high = max(base["numerical_statistics"]["max"], current["numerical_statistics"]["max"])
    edges = low + (high - low) * np.arange(BINS + 1) / BINS
    out = []
    for feature in (base, current):
        items, weights = _weighted(feature)
        index = np.clip(np.searchsorted(edges, items, side="right") - 1, 0, BINS - 1)
        out.append(np.bincount(index, weights=weights, minlength=BINS) / weights.sum())
    return out[0], out[1]


def expected_shares(feature: dict[str, Any]) -> dict[str, float]:
    buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
    total = sum(b["count"] for b in buckets)
    return {b["value"]: b["count"] / total for b in buckets}


def _drift(feature: dict[str, Any], constraints_method: str = "linf_robust") -> float:
    return float(feature["drift_metrics"][constraints_method])


def test_report_is_listed_self_contained_and_worst_first(analysed: dict[str, Any]) -> None:
    summary, run = analysed["summary"], analysed["run"]
    assert summary.artifacts["report"] == str(run / "report.html")
    page = (run / "report.html").read_text(encoding="utf-8")
    library = get_plotlyjs()
    assert page.count(library) == 1
    markup = page.replace(library, "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "<link" not in markup and "@import" not in markup
    # Every violation of the file is listed with its description.
    assert analysed["violations"], "the drifted window must violate something"
    for violation in analysed["violations"]:
        assert violation["description"].strip() in markup
    # Worst first: the feature sections follow violations count, then drift / threshold.
    features = _features(analysed["window"])
    counts = {name: sum(v["feature_name"] == name for v in analysed["violations"]) for name in features}
    expected = sorted(features, key=lambda n: (-counts[n], -_drift(features[n]) / 0.1, n))
    sections = re.findall(r'<section id="feature-([^"]+)">', markup)
    assert sections == expected


def test_report_numbers_come_from_the_statistics_files(analysed: dict[str, Any], browser: Any) -> None:
    base, window = _features(analysed["baseline"]), _features(analysed["window"])
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    url = (analysed["run"] / "report.html").as_uri()
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
    graphs = {g["section"]: g["traces"] for g in graph_traces(page)}
    page.screenshot(path=str(analysed["run"] / "report.png"), full_page=True)
    page.close()
    # Nothing but the file itself was loaded: no CDN, no font, no image from elsewhere.
    assert requests == [url]
    # One drift chart plus one distribution chart per feature.
    assert set(graphs) == {"drift", *(f"feature-{name}" for name in window)}
    bars, limits = graphs["drift"]
    drifted = sorted(window, key=lambda n: bars["x"].index(n))
    assert bars["y"] == pytest.approx([_drift(window[n]) for n in drifted])
    assert limits["y"] == pytest.approx([0.1] * len(window))
    for name in ("age", "income", "score"):
        baseline_trace, window_trace = graphs[f"feature-{name}"]
        expected_base, expected_window = expected_fractions(base[name], window[name])
        assert len(baseline_trace["x"]) == len(window_trace["x"]) == BINS
        assert baseline_trace["y"] == pytest.approx(expected_base, abs=1e-12)
        assert window_trace["y"] == pytest.approx(expected_window, abs=1e-12)
    baseline_trace, window_trace = graphs["feature-color"]
    base_shares, window_shares = expected_shares(base["color"]), expected_shares(window["color"])
    assert sorted(window_trace["x"]) == ["blue", "green", "pink", "red"]
    assert [base_shares.get(k, 0.0) for k in baseline_trace["x"]] == pytest.approx(baseline_trace["y"])
    assert [window_shares[k] for k in window_trace["x"]] == pytest.approx(window_trace["y"])


def test_completeness_is_shown_against_its_constraint(analysed: dict[str, Any]) -> None:
    window = _features(analysed["window"])
    common = window["income"]["numerical_statistics"]["common"]
    completeness = common["num_present"] / (common["num_present"] + common["num_missing"])
    markup = (analysed["run"] / "report.html").read_text(encoding="utf-8")
    assert f"completeness</dt><dd>{completeness:.4g} (baseline 1, constraint 1)" in markup


def test_baseline_report_draws_each_feature(tmp_path: Path, browser: Any) -> None:
    baseline, _ = _profiles()
    summary = RunSummary(job="baseline", status="Completed", records_read=6000, features=4)
    write(str(tmp_path), baseline_report(summary, baseline, suggest_constraints(baseline)), summary)
    page = browser.new_page()
    page.goto(Path(summary.artifacts["report"]).as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 4")
    graphs = {g["section"]: g["traces"] for g in graph_traces(page)}
    page.close()
    assert set(graphs) == {"feature-age", "feature-income", "feature-color", "feature-score"}
    assert all(len(traces) == 1 and traces[0]["name"] == "baseline" for traces in graphs.values())
    assert sum(graphs["feature-age"][0]["y"]) == pytest.approx(1.0)


def test_model_quality_report_shows_metrics_against_constraints(tmp_path: Path, browser: Any) -> None:
    summary = RunSummary(job="analyze", monitor_type="ModelQuality", status="CompletedWithViolations",
                         feature_metrics={"model_quality": {"auc": 0.61, "f2": 0.7, "accuracy": 0.8},
                                          "model_quality_estimated": {"auc": 0.66, "f2": 0.72, "accuracy": 0.79},
                                          "records": {"labelled": 900.0, "unlabelled": 100.0}})
    constraints = [Constraint("auc", 0.7, "LessThanThreshold"), Constraint("f2", 0.5, "LessThanThreshold")]
    violations = [{"metric_name": "auc", "constraint_check_type": "LessThanThreshold",
                   "description": "Metric auc with 0.61 +/- 0.01 was LessThanThreshold '0.7'"}]
    path = write_model_quality_report(str(tmp_path), summary, constraints, violations, "BinaryClassification")
    assert summary.artifacts["report"] == path
    page = browser.new_page()
    page.goto(Path(path).as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length === 1")
    (traces,) = [g["traces"] for g in graph_traces(page)]
    rows = page.eval_on_selector_all("#metrics tbody tr", "rows => rows.map(r => r.innerText.split('\\t'))")
    page.close()
    measured, estimated, limits = traces
    assert measured["x"] == ["auc", "f2"] and measured["y"] == [0.61, 0.7]
    assert estimated["y"] == [0.66, 0.72] and estimated["symbol"] == "circle-open"
    assert limits["y"] == [0.7, 0.5]
    assert [r[0] for r in rows] == ["auc", "f2", "accuracy"] and rows[0][1] == "violated"
