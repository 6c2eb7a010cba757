"""Attributions computed on Spark equal `shap` called directly on the same model, rows and background.

Tree SHAP: exact (to float rounding of the aggregation, rtol 1e-9). Kernel SHAP: exact when the
coalitions are enumerated (5 features), and within 15 % of the largest attribution when they are
sampled (12 features, 300 coalitions, fixed seed): both runs estimate the same Shapley values
with different random coalitions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from tests.model_explainability.conftest import analyze, baseline, frame, global_values, write_config

pytestmark = pytest.mark.spark
FEATURES = ["age", "income", "tenure", "score", "visits"]


def _labels(X: pd.DataFrame) -> np.ndarray:
    return ((1.2 * X["age"] - 0.8 * X["income"] + 0.3 * X["tenure"]) > 0).astype(int).to_numpy()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("attr")
    X = frame(600, FEATURES, seed=1)
    X.to_csv(folder / "train.csv", index=False)
    return folder, X


def _tree_models(folder: Path, X: pd.DataFrame) -> list[tuple[str, object, dict]]:
    import lightgbm as lgb
    import xgboost as xgb

    y = _labels(X)
    forest = RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0).fit(X, y)
    sio.dump(forest, folder / "forest.skops")
    booster = xgb.XGBClassifier(n_estimators=30, max_depth=3).fit(X, y)
    booster.save_model(folder / "xgb.json")
    light = lgb.LGBMClassifier(n_estimators=30, num_leaves=8, verbose=-1).fit(X, y)
    light.booster_.save_model(str(folder / "lgb.txt"))
    return [
        ("sklearn", forest, {"model_uri": str(folder / "forest.skops"), "framework": "sklearn"}),
        ("xgboost", booster.get_booster(), {"model_uri": str(folder / "xgb.json"), "framework": "xgboost"}),
        ("lightgbm", light.booster_, {"model_uri": str(folder / "lgb.txt"), "framework": "lightgbm"}),
    ]


def _direct_tree(native: object, background: np.ndarray, X: np.ndarray, output: str = "probability") -> tuple:
    explainer = shap.TreeExplainer(native, data=background, feature_perturbation="interventional",
                                   model_output=output)
    values = np.asarray(explainer.shap_values(X, check_additivity=False))
    expected = np.atleast_1d(explainer.expected_value)
    if values.ndim == 3:  # one slice per class: the positive class is explained
        values, expected = values[:, :, 1], expected[1:]
    return values, float(expected[-1])


def test_tree_shap_equals_shap_directly(spark, data) -> None:
    folder, X = data
    background = X.iloc[:20].to_numpy()
    for framework, native, predictor in _tree_models(folder, X):
        config = write_config(folder / f"{framework}.json", FEATURES, predictor, baseline=background.tolist(),
                              max_records=None, save_local_shap_values=True)
        out = folder / f"out_{framework}"
        summary = baseline(spark, folder / "train.csv", config, out)
        assert summary.status == "Completed", summary.failure_reason
        method, values, expected = global_values(out / "analysis.json")
        assert method == "tree_shap"
        local, expected_direct = _direct_tree(native, background, X.to_numpy())
        np.testing.assert_allclose([values[f] for f in FEATURES], np.abs(local).mean(axis=0), rtol=1e-9, atol=1e-12)
        assert expected == pytest.approx(expected_direct, rel=1e-9)
        written = pd.read_csv(out / "explanations_shap" / "out.csv")
        assert list(written.columns) == FEATURES
        np.testing.assert_allclose(np.sort(written.to_numpy(), axis=0), np.sort(local, axis=0), rtol=1e-9,
                                   atol=1e-12)
        assert summary.feature_metrics["records"] == {"available": 600.0, "explained": 600.0}
        assert summary.feature_metrics["age"]["attribution"] == pytest.approx(values["age"])


def test_agg_methods_and_logit(spark, data) -> None:
    import xgboost as xgb

    folder, X = data
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3).fit(X, _labels(X))
    model.save_model(folder / "xgb_agg.json")
    predictor = {"model_uri": str(folder / "xgb_agg.json"), "framework": "xgboost"}
    background = X.iloc[30:45].to_numpy()
    for agg, use_logit in (("median", False), ("mean_sq", True)):
        config = write_config(folder / f"agg_{agg}.json", FEATURES, predictor, baseline=background.tolist(),
                              agg_method=agg, use_logit=use_logit, max_records=None)
        out = folder / f"out_agg_{agg}"
        assert baseline(spark, folder / "train.csv", config, out).status == "Completed"
        _, values, expected = global_values(out / "analysis.json")
        local, expected_direct = _direct_tree(model.get_booster(), background, X.to_numpy(),
                                              "raw" if use_logit else "probability")
        reference = np.median(local, axis=0) if agg == "median" else (local**2).mean(axis=0)
        np.testing.assert_allclose([values[f] for f in FEATURES], reference, rtol=1e-9, atol=1e-12)
        assert expected == pytest.approx(expected_direct, rel=1e-9)
    # use_logit: the explained number is the log-odds, so expected value + SHAP = logit(p)
    p = model.predict_proba(X.iloc[:1])[0, 1]
    local, e = _direct_tree(model.get_booster(), background, X.iloc[:1].to_numpy(), "raw")
    assert e + local.sum() == pytest.approx(np.log(p / (1 - p)), abs=1e-5)


def test_kernel_shap_enumerated_is_exact(spark, data) -> None:
    folder, X = data
    model = LogisticRegression().fit(X, _labels(X))
    sio.dump(model, folder / "logreg.skops")
    background = X.iloc[100:108].to_numpy()
    rows = X.iloc[:40]
    rows.to_csv(folder / "forty.csv", index=False)
    config = write_config(folder / "kernel.json", FEATURES, {"model_uri": str(folder / "logreg.skops"),
                                                             "framework": "sklearn"}, baseline=background.tolist())
    out = folder / "out_kernel"
    summary = baseline(spark, folder / "forty.csv", config, out)
    assert summary.status == "Completed", summary.failure_reason
    method, values, expected = global_values(out / "analysis.json")
    assert method == "kernel_shap"
    direct = shap.KernelExplainer(lambda Z: model.predict_proba(Z)[:, 1], background)
    local = np.asarray(direct.shap_values(rows.to_numpy(), l1_reg=False, silent=True))
    np.testing.assert_allclose([values[f] for f in FEATURES], np.abs(local).mean(axis=0), rtol=1e-7, atol=1e-9)
    assert expected == pytest.approx(float(direct.expected_value), rel=1e-12)
    assert "not yet supported by TreeExplainer" in json.loads((out / "analysis.json").read_text())[
        "monitor_service"]["explainer"]["reason"]


def test_kernel_shap_sampled_within_tolerance_and_reproducible(spark, tmp_path: Path) -> None:
    features = [f"x{i}" for i in range(12)]
    X = frame(60, features, seed=3)
    weights = np.linspace(2.0, 0.1, 12)
    model = LogisticRegression().fit(X, (X.to_numpy() @ weights > 0).astype(int))
    sio.dump(model, tmp_path / "lr12.skops")
    X.to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "split").mkdir()
    for i in range(3):
        X.iloc[i * 20 : (i + 1) * 20].to_csv(tmp_path / "split" / f"part{i}.csv", index=False)
    background = X.iloc[:6].to_numpy()
    config = write_config(tmp_path / "k12.json", features, {"model_uri": str(tmp_path / "lr12.skops"),
                                                            "framework": "sklearn"},
                          baseline=background.tolist(), num_samples=300, seed=11)
    assert baseline(spark, tmp_path / "rows.csv", config, tmp_path / "one").status == "Completed"
    assert baseline(spark, tmp_path / "split", config, tmp_path / "three").status == "Completed"
    _, one, _ = global_values(tmp_path / "one" / "analysis.json")
    _, three, _ = global_values(tmp_path / "three" / "analysis.json")
    # per-record seeds: the layout of files and partitions changes nothing but the summation order
    assert one.keys() == three.keys() and all(one[f] == pytest.approx(three[f], rel=1e-12) for f in one)
    np.random.seed(0)
    direct = shap.KernelExplainer(lambda Z: model.predict_proba(Z)[:, 1], background)
    local = np.asarray(direct.shap_values(X.to_numpy(), nsamples=300, l1_reg=False, silent=True))
    reference = np.abs(local).mean(axis=0)
    ours = np.asarray([one[f] for f in features])
    assert np.max(np.abs(ours - reference)) <= 0.15 * reference.max()
    assert list(np.argsort(-ours)[:3]) == list(np.argsort(-reference)[:3])


def test_max_records_draws_a_seeded_sample(spark, data) -> None:
    folder, X = data
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(X, _labels(X))
    sio.dump(model, folder / "small_forest.skops")
    config = write_config(folder / "capped.json", FEATURES, {"model_uri": str(folder / "small_forest.skops"),
                                                             "framework": "sklearn"}, max_records=120)
    first = baseline(spark, folder / "train.csv", config, folder / "capped1")
    assert baseline(spark, folder / "train.csv", config, folder / "capped2").status == "Completed"
    assert first.records_analyzed == 120 and first.records_read == 600
    assert first.feature_metrics["records"] == {"available": 600.0, "explained": 120.0}
    assert global_values(folder / "capped1" / "analysis.json") == global_values(folder / "capped2" / "analysis.json")
    doc = json.loads((folder / "capped1" / "analysis.json").read_text())["monitor_service"]
    assert doc["records"] == {"available": 600, "explained": 120, "skipped": {}}
    assert doc["background"]["source"] == "sample" and len(doc["background"]["rows"]) == 100
    page = (folder / "capped1" / "report.html").read_text()
    assert "A seeded uniform sample of 120 of the 600 usable records was explained" in page
    assert "records explained" in page and page.count("Plotly.newPlot") == 1  # one label, one chart
    assert "<script src=" not in page  # self-contained
    override = baseline(spark, folder / "train.csv", config, folder / "capped3", max_records=50)
    assert override.records_analyzed == 50


def test_unusable_values_are_counted_not_fatal(spark, tmp_path: Path, data) -> None:
    _, X = data
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, _labels(X))
    sio.dump(model, tmp_path / "f.skops")
    text = X.iloc[:50].to_csv(index=False).splitlines()
    text[3] = "abc," + text[3].split(",", 1)[1]
    text[5] = "," + text[5].split(",", 1)[1]
    (tmp_path / "dirty.csv").write_text("\n".join(text) + "\n")
    config = write_config(tmp_path / "c.json", FEATURES, {"model_uri": str(tmp_path / "f.skops"),
                                                          "framework": "sklearn"})
    summary = baseline(spark, tmp_path / "dirty.csv", config, tmp_path / "out")
    assert summary.status == "Completed", summary.failure_reason
    assert summary.records_analyzed == 48  # 50 rows, 2 unusable
    assert summary.records_quarantined.by_reason == {"invalid_feature_value": 1, "missing_feature_value": 1}
    renamed = write_config(tmp_path / "r.json", ["age", "income", "tenure", "score", "clicks"],
                           {"model_uri": str(tmp_path / "f.skops"), "framework": "sklearn"})
    failed = baseline(spark, tmp_path / "dirty.csv", renamed, tmp_path / "out2")
    assert failed.status == "Failed"
    assert "trained on features ['age', 'income', 'tenure', 'score', 'visits']" in failed.failure_reason


def test_multiclass_falls_back_to_kernel_with_label_headers(spark, tmp_path: Path, data) -> None:
    import xgboost as xgb

    _, X = data
    rows = X.iloc[:25]
    three = np.digitize(X["age"] - X["income"], [-0.7, 0.7])
    model = xgb.XGBClassifier(n_estimators=10, max_depth=2).fit(X, three)
    model.save_model(tmp_path / "multi.json")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    background = X.iloc[200:205].to_numpy()
    config = write_config(tmp_path / "m.json", FEATURES, {"model_uri": str(tmp_path / "multi.json"),
                                                          "framework": "xgboost",
                                                          "label_headers": ["low", "mid", "high"]},
                          baseline=background.tolist())
    summary = baseline(spark, tmp_path / "rows.csv", config, tmp_path / "out")
    assert summary.status == "Completed", summary.failure_reason
    doc = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert list(doc["explanations"]["kernel_shap"]) == ["low", "mid", "high"]
    direct = shap.KernelExplainer(lambda Z: model.predict_proba(Z), background)
    local = np.asarray(direct.shap_values(rows.to_numpy(), l1_reg=False, silent=True))  # (rows, features, 3)
    for k, label in enumerate(["low", "mid", "high"]):
        got = doc["explanations"]["kernel_shap"][label]["global_shap_values"]
        np.testing.assert_allclose([got[f] for f in FEATURES], np.abs(local[:, :, k]).mean(axis=0), rtol=1e-5,
                                   atol=1e-7)
    assert summary.feature_metrics["age"].keys() == {"attribution:low", "attribution:mid", "attribution:high"}


def test_window_drift_and_same_data(spark, tmp_path: Path, data) -> None:
    folder, X = data
    model = RandomForestClassifier(n_estimators=25, max_depth=5, random_state=0).fit(X, _labels(X))
    sio.dump(model, tmp_path / "forest.skops")
    config = write_config(tmp_path / "c.json", FEATURES, {"model_uri": str(tmp_path / "forest.skops"),
                                                          "framework": "sklearn"})
    assert baseline(spark, folder / "train.csv", config, tmp_path / "base").status == "Completed"
    same = analyze(spark, folder / "train.csv", config, tmp_path / "same", tmp_path / "base" / "analysis.json")
    assert same.status == "Completed" and same.violations == 0
    assert same.feature_metrics["label0"]["ndcg"] == pytest.approx(1.0)
    assert json.loads((tmp_path / "same" / "constraint_violations.json").read_text()) == {"version": "1.0",
                                                                                         "violations": []}
    shifted = X.copy()
    shifted["age"] = 0.0  # the feature the model leaned on no longer varies
    shifted["tenure"] = shifted["tenure"] * 6
    shifted.to_csv(tmp_path / "shifted.csv", index=False)
    drift = analyze(spark, tmp_path / "shifted.csv", config, tmp_path / "drift", tmp_path / "base" / "analysis.json")
    assert drift.status == "CompletedWithViolations" and drift.violations == 1
    assert drift.violations_by_check == {"feature_attribution_drift_check": 1}
    _, base_values, _ = global_values(tmp_path / "base" / "analysis.json")
    _, window, _ = global_values(tmp_path / "drift" / "analysis.json")
    from sklearn.metrics import ndcg_score

    expected = ndcg_score([[base_values[f] for f in FEATURES]], [[window[f] for f in FEATURES]])
    assert drift.feature_metrics["label0"]["ndcg"] == pytest.approx(expected, rel=1e-12)
    violations = json.loads((tmp_path / "drift" / "constraint_violations.json").read_text())["violations"]
    ours = drift.feature_metrics["label0"]["ndcg"]
    assert violations == [{"label": "label0", "metric_name": "shap",
                           "constraint_check_type": "feature_attribution_drift_check",
                           "description": f"Feature attribution drift {ours!r} exceeds threshold 0.9"}]
    ext = json.loads((tmp_path / "drift" / "analysis.json").read_text())["monitor_service"]
    age = ext["feature_attribution_drift"]["label0"]["features"]["age"]
    assert age["change"] == pytest.approx(window["age"] - base_values["age"])
    assert ext["background"]["source"] == "baseline_job"  # explained against the baseline's background
    assert drift.feature_metrics["age"]["attribution_change"] == pytest.approx(age["change"])
    lenient = write_config(tmp_path / "l.json", FEATURES, {"model_uri": str(tmp_path / "forest.skops"),
                                                           "framework": "sklearn"})
    doc = json.loads(lenient.read_text())
    doc["attribution_drift_check"] = {"threshold": 0.9, "label_thresholds": {"label0": round(expected, 6) - 0.01}}
    lenient.write_text(json.dumps(doc))
    base_file = tmp_path / "base" / "analysis.json"
    passed = analyze(spark, tmp_path / "shifted.csv", lenient, tmp_path / "lenient", base_file)
    assert passed.status == "Completed" and passed.violations == 0
