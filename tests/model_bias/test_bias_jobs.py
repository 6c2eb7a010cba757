"""The bias jobs end to end on Spark, every metric against smclarify 0.5 run on the same data read by pandas."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor_service import schemas
from monitor_service.monitors.model_bias.attributes import BiasAttributes
from monitor_service.monitors.model_bias.drift import DriftSettings
from monitor_service.monitors.model_bias.job import run_analysis, run_baseline
from monitor_service.monitors.model_bias.requests import ModelBiasAnalyzeRequest, ModelBiasBaselineRequest
from monitor_service.specs import DatasetConfig, InputSpec, SideConfig, Window
from tests.model_bias.oracle import by_name, clarify
from tests.spark.capture_builders import csv_capture, iso

pytestmark = pytest.mark.spark

ALL = {"pre_training_bias": {"methods": "all"}, "post_training_bias": {"methods": "all"}}


def _numeric_data(n: int, seed: int, favour: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "sex": rng.integers(0, 2, n),
        "age": rng.integers(18, 91, n),
        "score": rng.random(n).round(6),
        "x1": rng.normal(size=n).round(6),
        "grp": rng.integers(0, 5, n),
    })
    df["label"] = (rng.random(n) < 0.3 + 0.3 * df.score).astype(int)
    df["pred"] = (rng.random(n) < 0.25 + 0.2 * df.label + 0.2 * (df.age > 40) + favour * df.sex).astype(int)
    return df


def _write(tmp: Path, name: str, df: pd.DataFrame) -> str:
    path = tmp / name
    df.to_csv(path, index=False)
    return str(path)


def _config(tmp: Path, doc: dict[str, Any], name: str = "analysis_config.json") -> str:
    path = tmp / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _csv(path: str) -> InputSpec:
    return InputSpec(path=path, format="csv", dataset_config=DatasetConfig(header=True))


def _entries(doc: dict[str, Any], stage: str, facet: str) -> dict[str, dict[str, Any]]:
    block = doc[f"{stage}_training_bias_metrics"]["facets"][facet]
    return {e["value_or_threshold"]: by_name(e) for e in block}


def _assert_same(mine: dict[str, Any], reference: dict[str, Any], where: str) -> None:
    assert set(mine) == set(reference), where
    for name, expected in reference.items():
        got = mine[name]
        if isinstance(expected, tuple | str):  # an error, or "Infinity"
            assert got == expected, (where, name)
        else:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (where, name)


def test_baseline_equals_smclarify_for_binary_integer_and_continuous_facets(spark: Any, tmp_path: Path) -> None:
    df = _numeric_data(600, 0)
    data = _write(tmp_path, "train.csv", df)
    facets = [("sex", [0]), ("age", [40]), ("score", [0.5])]
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1], "group_variable": "grp",
                                "facet": [{"name_or_index": f, "value_or_threshold": v} for f, v in facets],
                                "methods": ALL, "predictor": {"model_name": "m"}})
    request = ModelBiasBaselineRequest(input=_csv(data), output_dir=str(tmp_path / "out"), analysis_config=config,
                                       attributes=BiasAttributes(inference_attribute="pred"))
    summary = run_baseline(spark, request)
    assert summary.status == "Completed", summary.failure_reason
    doc = json.loads(Path(summary.artifacts["analysis"]).read_text(encoding="utf-8"))
    schemas.validate("clarify_bias_analysis", doc)
    frame = pd.read_csv(data)
    for facet, values in facets:
        expected = clarify(frame, facet, list(values), "label", [1], prediction="pred", group="grp")
        for stage in ("pre", "post"):
            [entry] = expected[stage]
            mine = _entries(doc, stage, facet)
            assert list(mine) == [entry["value_or_threshold"]], (facet, stage)
            _assert_same(mine[entry["value_or_threshold"]], by_name(entry), f"{facet} {stage}")
    # Clarify's typing: age (73 distinct of 600) is continuous, score is a float: both are intervals.
    assert list(_entries(doc, "pre", "age")) == [f"(40, {frame.age.max()}]"]
    assert list(_entries(doc, "pre", "score")) == [f"(0.5, {frame.score.max()}]"]
    assert doc["pre_training_bias_metrics"]["label_value_or_threshold"] == "1"
    assert summary.feature_metrics["sex=0"]["DPPL"] == pytest.approx(by_name(
        clarify(frame, "sex", [0], "label", [1], prediction="pred")["post"][0])["DPPL"])
    assert set(summary.feature_metrics) >= {"sex=0", "age>40", "score>0.5", "records", "flip_test"}
    assert summary.feature_metrics["flip_test"]["sample_rows"] == 600
    report = Path(summary.artifacts["report"]).read_text(encoding="utf-8")
    assert "Post-training bias metrics" in report and "Plotly.newPlot" in report


def test_multi_valued_string_facets_and_group_variable(spark: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 900
    df = pd.DataFrame({"race": rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]), "grp": rng.integers(0, 4, n),
                       "x1": rng.normal(size=n).round(5)})
    df["label"] = (rng.random(n) < np.where(df.race == "C", 0.2, 0.5)).astype(int)
    df["pred"] = (rng.random(n) < np.where(df.race == "A", 0.6, 0.3)).astype(int)
    data = _write(tmp_path, "train.csv", df)
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1], "group_variable": "grp",
                                "facet": [{"name_or_index": "race"},
                                          {"name_or_index": "race", "value_or_threshold": ["B", "C"]}],
                                "methods": ALL})
    summary = run_baseline(spark, ModelBiasBaselineRequest(
        input=_csv(data), output_dir=str(tmp_path / "out"), analysis_config=config,
        attributes=BiasAttributes(inference_attribute="pred")))
    assert summary.status == "Completed", summary.failure_reason
    doc = json.loads(Path(summary.artifacts["analysis"]).read_text(encoding="utf-8"))
    frame = pd.read_csv(data)
    per_value = clarify(frame, "race", None, "label", [1], prediction="pred", group="grp")
    listed = clarify(frame, "race", ["B", "C"], "label", [1], prediction="pred", group="grp")
    for stage in ("pre", "post"):
        mine = _entries(doc, stage, "race")
        reference = {e["value_or_threshold"]: by_name(e) for e in per_value[stage] + listed[stage]}
        assert set(mine) == {"A", "B", "C", "B,C"}
        for value, metrics in reference.items():
            _assert_same(mine[value], metrics, f"race={value} {stage}")
    assert {"race=A", "race=B", "race=C", "race=B,C"} <= set(summary.feature_metrics)


def _capture_window(tmp: Path, df: pd.DataFrame, start: datetime) -> tuple[str, str]:
    """Capture lines (CSV in: sex,x1,grp; out: pred) and ground truth in hour folders; returns both paths."""
    capture = tmp / "capture" / "ep" / "AllTraffic" / f"{start:%Y/%m/%d/%H}"
    capture.mkdir(parents=True)
    lines = [csv_capture([str(r.sex), str(r.x1), str(r.grp)], str(r.pred), f"ev{i}",
                         iso(start + timedelta(seconds=i % 3000))) for i, r in enumerate(df.itertuples())]
    (capture / "part.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(tmp / "capture"), str(tmp / "gt")


def _ground_truth(gt: str, hour: datetime, labels: dict[str, int]) -> None:
    folder = Path(gt) / f"{hour:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"groundTruthData": {"data": str(v), "encoding": "CSV"}, "eventMetadata": {"eventId": k},
                         "eventVersion": "0"}) for k, v in labels.items()]
    (folder / f"labels-{hour:%H}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _capture_spec(path: str, start: datetime) -> InputSpec:
    names = DatasetConfig(input=SideConfig(names=["sex", "x1", "grp"]), output=SideConfig(names=["pred"]))
    return InputSpec(path=path, format="capture", dataset_config=names, window=Window(start=start,
                                                                                       end=start + timedelta(hours=1)))


def test_analysis_merges_late_labels_like_model_quality(spark: Any, tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, 10, tzinfo=UTC)
    df = _numeric_data(500, 9)
    capture, gt = _capture_window(tmp_path, df, start)
    on_time = {f"ev{i}": int(v) for i, v in enumerate(df.label) if i < 400}
    late = {f"ev{i}": int(v) for i, v in enumerate(df.label) if i >= 400}
    _ground_truth(gt, start + timedelta(hours=1), on_time)  # collected 11:00-12:00: available at 12:00
    _ground_truth(gt, start + timedelta(hours=3), late)  # collected 13:00-14:00: not yet at 13:00
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1], "group_variable": "grp",
                                "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}], "methods": ALL})
    request = ModelBiasAnalyzeRequest(
        input=_capture_spec(capture, start), output_dir=str(tmp_path / "out"), analysis_config=config,
        attributes=BiasAttributes(inference_attribute="pred"), ground_truth=gt,
        execution_time=start + timedelta(hours=3))
    summary = run_analysis(spark, request)
    assert summary.status == "Completed", summary.failure_reason
    assert summary.feature_metrics["records"]["usable"] == 400
    assert summary.feature_metrics["records"]["unlabelled"] == 100
    assert summary.feature_metrics["ground_truth"]["label_files_late"] == 1
    assert "merge" in summary.artifacts and "constraint_violations" not in summary.artifacts
    doc = json.loads(Path(summary.artifacts["analysis"]).read_text(encoding="utf-8"))
    labelled = df.iloc[:400][["sex", "x1", "grp", "label", "pred"]].reset_index(drop=True)
    expected = clarify(labelled, "sex", [0], "label", [1], prediction="pred", group="grp")
    for stage in ("pre", "post"):
        _assert_same(_entries(doc, stage, "sex")["0"], by_name(expected[stage][0]), stage)


def test_drift_small_window_is_quiet_large_biased_window_violates(spark: Any, tmp_path: Path) -> None:
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1],
                                "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}],
                                "methods": {"pre_training_bias": {"methods": ["CI"]},
                                            "post_training_bias": {"methods": ["DPPL", "DI"]}}})
    attrs = BiasAttributes(inference_attribute="pred")
    baseline = run_baseline(spark, ModelBiasBaselineRequest(
        input=_csv(_write(tmp_path, "base.csv", _numeric_data(3000, 1))), output_dir=str(tmp_path / "base"),
        analysis_config=config, attributes=attrs))
    assert baseline.status == "Completed", baseline.failure_reason
    outcomes = {}
    for name, n in (("small", 60), ("large", 4000)):
        window = _write(tmp_path, f"{name}.csv", _numeric_data(n, 2, favour=0.35))  # the model favours sex 1
        outcomes[name] = run_analysis(spark, ModelBiasAnalyzeRequest(
            input=_csv(window), output_dir=str(tmp_path / name), analysis_config=config, attributes=attrs,
            baseline_constraints=baseline.artifacts["analysis"], drift=DriftSettings(bootstrap_samples=300)))
    small, large = outcomes["small"], outcomes["large"]
    assert abs(small.feature_metrics["sex=0"]["DPPL"]) > abs(baseline.feature_metrics["sex=0"]["DPPL"])
    assert small.status == "Completed" and small.violations == 0 and small.exit_code == 0
    assert large.status == "CompletedWithViolations" and large.exit_code == 3
    violations = json.loads(Path(large.artifacts["constraint_violations"]).read_text(encoding="utf-8"))
    schemas.validate("clarify_bias_constraint_violations", violations)
    assert {v["metric_name"] for v in violations["violations"]} == {"DPPL", "DI"}
    assert large.violations_by_check == {"bias_drift_check": 2}
    first = violations["violations"][0]
    assert first["facet"] == "sex" and first["facet_value"] == "0"
    assert first["description"].startswith("Metric value ")
    report = Path(large.artifacts["report"]).read_text(encoding="utf-8")
    assert "Violations (2)" in report and "baseline vs window" in report


def test_a_clarify_baseline_file_is_used_unchanged(spark: Any, tmp_path: Path, fixtures_dir: Path) -> None:
    baseline = fixtures_dir / "clarify_bias_monitor_baseline_analysis_batch_transform.json"
    before = baseline.read_bytes()
    rng = np.random.default_rng(5)
    n = 1500
    df = pd.DataFrame({"Sex": rng.integers(0, 2, n), "Age": rng.integers(20, 70, n),
                       "Capital Gain": rng.integers(0, 5000, n)})
    df["Target"] = (rng.random(n) < 0.2 + 0.2 * df.Sex).astype(int)
    df["prediction"] = (rng.random(n) < 0.1 + 0.5 * df.Sex).astype(int)
    config = _config(tmp_path, json.loads((fixtures_dir / "clarify_bias_analysis_config_example.json").read_text()))
    summary = run_analysis(spark, ModelBiasAnalyzeRequest(
        input=_csv(_write(tmp_path, "w.csv", df)), output_dir=str(tmp_path / "out"), analysis_config=config,
        attributes=BiasAttributes(inference_attribute="prediction"), baseline_constraints=str(baseline)))
    assert summary.status in ("Completed", "CompletedWithViolations"), summary.failure_reason
    assert baseline.read_bytes() == before
    violations = json.loads(Path(summary.artifacts["constraint_violations"]).read_text(encoding="utf-8"))
    schemas.validate("clarify_bias_constraint_violations", violations)
    # A window whose model favours Sex 1 far more than the baseline's (DPPL 0.22) is flagged on DPPL.
    assert "DPPL" in {v["metric_name"] for v in violations["violations"]}
    report = Path(summary.artifacts["report"]).read_text(encoding="utf-8")
    assert "Not in the baseline" not in report


def test_bad_inputs_fail_clearly(spark: Any, tmp_path: Path) -> None:
    from monitor_service.errors import ConfigError

    data = _write(tmp_path, "d.csv", _numeric_data(100, 3))
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1],
                                "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}]})
    with pytest.raises(ConfigError, match="post-training bias metrics need the predicted label"):
        run_baseline(spark, ModelBiasBaselineRequest(input=_csv(data), output_dir=str(tmp_path / "o1"),
                                                     analysis_config=config))
    wrong_label = _config(tmp_path, {"label": "nope", "label_values_or_threshold": [1],
                                     "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}]}, "c2.json")
    failed = run_baseline(spark, ModelBiasBaselineRequest(
        input=_csv(data), output_dir=str(tmp_path / "o2"), analysis_config=wrong_label,
        attributes=BiasAttributes(inference_attribute="pred")))
    assert failed.status == "Failed" and "no record" in (failed.failure_reason or "")
    assert math.isclose(failed.feature_metrics["records"]["invalid_label"], 100)


def test_baseline_without_predictions_calls_the_configs_predictor(spark: Any, tmp_path: Path) -> None:
    """Clarify calls the model for a dataset without predictions; a model file in `predictor` does it here."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(8)
    n = 800
    df = pd.DataFrame({"sex": rng.integers(0, 2, n), "x1": rng.normal(size=n).round(5),
                       "x2": rng.normal(size=n).round(5)})
    df["label"] = (rng.random(n) < 1 / (1 + np.exp(-(df.x1 + 0.8 * df.sex)))).astype(int)
    features = ["sex", "x1", "x2"]
    model = LogisticRegression().fit(df[features].to_numpy(), df.label)
    sio.dump(model, tmp_path / "model.skops")
    data = _write(tmp_path, "train.csv", df)
    config = _config(tmp_path, {
        "label": "label", "label_values_or_threshold": [1], "headers": [*features, "label"],
        "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}], "probability_threshold": 0.6,
        "methods": {"post_training_bias": {"methods": ["DPPL", "DI", "AD", "RD"]}},
        "predictor": {"model_name": "churn", "instance_type": "ml.m5.xlarge",
                      "model_uri": str(tmp_path / "model.skops"), "framework": "sklearn"}})
    summary = run_baseline(spark, ModelBiasBaselineRequest(input=_csv(data), output_dir=str(tmp_path / "out"),
                                                           analysis_config=config))
    assert summary.status == "Completed", summary.failure_reason
    doc = json.loads(Path(summary.artifacts["analysis"]).read_text(encoding="utf-8"))
    frame = pd.read_csv(data)
    frame["prediction"] = (model.predict_proba(frame[features].to_numpy())[:, 1] > 0.6).astype(int)
    expected = clarify(frame, "sex", [0], "label", [1], prediction="prediction")
    reference = {k: v for k, v in by_name(expected["post"][0]).items() if k in ("DPPL", "DI", "AD", "RD")}
    _assert_same(_entries(doc, "post", "sex")["0"], reference, "predictor")
    broken = _config(tmp_path, {**json.loads(Path(config).read_text()), "predictor": {"model_name": "churn"}},
                     "broken.json")
    from monitor_service.errors import ConfigError

    with pytest.raises(ConfigError, match="predictor cannot give it"):
        run_baseline(spark, ModelBiasBaselineRequest(input=_csv(data), output_dir=str(tmp_path / "o2"),
                                                     analysis_config=broken))


