"""The `deequ_checks` block: what is accepted, what is refused and why, and that it speaks pydeequ's language."""

from __future__ import annotations

import inspect
import os
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor_service.deequ.checks import CHECKS, Assertion, DeequChecks
from monitor_service.deequ.history import MetricHistory
from monitor_service.errors import FormatError

VALID = [
    {"check": "isUnique", "column": "inferenceId"},
    {"check": "hasPattern", "column": "email", "pattern": r"^[^@]+@[^@]+$", "assertion": {"op": ">=", "value": 0.99}},
    {"check": "isContainedIn", "column": "color", "allowed_values": ["red", "green"], "severity": "error"},
    {"check": "hasMin", "column": "age", "assertion": {"op": ">=", "value": 0}},
    {"check": "hasMax", "column": "age", "assertion": {"op": "between", "value": [60, 120]}},
    {"check": "satisfies", "expression": "income >= 0 OR income IS NULL", "name": "income non-negative"},
    {"check": "hasCompleteness", "column": "income", "assertion": {"op": ">", "value": 0.9}},
    {"check": "hasCorrelation", "columns": ["age", "income"], "assertion": {"op": ">=", "value": -0.2}},
    {"check": "isPrimaryKey", "columns": ["inferenceId", "eventId"]},
    {"check": "hasApproxQuantile", "column": "age", "quantile": 0.5, "assertion": {"op": "<", "value": 80}},
    {"check": "hasDataType", "column": "age", "datatype": "Integral"},
    {"check": "anomaly", "column": "age", "metric": "mean",
     "strategy": {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 0.8, "maxRateIncrease": 1.25}},
    {"check": "anomaly", "column": "income", "metric": "completeness",
     "strategy": {"strategy": "OnlineNormalStrategy"}},
    {"check": "anomaly", "column": "age", "metric": "distinct_count",
     "strategy": {"strategy": "SimpleThresholdStrategy", "upperBound": 500}},
]


