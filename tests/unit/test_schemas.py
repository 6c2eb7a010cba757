"""JSON Schemas: every real SageMaker fixture of a kind validates, obviously broken documents do not."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from monitor_service import schemas
from monitor_service.errors import ConfigError, FormatError

REPO = Path(__file__).resolve().parents[2]

# kind -> fixture files (JSON documents, or JSONL files validated line by line).
FIXTURES: dict[str, list[str]] = {
    "capture_record": [
        "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl",
        "capture_endpoint_csv_xgb_churn.jsonl",
        "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl",
        "capture_endpoint_json_sdk_test.jsonl",
        "capture_endpoint_jsonlines_multirecord_adult.jsonl",
        "model_monitor_merged_record_batch_transform.json",
    ],
    "statistics": [
        "data_quality_statistics_numeric_6features.json",
        "data_quality_statistics_string_feature_sdk_test.json",
    ],
    "constraints": [
        "data_quality_constraints_numeric_6features.json",
        "data_quality_constraints_numeric_6features_bad_case.json",
        "data_quality_constraints_legacy_fields_sdk_test.json",
    ],
    "constraint_violations": ["data_quality_constraint_violations_sdk_test.json"],
    "clarify_bias_analysis": [
        "clarify_bias_analysis_pre_and_post_training_fraud.json",
        "clarify_bias_monitor_baseline_analysis_batch_transform.json",
        "clarify_pretraining_bias_analysis_sdk_test.json",
    ],
    "clarify_bias_constraint_violations": [
        "clarify_bias_drift_constraint_violations_batch_transform.json",
        "clarify_bias_drift_constraint_violations_docs_example.json",
    ],
    "explainability_analysis": [
        "clarify_explainability_analysis_kernel_shap_fraud.json",
        "clarify_explainability_monitor_baseline_analysis_endpoint.json",
    ],
    "feature_attribution_violations": ["clarify_feature_attribution_drift_constraint_violations_docs_example.json"],
}


def _documents(fixtures_dir: Path, name: str) -> list[Any]:
    text = (fixtures_dir / name).read_text(encoding="utf-8")
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def test_every_kind_has_fixtures_and_a_valid_schema() -> None:
    assert schemas.kinds() == tuple(sorted(FIXTURES))
    for path in (REPO / "monitor_service" / "schemas_json").glob("*.schema.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_every_capture_fixture_file_is_covered(fixtures_dir: Path) -> None:
    assert {p.name for p in fixtures_dir.glob("capture_*.jsonl")} <= set(FIXTURES["capture_record"])


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in FIXTURES.items() for n in names])
def test_real_fixtures_validate(fixtures_dir: Path, kind: str, name: str) -> None:
    documents = _documents(fixtures_dir, name)
    assert documents
    for document in documents:
        schemas.validate(kind, document)


def _capture() -> dict[str, Any]:
    return {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": "1,2", "encoding": "CSV"},
            "endpointOutput": {"observedContentType": None, "mode": "OUTPUT",
                               "data": "0.5", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e-1", "inferenceId": "i-1", "inferenceTime": "2022-04-18T00:21:48.123Z",
                          "customAttributes": ["a=1"]},
        "eventVersion": "0",
    }


def _statistics() -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {"item_count": 2.0},
        "features": [{
            "name": "x", "inferred_type": "Integral",
            "numerical_statistics": {
                "common": {"num_present": 2.0, "num_missing": 0.0},
                "mean": 1.5, "sum": 3.0, "std_dev": "NaN", "min": 1.0, "max": 2.0,
                "distribution": {"kll": {
                    "buckets": [{"lower_bound": 1.0, "upper_bound": 2.0, "count": 2.0}],
                    "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[1.0, 2.0]]},
                }},
            },
            "drift_metrics": {"linf_robust": 0.0, "psi": None},
        }],
        "monitor_service": {"format_version": 1, "features": {"x": {"source": "input", "position": 0,
                                                                    "type_counts": {"Integral": 2.0}}}},
    }


def _constraints() -> dict[str, Any]:
    return {
        "version": 0.0,
        "features": [{"name": "x", "inferred_type": "Integral", "completeness": 1.0,
                      "num_constraints": {"is_non_negative": True},
                      "monitoringConfigOverrides": {"evaluate_constraints": "Disabled"},
                      "monitoring_config_overrides": {"emit_metrics": "Disabled"}}],
        "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
                              "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
                              "distribution_constraints": {"perform_comparison": "Enabled",
                                                           "comparison_threshold": 0.1,
                                                           "comparison_method": "Robust",
                                                           "categorical_drift_method": "ChiSquared"}},
    }


def _violations() -> dict[str, Any]:
    return {"violations": [{"feature_name": "x", "constraint_check_type": "baseline_drift_check",
                            "description": "Baseline drift distance: 0.3 exceeds threshold: 0.1"}]}


def _bias_analysis() -> dict[str, Any]:
    metrics = [{"name": "DI", "description": "Disparate Impact (DI)", "value": 0.8},
               {"name": "TE", "description": "Treatment Equality (TE)", "value": "Infinity"},
               {"name": "CDDPL", "description": "Conditional Demographic Disparity in Predicted Labels (CDDPL)",
                "value": None, "error": "Group variable is empty or not provided"}]
    return {"version": "1.0", "post_training_bias_metrics": {
        "label": "y", "facets": {"sex": [{"value_or_threshold": "0", "metrics": metrics}]},
        "label_value_or_threshold": "1"}}


def _bias_violations() -> dict[str, Any]:
    return {"version": "1.0", "violations": [{
        "facet": "sex", "facet_value": "0", "metric_name": "DI", "constraint_check_type": "bias_drift_check",
        "description": "Metric value 0.5 doesn't meet the baseline constraint requirement 0.8"}]}


VALID: dict[str, Callable[[], dict[str, Any]]] = {
    "clarify_bias_analysis": _bias_analysis,
    "clarify_bias_constraint_violations": _bias_violations,
    "capture_record": _capture,
    "statistics": _statistics,
    "constraints": _constraints,
    "constraint_violations": _violations,
}


def _edit(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy with `path` set to `value`, or deleted when value is DELETE."""
    changed = copy.deepcopy(document)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


