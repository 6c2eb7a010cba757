"""The explainability analysis config: Clarify's example with a local model, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor_service.errors import ConfigError
from monitor_service.monitors.model_explainability.config import load_analysis_config, parse_analysis_config


def _clarify_example(fixtures_dir: Path) -> dict:
    return json.loads((fixtures_dir / "clarify_explainability_analysis_config_example.json").read_text())


def test_clarify_example_needs_a_model_we_can_call(fixtures_dir: Path) -> None:
    doc = _clarify_example(fixtures_dir)
    with pytest.raises(ConfigError, match=r"neither which model file.*model_name='DEMO-clarify-xgboost-model'"):
        parse_analysis_config(doc)
    doc["predictor"]["model_uri"] = "models/xgb.json"
    doc["predictor"]["framework"] = "xgboost"
    del doc["predictor"]["accept_type"], doc["predictor"]["content_type"]
    config = parse_analysis_config(doc)
    assert config.shap.num_samples == 15 and config.shap.agg_method == "mean_abs"
    assert config.shap.save_local_shap_values is True and config.shap.use_logit is False
    assert config.shap.baseline == [[38, 2, 189794, 10, 10, 3, 6, 1, 4, 1, 1092, 88, 41, 36]]
    features = config.feature_names(None, None)
    assert features[0] == "Age" and "Target" not in features and len(features) == 14
    assert config.attribution_drift_check.for_label("label0") == 0.9


def test_thresholds_per_label_and_features_to_explain() -> None:
    config = parse_analysis_config({
        "headers": ["y", "a", "b", "c"], "label": "y",
        "methods": {"shap": {"features_to_explain": ["c", 0]}},
        "predictor": {"model_uri": "m.json", "framework": "xgboost"},
        "attribution_drift_check": {"threshold": 0.8, "label_thresholds": {"label1": 0.95}},
        "methods_ignored_by_us": 1,
    })
    assert config.attribution_drift_check.for_label("label0") == 0.8
    assert config.attribution_drift_check.for_label("label1") == 0.95
    features = config.feature_names(None, None)
    assert features == ["a", "b", "c"]
    assert config.explained_features(features) == ["c", "a"]


@pytest.mark.parametrize(
    ("shap", "message"),
    [
        ({"baseline": [[1, 2]], "num_clusters": 3}, "mutually exclusive"),
        ({"agg_method": "max"}, r"methods.shap.agg_method: Input should be 'mean_abs', 'median' or 'mean_sq'"),
        ({"text_config": {"granularity": "token"}}, "text and image explanations are not supported"),
        ({"num_samples": 0}, r"num_samples: Input should be greater than or equal to 1"),
        ({"explainer": "deep"}, r"explainer: Input should be 'auto', 'tree' or 'kernel'"),
        ({"baseline": []}, "at least one row"),
    ],
)
def test_bad_shap_sections(shap: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_analysis_config({"methods": {"shap": shap}, "predictor": {"model_uri": "m", "framework": "onnx"}})


def test_missing_sections_say_what_to_add(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no methods.shap section"):
        parse_analysis_config({"predictor": {}})
    with pytest.raises(ConfigError, match=r"has no predictor"):
        parse_analysis_config({"methods": {"shap": {}}})
    with pytest.raises(ConfigError, match=r"analysis config not found"):
        load_analysis_config(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match=r"not valid JSON"):
        load_analysis_config(str(tmp_path / "bad.json"))
    config = parse_analysis_config({"methods": {"shap": {}}, "predictor": {"model_uri": "m", "framework": "onnx"}})
    with pytest.raises(ConfigError, match=r"does not name the model's features"):
        config.feature_names(None, None)
    assert config.feature_names(["x", "y"], None) == ["x", "y"]
