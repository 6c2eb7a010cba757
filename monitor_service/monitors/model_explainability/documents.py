"""Clarify's explainability files: `analysis.json` (read and written) and the drift violations.

analysis.json: `{"version": "1.0", "explanations": {METHOD: {LABEL: {"global_shap_values":
{feature: value}, "expected_value": number}}}}`, METHOD being `kernel_shap` (Clarify's only
one) or `tree_shap` (ours, same shape). A `monitor_service` block, which SageMaker readers
ignore, carries what we add: the rows explained, the explainer and its reason, the background
(so an analysis job explains against the same reference), and in a window's file the nDCG per
label with every feature's attribution, baseline attribution and change.

constraint_violations.json: `{"version": "1.0", "violations": [{"label", "metric_name": "shap",
"constraint_check_type": "feature_attribution_drift_check", "description": "Feature attribution
drift X exceeds threshold 0.9"}]}` (Clarify's wording: "exceeds" although X is below).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from monitor_service.errors import FormatError, InvalidField, MonitorError

METHOD_KEYS = ("kernel_shap", "tree_shap")
CHECK_TYPE = "feature_attribution_drift_check"
METRIC_NAME = "shap"
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True)
class LabelAttributions:
    label: str
    global_values: dict[str, float]
    expected_value: float | None


@dataclass(frozen=True)
class ExplanationFile:
    """A parsed analysis.json: per method, per label; plus our extension block (may be empty)."""

    methods: dict[str, dict[str, LabelAttributions]]
    extension: dict[str, Any]

    def labels_for(self, method: str) -> tuple[str, dict[str, LabelAttributions]]:
        """The attributions of `method`, else of the file's only (or first) method."""
        if method in self.methods:
            return method, self.methods[method]
        first = next(iter(self.methods))
        return first, self.methods[first]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FormatError(f"{where} must be a number, got {value!r}")
    if isinstance(value, str):
        if value not in _SPECIAL:
            raise FormatError(f"{where} must be a number, got the string {value!r}")
        return _SPECIAL[value]
    return float(value)


def parse_analysis(doc: Any, where: str) -> ExplanationFile:
    """Read an explainability analysis.json (ours or SageMaker's); FormatError names what is wrong."""
    if not isinstance(doc, dict):
        raise FormatError(f"{where} must be a JSON object")
    explanations = doc.get("explanations")
    if not isinstance(explanations, dict) or not explanations:
        raise FormatError(
            f"{where} has no explanations section",
            hint="pass the analysis.json of an explainability baseline job (explanations.kernel_shap...)",
        )
    methods: dict[str, dict[str, LabelAttributions]] = {}
    for method, labels in explanations.items():
        if not isinstance(labels, dict) or not labels:
            raise FormatError(f"{where}: explanations.{method} must map label names to attributions")
        parsed: dict[str, LabelAttributions] = {}
        for label, entry in labels.items():
            at = f"{where}: explanations.{method}.{label}"
            if not isinstance(entry, dict) or not isinstance(entry.get("global_shap_values"), dict):
                raise FormatError(f"{at} has no global_shap_values object")
            raw = entry["global_shap_values"]
            values = {str(f): _number(v, f"{at}.global_shap_values.{f}") for f, v in raw.items()}
            if not values:
                raise FormatError(f"{at}.global_shap_values is empty")
            expected = entry.get("expected_value")
            parsed[str(label)] = LabelAttributions(
                str(label), values, None if expected is None else _number(expected, f"{at}.expected_value")
            )
        methods[str(method)] = parsed
    extension = doc.get("monitor_service")
    return ExplanationFile(methods, extension if isinstance(extension, dict) else {})


def analysis_document(method: str, labels: dict[str, LabelAttributions], extension: dict[str, Any]) -> dict[str, Any]:
    body = {
        label: {"global_shap_values": dict(entry.global_values), "expected_value": entry.expected_value}
        for label, entry in labels.items()
    }
    return {"version": "1.0", "explanations": {method: body}, "monitor_service": extension}


def violation(label: str, score: float, threshold: float) -> dict[str, str]:
    return {
        "label": label,
        "metric_name": METRIC_NAME,
        "constraint_check_type": CHECK_TYPE,
        "description": f"Feature attribution drift {score!r} exceeds threshold {float(threshold)!r}",
    }


def violations_document(violations: list[dict[str, str]]) -> dict[str, Any]:
    return {"version": "1.0", "violations": violations}


def check_analysis_config(doc: Any, field: str = "analysis_config") -> None:
    """Raise InvalidField(`field`) unless `doc` is a usable explainability analysis config."""
    from monitor_service.monitors.model_explainability.config import parse_analysis_config

    try:
        parse_analysis_config(doc, where=field)
    except MonitorError as exc:
        raise InvalidField(field, str(exc)) from None


def check_documents(documents: dict[str, dict[str, Any]]) -> None:
    """Upload-time check of a baseline's documents (`analysis_config`, `analysis`); names the bad one."""
    checks = {"analysis_config": check_analysis_config, "analysis": lambda doc: parse_analysis(doc, where="analysis")}
    unknown = sorted(set(documents) - set(checks))
    if unknown:
        raise InvalidField(unknown[0], f"a ModelExplainability baseline has no document {unknown[0]!r}; "
                                       f"it takes {', '.join(sorted(checks))}")
    if "analysis" not in documents:
        raise InvalidField("analysis", "a ModelExplainability baseline needs its analysis document (analysis.json)")
    for name, doc in documents.items():
        try:
            checks[name](doc)
        except MonitorError as exc:
            raise InvalidField(name, str(exc)) from None