def test_the_documented_forms_are_accepted_and_round_trip() -> None:
    block = DeequChecks.from_json(VALID)
    assert len(block.checks) == 11 and len(block.anomaly_checks) == 3
    assert block.checks[0].severity == "warning" and block.checks[2].severity == "error"
    again = DeequChecks.from_json(block.to_json())
    assert again == block
    assert block.columns() == {"inferenceId", "email", "color", "age", "income", "eventId"}
    assert DeequChecks.from_json(None) == DeequChecks((), ())


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"check": "isUniq", "column": "a"}, "unknown Deequ check 'isUniq'"),
        ({"check": "isUnique"}, "needs 'column'"),
        ({"check": "isUnique", "columns": ["a"]}, "needs 'column'"),
        ({"check": "isUnique", "column": "a", "assertion": {"op": "==", "value": 1}}, "takes no assertion"),
        ({"check": "hasMin", "column": "a"}, "needs an assertion"),
        ({"check": "hasMin", "column": "a", "assertion": "lambda x: x > 0"}, "assertion"),
        ({"check": "hasMin", "column": "a", "assertion": {"op": "=>", "value": 0}}, "op"),
        ({"check": "hasMin", "column": "a", "assertion": {"op": ">=", "value": "0"}}, "must be a number"),
        ({"check": "hasMin", "column": "a", "assertion": {"op": "between", "value": 3}}, "'between' takes value"),
        ({"check": "hasMin", "column": "a", "assertion": {"op": "between", "value": [3, 1]}}, "low <= high"),
        ({"check": "hasCompleteness", "column": "a", "assertion": {"op": ">=", "value": 1.5}}, "outside it"),
        ({"check": "hasCorrelation", "columns": ["a", "b"], "assertion": {"op": ">", "value": -2}}, "outside it"),
        ({"check": "hasSize", "assertion": {"op": ">=", "value": -1}}, "outside it"),
        ({"check": "hasCorrelation", "columns": ["a"], "assertion": {"op": ">", "value": 0}}, "exactly 2 columns"),
        ({"check": "hasPattern", "column": "a"}, "needs 'pattern'"),
        ({"check": "hasPattern", "column": "a", "pattern": ""}, "at least 1 character"),
        ({"check": "isUnique", "column": "a", "pattern": "x"}, "takes no 'pattern'"),
        ({"check": "satisfies", "column": "a", "expression": "a > 0"}, "takes no column"),
        ({"check": "satisfies"}, "needs 'expression'"),
        ({"check": "isContainedIn", "column": "a", "allowed_values": []}, "at least 1 item"),
        ({"check": "hasDataType", "column": "a", "datatype": "Text"}, "datatype"),
        ({"check": "isUnique", "column": "a", "severity": "critical"}, "severity"),
        ({"check": "isUnique", "column": "a", "colour": "x"}, "Extra inputs are not permitted"),
        ({"check": "anomaly", "column": "a", "metric": "median", "strategy": {"strategy": "OnlineNormalStrategy"}},
         "not stored per window"),
        ({"check": "anomaly", "column": "a", "metric": "mean", "strategy": {"strategy": "Magic"}}, "strategy"),
        ({"check": "anomaly", "column": "a", "metric": "mean", "strategy": {"strategy": "AbsoluteChangeStrategy"}},
         "maxRateDecrease and/or maxRateIncrease"),
        ({"check": "anomaly", "column": "a", "metric": "mean",
          "strategy": {"strategy": "RelativeRateOfChangeStrategy", "maxRateDecrease": 2, "maxRateIncrease": 1}},
         "is above maxRateIncrease"),
        ({"check": "anomaly", "column": "a", "metric": "mean", "strategy": {"strategy": "SimpleThresholdStrategy"}},
         "upperBound"),
        ({"check": "anomaly", "column": "a", "metric": "mean",
          "strategy": {"strategy": "OnlineNormalStrategy", "ignoreStartPercentage": 2}}, "ignoreStartPercentage"),
        ({"check": "anomaly", "column": "a", "metric": "mean",
          "strategy": {"strategy": "HoltWinters", "metricsInterval": "Hourly", "seasonality": "Weekly"}},
         "metricsInterval"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(entry: dict, reason: str) -> None:
    with pytest.raises(FormatError) as err:
        DeequChecks.from_json([{"check": "isComplete", "column": "ok"}, entry], source="constraints.json")
    text = str(err.value)
    assert reason in text
    assert "[1]" in text and "deequ_checks" in text  # names the offending entry
    assert "docs/deequ.md" in text


def test_the_block_must_be_a_list_and_without_duplicates() -> None:
    with pytest.raises(FormatError, match="valid list"):
        DeequChecks.from_json({"check": "isUnique", "column": "a"})
    with pytest.raises(FormatError, match=r"isUnique\(a\).*more than once"):
        DeequChecks.from_json([{"check": "isUnique", "column": "a"}, {"check": "isUnique", "column": "a"}])


CASES = [(">=", 0.5, 0.5, True), (">=", 0.5, 0.49, False), (">", 0.5, 0.5, False), ("<", 3, 2.9, True),
         ("<=", 3, 3.1, False), ("==", 1, 1.0, True), ("!=", 1, 1.0, False), ("between", [1, 2], 2.0, True),
         ("between", [1, 2], 0.99, False)]


@pytest.mark.parametrize(("op", "value", "metric", "expected"), CASES)
def test_assertions_evaluate_declaratively(op: str, value: object, metric: float, expected: bool) -> None:
    assert Assertion.model_validate({"op": op, "value": value}).holds(metric) is expected


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_between_is_the_closed_interval(a: float, b: float, x: float) -> None:
    low, high = min(a, b), max(a, b)
    assertion = Assertion.model_validate({"op": "between", "value": [low, high]})
    assert assertion.holds(x) == (low <= x and x <= high)


def _pydeequ_check_class() -> type:
    with mock.patch.dict(os.environ, {"SPARK_VERSION": "4.1"}):
        from pydeequ.checks import Check
    return Check


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_is_a_pydeequ_method_with_the_same_arguments(name: str) -> None:
    """The JSON language is pydeequ's: same method, same column arity, same assertion use and arguments."""
    method = getattr(_pydeequ_check_class(), name)
    params = inspect.signature(method).parameters
    spec = CHECKS[name]
    names = set(params) - {"self", "hint", "binningUdf", "maxBins"}
    if "columnA" in names:
        arity = "pair"
    elif "columns" in names or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()):
        arity = "many"
    elif "column" in names:
        arity = "one"
    else:
        arity = "none"
    assert spec.columns == arity
    if "assertion" not in params:
        assert spec.assertion == "none"
    else:
        required = params["assertion"].default is inspect.Parameter.empty
        assert spec.assertion == ("required" if required else "optional")
    ours_to_theirs = {"expression": "columnCondition", "allowed_values": "allowed_values", "pattern": "pattern",
                      "quantile": "quantile", "datatype": "datatype"}
    expected_extra = {ours_to_theirs[n] for n in spec.needs}
    theirs = names - {"column", "columns", "columnA", "columnB", "assertion", "constraintName", "name"}
    assert theirs == expected_extra


T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_history_series_is_time_ordered_without_missing_values() -> None:
    points = [{"time": (T0 + timedelta(hours=h)).isoformat(), "value": v}
              for h, v in [(3, 4.0), (1, 2.0), (0, 1.0), (2, None), (4, float("nan"))]]
    points.append({"time": (T0 + timedelta(hours=1)).isoformat(), "value": 2.5})  # a re-run window
    history = MetricHistory.from_json({"features": {"age": {"mean": points}}})
    assert history.series("age", "mean") == [1.0, 2.5, 4.0]
    assert history.series("age", "completeness") == [] and history.series("nope", "mean") == []


def test_history_refuses_naive_times_and_unknown_keys() -> None:
    with pytest.raises(FormatError, match="time zone"):
        MetricHistory.from_json({"features": {"age": {"mean": [{"time": "2026-11-01T10:00:00", "value": 1}]}}})
    with pytest.raises(FormatError, match="Extra inputs"):
        MetricHistory.from_json({"features": {}, "windows": []})