DELETE = object()
INPUT = ("captureData", "endpointInput")
FEATURE = ("features", 0)
NUMERIC = (*FEATURE, "numerical_statistics")
BROKEN: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("capture_record", ("captureData",), DELETE),
    ("capture_record", ("captureData",), {}),
    ("capture_record", (*INPUT, "encoding"), "XML"),
    ("capture_record", (*INPUT, "mode"), "OUTPUT"),
    ("capture_record", (*INPUT, "data"), {"a": 1}),
    ("capture_record", (*INPUT, "observedContentType"), DELETE),
    ("capture_record", ("eventMetadata", "eventId"), DELETE),
    ("capture_record", ("eventMetadata", "inferenceTime"), DELETE),
    ("capture_record", ("eventMetadata", "customAttributes"), "a=1"),
    ("statistics", ("features",), DELETE),
    ("statistics", ("dataset", "item_count"), -1),
    ("statistics", (*FEATURE, "name"), DELETE),
    ("statistics", (*FEATURE, "inferred_type"), "Decimal"),
    ("statistics", (*FEATURE, "inferred_type"), "String"),
    ("statistics", (*NUMERIC, "common"), DELETE),
    ("statistics", (*NUMERIC, "mean"), "abc"),
    ("statistics", (*NUMERIC, "distribution", "kll", "sketch", "data"), [[1.0, "x"]]),
    ("statistics", (*NUMERIC, "distribution", "kll", "sketch", "parameters", "c"), 1.5),
    ("statistics", (*FEATURE, "drift_metrics", "psi"), "high"),
    ("statistics", ("monitor_service", "format_version"), "1"),
    ("statistics", ("monitor_service", "features", "x", "hll"), "not base64!"),
    ("statistics", ("monitor_service", "features", "x", "type_counts"), {"Decimal": 1.0}),
    ("statistics", ("monitor_service", "features", "x", "unknown"), 1),
    ("constraints", ("features",), DELETE),
    ("constraints", (*FEATURE, "completeness"), 1.5),
    ("constraints", (*FEATURE, "num_constraints", "is_non_negative"), "yes"),
    ("constraints", (*FEATURE, "monitoringConfigOverrides", "evaluate_constraints"), "On"),
    ("constraints", ("monitoring_config", "distribution_constraints", "comparison_method"), "Medium"),
    ("constraints", ("monitoring_config", "distribution_constraints", "categorical_drift_method"), "KL"),
    ("constraints", ("monitoring_config", "datatype_check_threshold"), "1.0"),
    ("constraint_violations", ("violations",), DELETE),
    ("constraint_violations", ("version",), "1.0"),
    ("constraint_violations", ("violations", 0, "constraint_check_type"), "bias_drift_check"),
    ("constraint_violations", ("violations", 0, "description"), DELETE),
    ("constraint_violations", ("violations", 0, "metric_name"), "CI"),
    ("clarify_bias_analysis", ("post_training_bias_metrics",), DELETE),
    ("clarify_bias_analysis", ("version",), "2.0"),
    ("clarify_bias_analysis", ("post_training_bias_metrics", "label_value_or_threshold"), 1),
    ("clarify_bias_analysis", ("post_training_bias_metrics", "facets", "sex", 0, "metrics", 0, "name"), "XX"),
    ("clarify_bias_analysis", ("post_training_bias_metrics", "facets", "sex", 0, "metrics", 0, "value"), "NaN"),
    ("clarify_bias_analysis", ("post_training_bias_metrics", "facets", "sex", 0, "metrics", 2, "error"), DELETE),
    ("clarify_bias_constraint_violations", ("version",), DELETE),
    ("clarify_bias_constraint_violations", ("violations", 0, "constraint_check_type"), "baseline_drift_check"),
    ("clarify_bias_constraint_violations", ("violations", 0, "feature_name"), "sex"),
    ("clarify_bias_constraint_violations", ("violations", 0, "facet_value"), DELETE),
]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_hand_written_documents_validate(kind: str) -> None:
    schemas.validate(kind, VALID[kind]())


