"""SageMaker-produced explainability analysis.json files work unchanged as baselines; capture input;
an HTTP model server explained over Spark."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import shap
from sklearn.metrics import ndcg_score

from monitor_service.specs import InputSpec, Window
from tests.model_explainability.conftest import analyze, baseline, frame, global_values, write_config
from tests.predictor.model_server import running_server, score
from tests.spark.capture_builders import csv_capture, iso

pytestmark = pytest.mark.spark


def _fixture(fixtures_dir: Path, name: str) -> tuple[Path, dict[str, float]]:
    path = fixtures_dir / name
    values = json.loads(path.read_text())["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    return path, values


@pytest.mark.parametrize(
    ("name", "leaning_on"),
    [("clarify_explainability_monitor_baseline_analysis_endpoint.json", ["Capital Gain", "Education-Num", "Age"]),
     ("clarify_explainability_analysis_kernel_shap_fraud.json", ["customer_gender_male", "months_as_customer"])],
)
def test_sagemaker_baseline_as_is(spark, tmp_path: Path, fixtures_dir: Path, name: str,
                                  leaning_on: list[str]) -> None:
    import xgboost as xgb

    path, base = _fixture(fixtures_dir, name)
    features = list(base)
    X = frame(800, features, seed=5)
    # a model that leans on the baseline's top features: its ranking should roughly agree
    weights = np.array([2.0 ** -(features.index(f) if f in leaning_on else 8) for f in features])
    weights[[features.index(f) for f in leaning_on]] = [3.0 - i for i in range(len(leaning_on))]
    y = (X.to_numpy() @ weights + np.random.default_rng(1).normal(scale=0.3, size=len(X)) > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=30, max_depth=3).fit(X, y)
    model.save_model(tmp_path / "model.json")
    X.to_csv(tmp_path / "window.csv", index=False)
    config = write_config(tmp_path / "config.json", features, {"model_uri": str(tmp_path / "model.json"),
                                                               "framework": "xgboost"}, max_records=300)
    summary = analyze(spark, tmp_path / "window.csv", config, tmp_path / "out", path)
    assert summary.status in ("Completed", "CompletedWithViolations"), summary.failure_reason
    method, window, _ = global_values(tmp_path / "out" / "analysis.json")
    assert method == "tree_shap" and set(window) == set(base)
    expected = ndcg_score([[base[f] for f in features]], [[window[f] for f in features]])
    got = summary.feature_metrics["label0"]["ndcg"]
    assert got == pytest.approx(expected, rel=1e-12)
    assert (summary.violations == 1) == (got < 0.9)
    ext = json.loads((tmp_path / "out" / "analysis.json").read_text())["monitor_service"]
    drift = ext["feature_attribution_drift"]["label0"]
    assert drift["baseline_method"] == "kernel_shap"
    assert drift["features"][leaning_on[0]]["baseline"] == base[leaning_on[0]]
    assert ext["background"]["source"] == "sample"  # SageMaker's file holds no background: the window's own


def test_capture_window_named_by_headers(spark, tmp_path: Path) -> None:
    import lightgbm as lgb

    features = ["a", "b", "c"]
    X = frame(300, features, seed=9)
    model = lgb.LGBMRegressor(n_estimators=20, num_leaves=8, verbose=-1).fit(X, 3 * X["a"] - X["c"])
    model.booster_.save_model(str(tmp_path / "reg.txt"))
    start = datetime(2024, 5, 1, 10, tzinfo=UTC)
    folder = tmp_path / "capture" / "ep" / "AllTraffic" / "2024" / "05" / "01" / "10"
    folder.mkdir(parents=True)
    lines = [csv_capture([str(v) for v in row], "0.5", f"e{i}", iso(start + timedelta(seconds=i)))
             for i, row in enumerate(X.itertuples(index=False))]
    lines.append("{broken")
    (folder / "part.jsonl").write_text("\n".join(lines) + "\n")
    doc = {"headers": ["target", *features], "label": "target", "methods": {"shap": {"baseline": [[0, 0, 0]]}},
           "predictor": {"model_uri": str(tmp_path / "reg.txt"), "framework": "lightgbm"}}
    (tmp_path / "config.json").write_text(json.dumps(doc))
    spec = InputSpec(path=str(tmp_path / "capture"), window=Window(start=start, end=start + timedelta(hours=1)))
    summary = analyze(spark, None, tmp_path / "config.json", tmp_path / "out", None, spec=spec)
    assert summary.status == "Completed", summary.failure_reason
    assert summary.records_quarantined.by_reason == {"malformed_json": 1}
    _, values, expected = global_values(tmp_path / "out" / "analysis.json")
    explainer = shap.TreeExplainer(model.booster_, data=np.zeros((1, 3)), feature_perturbation="interventional")
    local = explainer.shap_values(X.to_numpy(), check_additivity=False)
    np.testing.assert_allclose([values[f] for f in features], np.abs(local).mean(axis=0), rtol=1e-9)
    assert expected == pytest.approx(float(explainer.expected_value), rel=1e-9)
    assert not (tmp_path / "out" / "constraint_violations.json").exists()  # no baseline: nothing checked


def test_http_endpoint_over_spark(spark, tmp_path: Path) -> None:
    features = ["p", "q", "r"]
    X = frame(12, features, seed=2)
    X.to_csv(tmp_path / "rows.csv", index=False)
    background = [[0.0, 0.5, -0.5], [1.0, -1.0, 0.0]]
    with running_server() as (url, state):
        config = write_config(tmp_path / "c.json", features,
                              {"endpoint_url": f"{url}/csv", "content_type": "text/csv", "probability": 1,
                               "max_batch_size": 500}, baseline=background)
        summary = baseline(spark, tmp_path / "rows.csv", config, tmp_path / "out")
        assert summary.status == "Completed", summary.failure_reason
        assert state.bodies  # the executors called the server
    method, values, expected = global_values(tmp_path / "out" / "analysis.json")
    assert method == "kernel_shap"

    def f(Z: np.ndarray) -> np.ndarray:
        return np.asarray([score(list(z)) for z in Z])

    direct = shap.KernelExplainer(f, np.asarray(background))
    local = np.asarray(direct.shap_values(X.to_numpy(), l1_reg=False, silent=True))
    np.testing.assert_allclose([values[c] for c in features], np.abs(local).mean(axis=0), rtol=1e-7)
    assert expected == pytest.approx(float(direct.expected_value), rel=1e-12)
    assert math.isclose(sum(values.values()), float(np.abs(local).mean(axis=0).sum()), rel_tol=1e-7)


def test_failing_endpoint_fails_the_job_clearly(spark, tmp_path: Path) -> None:
    features = ["p", "q", "r"]
    frame(5, features).to_csv(tmp_path / "rows.csv", index=False)
    with running_server() as (url, _):
        config = write_config(tmp_path / "c.json", features, {"endpoint_url": f"{url}/refuse", "max_retries": 0},
                              baseline=[[0, 0, 0]])
        summary = baseline(spark, tmp_path / "rows.csv", config, tmp_path / "out")
    assert summary.status == "Failed"
    assert "refused the request (HTTP 400: feature 3 is not a number)" in summary.failure_reason
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["status"] == "Failed"
