"""Clarify's files: the SageMaker fixtures parse as baselines and validate; our files match their shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor_service import schemas
from monitor_service.errors import FormatError, InvalidField
from monitor_service.monitors.model_explainability.documents import (
    LabelAttributions,
    analysis_document,
    check_documents,
    parse_analysis,
    violation,
    violations_document,
)

BASELINES = ["clarify_explainability_analysis_kernel_shap_fraud.json",
             "clarify_explainability_monitor_baseline_analysis_endpoint.json"]


@pytest.mark.parametrize("name", BASELINES)
def test_sagemaker_analysis_files_parse(fixtures_dir: Path, name: str) -> None:
    doc = json.loads((fixtures_dir / name).read_text())
    parsed = parse_analysis(doc, where=name)
    method, labels = parsed.labels_for("tree_shap")
    assert method == "kernel_shap" and list(labels) == ["label0"]
    raw = doc["explanations"]["kernel_shap"]["label0"]
    assert labels["label0"].global_values == raw["global_shap_values"]
    assert labels["label0"].expected_value == raw["expected_value"]
    check_documents({"analysis": doc})


def test_violation_text_matches_the_documented_example(fixtures_dir: Path) -> None:
    example = json.loads((fixtures_dir / "clarify_feature_attribution_drift_constraint_violations_docs_example.json")
                         .read_text())
    pattern = re.compile(r"Feature attribution drift (\S+) exceeds threshold (\S+)")
    scores = [float(pattern.fullmatch(v["description"]).group(1)) for v in example["violations"]]
    ours = violations_document([violation(v["label"], score, 0.9) for v, score in zip(example["violations"], scores,
                                                                                       strict=True)])
    schemas.validate("feature_attribution_violations", ours)
    assert ours["version"] == example["version"] == "1.0"
    for mine, theirs, score in zip(ours["violations"], example["violations"], scores, strict=True):
        assert {k: v for k, v in mine.items() if k != "description"} == {
            k: v for k, v in theirs.items() if k != "description"}
        found = pattern.fullmatch(mine["description"])
        assert float(found.group(1)) == score and found.group(2) == "0.9"  # the same double, shortest text
    assert ours["violations"][0]["description"] == example["violations"][0]["description"]


def test_written_analysis_validates_and_reads_back() -> None:
    labels = {"label0": LabelAttributions("label0", {"a": 0.2, "b": 0.1}, 0.25)}
    doc = analysis_document("tree_shap", labels, {"records": {"available": 3, "explained": 3},
                                                  "explainer": {"method": "tree_shap"}})
    schemas.validate("explainability_analysis", doc)
    back = parse_analysis(json.loads(json.dumps(doc)), where="x")
    assert back.methods == {"tree_shap": labels}
    assert back.extension["records"]["explained"] == 3


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, "has no explanations section"),
        ({"explanations": {"kernel_shap": {}}}, r"explanations.kernel_shap must map label names"),
        ({"explanations": {"kernel_shap": {"label0": {}}}}, r"label0 has no global_shap_values"),
        ({"explanations": {"kernel_shap": {"label0": {"global_shap_values": {"a": "high"}}}}},
         r"global_shap_values.a must be a number, got the string 'high'"),
        ({"explanations": {"kernel_shap": {"label0": {"global_shap_values": {}}}}}, r"is empty"),
    ],
)
def test_broken_baselines_are_named(doc: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse_analysis(doc, where="baseline")
    with pytest.raises(InvalidField, match=message) as caught:
        check_documents({"analysis": doc})
    assert caught.value.field == "analysis"
    with pytest.raises(FormatError):
        schemas.validate("explainability_analysis", doc)


def test_check_documents_names_the_document() -> None:
    good = {"explanations": {"kernel_shap": {"label0": {"global_shap_values": {"a": 1.0}}}}}
    with pytest.raises(InvalidField, match="needs its analysis document") as missing:
        check_documents({})
    assert missing.value.field == "analysis"
    with pytest.raises(InvalidField, match="no document 'statistics'"):
        check_documents({"analysis": good, "statistics": {}})
    with pytest.raises(InvalidField, match="has no predictor") as config:
        check_documents({"analysis": good, "analysis_config": {"methods": {"shap": {}}}})
    assert config.value.field == "analysis_config"


def test_dashboard_lists_labels_then_features_by_attribution() -> None:
    from monitor_service.monitors.model_explainability import PLUGIN
    from monitor_service.monitors.panels import DashboardContext

    latest = {"records": {"available": 9.0}, "age": {"attribution": 0.1, "attribution_change": 0.5},
              "income": {"attribution": 0.3}, "label0": {"ndcg": 0.8, "expected_value": 0.2},
              "tenure": {"attribution": None}}
    context = DashboardContext(schedule_name="s", documents={}, settings=None, latest=latest)
    assert PLUGIN.dashboard_subjects(context) == ["label0", "income", "age", "tenure", "records"]
