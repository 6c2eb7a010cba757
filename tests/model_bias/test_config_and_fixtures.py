"""Clarify's files as users have them: analysis configs, baseline analysis.json and violation files."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from monitor_service import schemas
from monitor_service.errors import ConfigError, FormatError
from monitor_service.monitors.model_bias.analysis_document import entry_key, read_baseline
from monitor_service.monitors.model_bias.config import load_config, parse_config
from monitor_service.monitors.model_bias.drift import Check
from monitor_service.monitors.model_bias.violations import Violation, violations_document

BIAS_ANALYSES = [
    "clarify_bias_analysis_pre_and_post_training_fraud.json",
    "clarify_bias_monitor_baseline_analysis_batch_transform.json",
    "clarify_pretraining_bias_analysis_sdk_test.json",
]
VIOLATIONS = [
    "clarify_bias_drift_constraint_violations_batch_transform.json",
    "clarify_bias_drift_constraint_violations_docs_example.json",
]


def _load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / name).read_text(encoding="utf-8"))


def test_the_clarify_example_config_is_read_as_it_is(fixtures_dir: Path) -> None:
    config = load_config(str(fixtures_dir / "clarify_bias_analysis_config_example.json"))
    assert config.label_name == "Target" and config.label_values_or_threshold == [1]
    assert config.facet[0].name_or_index == "Sex" and config.facet[0].value_or_threshold == [0]
    assert config.group_variable == "Age" and config.probability_threshold == 0.8
    assert len(config.stage_methods("pre_training")) == 8 and len(config.stage_methods("post_training")) == 13
    assert config.model_extra is not None and "predictor" in config.model_extra  # unknown keys kept
    assert config.methods is not None and config.methods.model_extra == {"report": {"name": "report",
                                                                                      "title": "Analysis Report"}}


def _base() -> dict[str, Any]:
    return {"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}]}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.pop("label"), "label"),
        (lambda d: d.update(label_values_or_threshold=[]), "label_values_or_threshold"),
        (lambda d: d.update(facet=[]), "facet"),
        (lambda d: d.update(facet=[{"value_or_threshold": [1]}]), "facet[0].name_or_index"),
        (lambda d: d.update(facet=[{"name_or_index": "a", "value_or_threshold": []}]), "facet[0].value_or_threshold"),
        (lambda d: d.update(probability_threshold=1.5), "probability_threshold"),
        (lambda d: d.update(version="2.0"), "version"),
        (lambda d: d.update(methods={"post_training_bias": {"methods": ["DPPL", "XX"]}}), "post_training_bias"),
        (lambda d: d.update(headers=["y", "sex"], group_variable=5), "group_variable"),
        (lambda d: d.update(methods={"shap": {}}), "methods"),
    ],
)
def test_bad_configs_name_the_key(change: Any, named: str) -> None:
    doc = _base()
    change(doc)
    with pytest.raises(ConfigError) as err:
        parse_config(doc, "analysis_config.json")
    assert named in str(err.value)


def test_config_forms_clarify_accepts() -> None:
    doc = {**_base(), "label_values_or_threshold": 0.5, "headers": ["y", "sex"], "label": 0,
           "facet": [{"name_or_index": 1, "value_or_threshold": 40}], "dataset_type": "text/csv"}
    config = parse_config(doc)
    assert config.label_values_or_threshold == [0.5] and config.label_name == "y"
    assert config.column(config.facet[0].name_or_index) == "sex" and config.facet[0].value_or_threshold == [40]
    assert parse_config(_base()).column(3) == "_c3"
    # No methods (SageMaker's monitor variant of the file): every metric of both stages.
    assert len(parse_config(_base()).stage_methods("post_training")) == 13


def test_missing_or_broken_config_file(tmp_path: Path) -> None:
    broken = tmp_path / "c.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(broken))


@pytest.mark.parametrize("name", BIAS_ANALYSES)
def test_clarify_analysis_files_validate_and_read_as_baselines_unchanged(fixtures_dir: Path, name: str) -> None:
    doc = _load(fixtures_dir, name)
    original = copy.deepcopy(doc)
    schemas.validate("clarify_bias_analysis", doc)
    baseline = read_baseline(doc, where=name)
    assert doc == original
    for key, block in (("pre_training", "pre_training_bias_metrics"), ("post_training", "post_training_bias_metrics")):
        for facet, entries in doc.get(block, {}).get("facets", {}).items():
            for entry in entries:
                looked_up = baseline.lookup(key, facet, entry["value_or_threshold"])  # type: ignore[arg-type]
                assert looked_up is not None
                for metric in entry["metrics"]:
                    assert looked_up[metric["name"]] == metric["value"]


def test_baseline_lookup_matches_intervals_by_threshold(fixtures_dir: Path) -> None:
    baseline = read_baseline(_load(fixtures_dir, "clarify_pretraining_bias_analysis_sdk_test.json"))
    window_interval = "(0.5, 0.97]"  # same threshold, another maximum
    assert entry_key(window_interval) == ("interval", 0.5)
    found = baseline.lookup("pre_training", "F1", window_interval)
    assert found is not None and found["CI"] == -0.08
    assert baseline.lookup("pre_training", "F1", "(0.6, 0.97]") is None


def test_baseline_values_read_infinity_strings() -> None:
    doc = {"version": "1.0", "post_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1",
           "facets": {"f": [{"value_or_threshold": "0", "metrics": [
               {"name": "TE", "description": "Treatment Equality (TE)", "value": "Infinity"},
               {"name": "CDDPL", "description": "x", "value": None, "error": "Group variable is empty or not provided"},
           ]}]}}}
    values = read_baseline(doc).lookup("post_training", "f", "0")
    assert values == {"TE": math.inf, "CDDPL": None}


@pytest.mark.parametrize(
    "broken",
    [
        {"version": "1.0"},
        {"post_training_bias_metrics": {"label": "y", "facets": {}}},
        {"post_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1", "facets": {"f": [
            {"value_or_threshold": "0", "metrics": [{"name": "DPPL", "description": "d", "value": None}]}]}}},
        {"post_training_bias_metrics": {"label": "y", "label_value_or_threshold": "1", "facets": {"f": [
            {"value_or_threshold": "0", "metrics": [{"name": "DPPL", "description": "d", "value": "big"}]}]}}},
    ],
)
def test_broken_baselines_are_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(FormatError):
        read_baseline(broken)


@pytest.mark.parametrize("name", VIOLATIONS)
def test_clarify_violation_files_validate(fixtures_dir: Path, name: str) -> None:
    schemas.validate("clarify_bias_constraint_violations", _load(fixtures_dir, name))


def test_our_violation_file_has_the_fixture_shape(fixtures_dir: Path) -> None:
    real = _load(fixtures_dir, "clarify_bias_drift_constraint_violations_batch_transform.json")
    check = Check("CDDPL", 0.374894782529513, 0.28176563733194276, (-0.28, 0.28), (0.3, 0.45), True)
    ours = violations_document([Violation("Sex", "0", check)])
    schemas.validate("clarify_bias_constraint_violations", ours)
    assert set(ours) == set(real) and ours["version"] == real["version"]
    assert set(ours["violations"][0]) == set(real["violations"][0])
    assert ours["violations"][0] == real["violations"][0]  # the first real violation, reproduced exactly
    with pytest.raises(FormatError):
        schemas.validate("clarify_bias_constraint_violations", {"violations": []})  # no version