def test_window_without_any_label_yet_completes_empty(spark: Any, tmp_path: Path, fixtures_dir: Path) -> None:
    start = datetime(2024, 5, 1, 10, tzinfo=UTC)
    df = _numeric_data(120, 4)
    capture, gt = _capture_window(tmp_path, df, start)
    _ground_truth(gt, start + timedelta(hours=5), {f"ev{i}": int(v) for i, v in enumerate(df.label)})  # all late
    config = _config(tmp_path, {"label": "label", "label_values_or_threshold": [1],
                                "facet": [{"name_or_index": "sex", "value_or_threshold": [0]}], "methods": ALL})
    summary = run_analysis(spark, ModelBiasAnalyzeRequest(
        input=_capture_spec(capture, start), output_dir=str(tmp_path / "out"), analysis_config=config,
        attributes=BiasAttributes(inference_attribute="pred"), ground_truth=gt,
        baseline_constraints=str(fixtures_dir / "clarify_bias_monitor_baseline_analysis_batch_transform.json"),
        execution_time=start + timedelta(hours=2)))
    assert summary.status == "Completed" and summary.violations == 0, summary.failure_reason
    assert summary.feature_metrics["records"]["unlabelled"] == 120
    doc = json.loads(Path(summary.artifacts["analysis"]).read_text(encoding="utf-8"))
    schemas.validate("clarify_bias_analysis", doc)
    assert doc["post_training_bias_metrics"]["facets"] == {"sex": []}
    assert json.loads(Path(summary.artifacts["constraint_violations"]).read_text()) == {"version": "1.0",
                                                                                       "violations": []}
