"""The plugin hooks the dashboard draws from: defaults for any type, data quality's form round trip,
model quality's panels (estimate dashed, constraint direction, violated metrics first)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from monitor_service.errors import InvalidField
from monitor_service.monitors import MONITORS
from monitor_service.monitors.panels import PRESENT, DashboardContext, HistoryPanel
from tests.plugins.toy_monitor import ToyMonitor
from tests.service.conftest import FIXTURES

CONSTRAINTS: dict[str, Any] = json.loads(Path(FIXTURES, "data_quality_constraints_numeric_6features.json").read_text())
DQ, MQ = MONITORS.get("DataQuality"), MONITORS.get("ModelQuality")


def _submitted(fields: list[Any]) -> dict[str, list[str]]:
    """What a browser posts for the form as rendered (every field at its current value)."""
    form: dict[str, list[str]] = {}
    for field in fields:
        if field.kind == "checkboxes":
            form[field.name + PRESENT] = ["1"]
            form[field.name] = list(field.value)
        else:
            form[field.name] = [str(field.value)]
    return form


def test_any_type_gets_history_panels_of_its_metrics() -> None:
    context = DashboardContext(schedule_name="toy", documents={}, settings=None,
                               latest={"overall": {"score": 0.4, "count": 3.0}})
    (panel,) = ToyMonitor().dashboard_panels(context)
    assert isinstance(panel, HistoryPanel)
    assert [(line.group, line.metric) for line in panel.lines] == [("overall", "score"), ("overall", "count")]
    assert ToyMonitor().constraints_form({"constraints": {}}) == []


def test_an_untouched_form_asks_for_no_change() -> None:
    documents = {"constraints": CONSTRAINTS}
    patch = DQ.constraints_patch_from_form(documents, _submitted(DQ.constraints_form(documents)))
    assert patch.model_dump(exclude_defaults=True) == {}


def test_form_edits_become_the_patch_the_api_takes() -> None:
    documents = {"constraints": CONSTRAINTS}
    form = _submitted(DQ.constraints_form(documents))
    assert form["drift.method"] == ["Robust"] and form["features._c3.drift_threshold"] == ["0.1"]
    form["drift.method"] = ["psi"]
    form["drift.categorical_method"] = ["ChiSquared"]
    form["checks.disabled"] = ["extra_column_check"]
    form["features._c3.drift_threshold"] = ["0.25"]
    form["features._c3.completeness"] = [""]
    patch = DQ.constraints_patch_from_form(documents, form)
    assert patch.model_dump(exclude_defaults=True, exclude_none=True) == {
        "drift": {"method": "psi", "categorical_method": "ChiSquared"},
        "checks": {"extra_column_check": False},
        "features": {"_c3": {"drift_threshold": 0.25}}}
    assert "completeness" in patch.features["_c3"].model_fields_set  # emptied: the constraint is removed
    edited = DQ.patch_constraints(documents, patch)
    c3 = next(f for f in edited["features"] if f["name"] == "_c3")
    assert "completeness" not in c3 and c3["monitoringConfigOverrides"]["comparison_threshold"] == 0.25
    # The edited document's form shows the new values.
    again = {f.name: f.value for f in DQ.constraints_form({"constraints": edited})}
    assert again["drift.method"] == "psi" and again["checks.disabled"] == ("extra_column_check",)


def test_switching_checks_back_on_after_all_were_off() -> None:
    document = copy.deepcopy(CONSTRAINTS)
    document["monitoring_config"]["evaluate_constraints"] = "Disabled"
    documents = {"constraints": document}
    fields = {f.name: f for f in DQ.constraints_form(documents)}
    assert len(fields["checks.disabled"].value) == 6
    form = _submitted(list(fields.values()))
    form["checks.disabled"] = ["data_type_check"]
    patch = DQ.constraints_patch_from_form(documents, form)
    assert patch.checks == {"all": True, "data_type_check": False}


@pytest.mark.parametrize(("name", "value", "message"), [
    ("drift.threshold", "abc", "'abc' is not a number"),
    ("features._c1.drift_threshold", "-0.5", "greater than or equal to 0"),
    ("checks.disabled", "no_such_check", "unknown checks"),
])
def test_bad_form_values_name_their_field(name: str, value: str, message: str) -> None:
    documents = {"constraints": CONSTRAINTS}
    form = _submitted(DQ.constraints_form(documents))
    form[name] = [value]
    with pytest.raises(InvalidField, match=message) as caught:
        DQ.constraints_patch_from_form(documents, form)
    assert caught.value.field == name


def test_model_quality_panels() -> None:
    constraints = {"binary_classification_constraints": {
        "auc": {"threshold": 0.8, "comparison_operator": "LessThanThreshold"},
        "false_positive_rate": {"threshold": 0.2, "comparison_operator": "GreaterThanThreshold"}}}
    context = DashboardContext(schedule_name="mq", documents={"constraints": constraints},
                               settings={"problem_type": "BinaryClassification"},
                               latest={"model_quality": {"accuracy": 0.9, "auc": 0.85, "false_positive_rate": 0.3},
                                       "model_quality_estimated": {"auc": 0.8},
                                       "records": {"labelled": 10.0, "unlabelled": 5.0}})
    assert MQ.dashboard_subjects(context) == ["false_positive_rate", "auc", "accuracy"]
    panels = MQ.dashboard_panels(context)
    fpr, auc = panels[0], panels[1]
    assert isinstance(fpr, HistoryPanel) and isinstance(auc, HistoryPanel)
    assert fpr.limit is not None and fpr.limit.violated_when == "above" and fpr.limit.value == 0.2
    assert auc.limit is not None and auc.limit.violated_when == "below"
    assert [(line.group, line.dashed) for line in auc.lines] == [("model_quality", False),
                                                                 ("model_quality_estimated", True)]
    assert panels[-1].title == "Records per window"
    focused = MQ.dashboard_panels(DashboardContext(**{**context.__dict__, "focus": "auc"}))
    assert [p.title for p in focused] == ["auc", "Records per window"]
