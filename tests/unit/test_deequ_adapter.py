"""The Deequ adapter without a JVM: Deequ's JSON answers mapped onto profiles, constraints and
violations; the sidecar's modules import only what the Deequ runtime has; a missing runtime is a
clear error naming the install command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from monitor_service.core.types import InferredType
from monitor_service.deequ import calls
from monitor_service.deequ.checks import DeequChecks
from monitor_service.deequ.client import INSTALL_COMMAND, Runtime
from monitor_service.deequ.mapping import check_violations, constraints_from_deequ, profile_from_deequ
from monitor_service.errors import DeequUnavailable

PACKAGE = Path(calls.__file__).resolve().parent
ANSWER = {
    "num_records": 8, "spark_jobs": 7,
    "columns": {
        "c0": {"completeness": 0.75, "approximate_num_distinct_values": 4, "data_type": "Fractional",
               "type_counts": {"Boolean": 0, "Fractional": 4, "Integral": 2, "Unknown": 2, "String": 0},
               "histogram": {"1": 2, "2.5": 2, "3": 1, "-1.5": 1, "NullValue": 2},
               "mean": 1.0, "minimum": -1.5, "maximum": 3.0, "sum": 6.0, "std_dev": 1.5,
               "kll": {"c": 0.64, "k": 2048, "levels": [[1.0, 1.0, 2.5, 2.5, 3.0, -1.5]], "buckets": []}},
        "c1": {"completeness": 1.0, "approximate_num_distinct_values": 2, "data_type": "String",
               "type_counts": {"Boolean": 0, "Fractional": 0, "Integral": 0, "Unknown": 0, "String": 8},
               "histogram": {"b": 3, "a": 5}},
    },
}
SUGGESTIONS = [
    # as pydeequ hands them over: Scala's `_ >=` rewritten as `lambda x: x >=`, `Array(` as `[`
    {"column": "c0", "code": '.hasCompleteness("c0", lambda x: x >= 0.44,         | "It should be above 0.44!")'},
    {"column": "c0", "code": '.hasDataType("c0", ConstrainableDataTypes.Fractional)'},
    {"column": "c1", "code": '.isComplete("c1")'},
    {"column": "c1", "code": '.isContainedIn("c1", ["a", "b"])'},
    {"column": "c1", "code": '.isContainedIn("c1", ["a"], lambda x: x >= 0.6, "...")'},
]


def test_profile_and_constraints_from_deequ() -> None:
    profile = profile_from_deequ(ANSWER, ["price", "color"])
    price, color = profile.columns
    assert (price.name, price.inferred_type, price.num_present, price.num_missing) == (
        "price", InferredType.FRACTIONAL, 6.0, 2.0)
    assert price.numeric is not None and price.numeric.count == 6.0  # Integral + Fractional values
    assert price.numeric.kll is not None and (price.numeric.kll.n, price.numeric.kll.k) == (6.0, 2048)
    assert color.numeric is None and color.histogram == {"b": 3.0, "a": 5.0}
    assert price.histogram == {"1": 2.0, "2.5": 2.0, "3": 1.0, "-1.5": 1.0}  # nulls are num_missing, not a value
    constraints = constraints_from_deequ(profile, SUGGESTIONS).to_dict()["features"]
    assert constraints[0]["completeness"] == 0.44
    assert constraints[0]["num_constraints"] == {"is_non_negative": False}  # no isNonNegative suggested
    assert constraints[1]["completeness"] == 1.0
    assert constraints[1]["string_constraints"] == {"domains": ["a", "b"]}  # most frequent first


def test_failed_checks_become_violations() -> None:
    block = DeequChecks.from_json([{"check": "isUnique", "column": "id", "severity": "error"},
                                   {"check": "isComplete", "column": "id"},
                                   {"check": "satisfies", "expression": "price >= 0", "name": "price ok",
                                    "description": "refunds are separate"}])
    unmet = "Value: 0.75 does not meet the constraint requirement!"
    results = [
        {"index": 0, "status": "Error", "constraints": [{"constraint": "U", "status": "Failure", "message": unmet}]},
        {"index": 1, "status": "Success", "constraints": [{"constraint": "C", "status": "Success", "message": ""}]},
        {"index": 2, "status": "Warning", "constraints": [{"constraint": "S", "status": "Failure",
                                                           "message": "Value: 0.875 does not meet"}]},
    ]
    violations = check_violations(block.checks, results)
    assert [(v.feature_name, v.constraint_check_type) for v in violations] == [
        ("id", "deequ_check"), ("price ok", "deequ_check")]
    assert violations[0].description == (
        "error: isUnique(id) failed: Value: 0.75 does not meet the constraint requirement!")
    assert violations[1].description.endswith("failed: Value: 0.875 does not meet (refunds are separate)")


@pytest.mark.parametrize(("assertion", "metric", "expected"), [
    ({"op": ">=", "value": 0.5}, 0.5, True), ({"op": "<", "value": 3}, 3.0, False),
    ({"op": "between", "value": [1, 2]}, 2.0, True), ({"op": "between", "value": [1, 2]}, 2.5, False),
    ({"op": "!=", "value": 0}, 0.0, False),
])
def test_declarative_assertions(assertion: dict, metric: float, expected: bool) -> None:
    assert calls.holds(assertion, metric) is expected


def test_sidecar_modules_import_only_what_the_runtime_has() -> None:
    allowed = {"__future__", "json", "math", "operator", "os", "sys", "traceback", "collections", "typing",
               "pyspark", "pydeequ", "monitor_service"}
    for name in ("calls.py", "sidecar.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in allowed, (name, module)
                if module.startswith("monitor_service"):
                    assert module == "monitor_service.deequ", (name, module)  # `from ... import calls` only


def test_missing_runtime_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(DeequUnavailable) as error:
        Runtime.locate(tmp_path / "deequ")
    assert INSTALL_COMMAND == "bash scripts/_deequ.sh" and INSTALL_COMMAND in str(error.value)
    assert "bin/python" in str(error.value) and "deequ-2.1.0-spark-3.5.jar" in str(error.value)