@pytest.mark.parametrize(("kind", "path", "value"), BROKEN)
def test_broken_documents_fail(kind: str, path: tuple[str | int, ...], value: Any) -> None:
    with pytest.raises(FormatError, match=f"not a valid {kind} document at "):
        schemas.validate(kind, _edit(VALID[kind](), path, value))


def test_batch_merge_record_does_not_need_endpoint_fields() -> None:
    record = {"eventMetadata": {"eventId": "e"}, "groundTruthData": {"data": "1", "encoding": "CSV"},
              "captureData": {"batchTransformOutput": {"data": "{}", "encoding": "JSON"}}}
    schemas.validate("capture_record", record)


def test_clarify_violations_are_not_data_quality_violations(fixtures_dir: Path) -> None:
    clarify = _documents(fixtures_dir, "clarify_bias_drift_constraint_violations_docs_example.json")[0]
    with pytest.raises(FormatError, match="'version' was unexpected"):
        schemas.validate("constraint_violations", clarify)


def test_error_names_the_location() -> None:
    broken = _edit(_statistics(), (*NUMERIC, "mean"), "abc")
    with pytest.raises(FormatError, match="at features/0/numerical_statistics/mean: "):
        schemas.validate("statistics", broken)


def test_unknown_kind_lists_the_known_kinds() -> None:
    known = "capture_record, clarify_bias_analysis, clarify_bias_constraint_violations, constraint_violations"
    with pytest.raises(ConfigError, match=f"known kinds: {known}, constraints"):
        schemas.validate("metrics", {})
