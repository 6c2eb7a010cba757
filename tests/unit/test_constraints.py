"""constraints.json: reading real SageMaker files, writing SageMaker's shape, suggestion, edits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from profile_builders import (
    dataset,
    numeric_column,
    profile_from_sagemaker_statistics,
    string_column,
)

from monitor_service.core import checks, drift
from monitor_service.core.constraint_edits import (
    clear_feature_overrides,
    set_check_enabled,
    set_feature_drift,
    set_global_drift,
)
from monitor_service.core.constraints import (
    Constraints,
    read_constraints,
    suggest_constraints,
    write_constraints,
)
from monitor_service.core.drift import ColumnKind
from monitor_service.core.types import InferredType
from monitor_service.errors import ConfigError, FormatError

NUMERIC_6 = "data_quality_constraints_numeric_6features.json"
BAD_CASE = "data_quality_constraints_numeric_6features_bad_case.json"
LEGACY = "data_quality_constraints_legacy_fields_sdk_test.json"


def load(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir / name).read_text())


# ---------------------------------------------------------------- reading real files
@pytest.mark.parametrize("name", [NUMERIC_6, BAD_CASE])
def test_container_files_round_trip_exactly(fixtures_dir: Path, name: str) -> None:
    raw = load(fixtures_dir, name)
    assert Constraints.from_dict(raw).to_dict() == raw


def test_bad_case_is_a_valid_file_with_a_string_feature(fixtures_dir: Path) -> None:
    constraints = Constraints.from_dict(load(fixtures_dir, BAD_CASE))
    assert constraints.feature("_c5").inferred_type is InferredType.STRING  # type: ignore[union-attr]


def test_legacy_sdk_file(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, LEGACY)
    constraints = Constraints.from_dict(raw)
    message = constraints.feature("message")
    assert message is not None and message.overrides is not None
    assert message.overrides.evaluate_constraints == "Enabled"
    assert message.string_constraints.domains == ["preproc-not-YET-supported-for-csv-json"]  # type: ignore[union-attr]
    dist = constraints.monitoring_config.distribution_constraints
    assert dist.perform_comparison == "Enabled"  # from enable_comparisons: true
    assert dist.comparison_threshold == 1.0
    assert constraints.monitoring_config.domain_content_threshold == 1.0  # from min_domain_mass
    written = constraints.to_dict()
    # overrides go back where the SDK put them; legacy keys become their current names
    assert written["features"][0]["string_constraints"]["monitoring_config_overrides"] == {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
    }
    assert "monitoringConfigOverrides" not in written["features"][0]
    assert written["monitoring_config"]["distribution_constraints"] == {
        "perform_comparison": "Enabled",
        "comparison_threshold": 1.0,
        "comparison_method": "Robust",
    }


def test_legacy_keys_are_mapped(fixtures_dir: Path) -> None:
    raw = load(fixtures_dir, LEGACY)
    raw["monitoring_config"]["distribution_constraints"].update(
        {"enable_comparisons": False, "min_domain_mass": 0.8, "comparion_method": "Simple"}
    )
    constraints = Constraints.from_dict(raw)
    dist = constraints.monitoring_config.distribution_constraints
    assert (dist.perform_comparison, dist.comparison_method) == ("Disabled", "Simple")
    assert constraints.monitoring_config.domain_content_threshold == 0.8


def test_feature_level_overrides_ints_and_unknown_keys() -> None:
    raw = {
        "version": 0,
        "custom_top": {"kept": True},
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "completeness": 1,
                "num_constraints": {"is_non_negative": True, "future_key": 3},
                "monitoringConfigOverrides": {"comparison_method": "psi", "comparison_threshold": 1},
                "note": "hello",
            }
        ],
        "monitoring_config": {"distribution_constraints": {"comparison_threshold": 0}},
    }
    constraints = Constraints.from_dict(raw)
    out = constraints.to_dict()
    assert out["version"] == 0.0 and isinstance(out["version"], float)
    assert out["custom_top"] == {"kept": True}
    feature = out["features"][0]
    assert feature["completeness"] == 1.0 and isinstance(feature["completeness"], float)
    assert feature["num_constraints"] == {"is_non_negative": True, "future_key": 3}
    assert feature["note"] == "hello"
    assert feature["monitoringConfigOverrides"] == {"comparison_method": "psi", "comparison_threshold": 1.0}
    assert isinstance(out["monitoring_config"]["distribution_constraints"]["comparison_threshold"], float)
    assert constraints.settings_for("age").drift(ColumnKind.NUMERIC) == ("psi", 1.0)


def test_num_constraints_override_spelling_is_read() -> None:
    raw = {
        "features": [
            {
                "name": "x",
                "inferred_type": "Fractional",
                "num_constraints": {
                    "is_non_negative": True,
                    "monitoring_config_overrides": {"perform_comparison": "Disabled"},
                },
            }
        ]
    }
    constraints = Constraints.from_dict(raw)
    assert not constraints.settings_for("x").perform_comparison
    assert constraints.to_dict()["features"][0]["num_constraints"]["monitoring_config_overrides"] == {
        "perform_comparison": "Disabled"
    }


# ---------------------------------------------------------------- shape errors
@pytest.mark.parametrize(
    ("raw", "where", "what"),
    [
        (
            {"features": [{"name": "a", "inferred_type": "Text"}]},
            "features[0] ('a').inferred_type",
            "'Integral'",
        ),
        ({"features": [{"inferred_type": "String"}]}, "features[0].name", "Field required"),
        (
            {"monitoring_config": {"distribution_constraints": {"comparison_threshold": "0.1"}}},
            "monitoring_config.distribution_constraints.comparison_threshold",
            "must be a number",
        ),
        (
            {"monitoring_config": {"datatype_check_threshold": True}},
            "datatype_check_threshold",
            "must be a number",
        ),
        (
            {"features": [{"name": "a", "inferred_type": "String", "completeness": 1.5}]},
            "completeness",
            "less than",
        ),
        (
            {"monitoring_config": {"evaluate_constraints": "yes"}},
            "evaluate_constraints",
            "'Enabled' or 'Disabled'",
        ),
        (
            {"monitoring_config": {"distribution_constraints": {"categorical_drift_method": "Hellinger"}}},
            "categorical_drift_method 'Hellinger'",
            "chi_squared",
        ),
        ([1, 2], "is not a valid constraints file: Input", "valid dictionary"),
    ],
)
def test_shape_errors_say_where_and_what(raw: Any, where: str, what: str) -> None:
    with pytest.raises(FormatError) as info:
        Constraints.from_dict(raw, source="s3://bucket/constraints.json")
    message = str(info.value)
    assert "s3://bucket/constraints.json" in message and where in message and what in message
    assert info.value.hint  # how to fix


def test_unknown_override_method_lists_the_registry() -> None:
    raw = {
        "features": [{"name": "a", "inferred_type": "String", "monitoringConfigOverrides": {"comparison_method": "kl"}}]
    }
    with pytest.raises(FormatError) as info:
        Constraints.from_dict(raw)
    assert all(name in str(info.value) for name in drift.names())


def test_override_method_must_fit_the_feature_type() -> None:
    raw = {
        "features": [{"name": "a", "inferred_type": "String", "monitoringConfigOverrides": {"comparison_method": "ks"}}]
    }
    with pytest.raises(FormatError, match="not a registered drift method for categorical features"):
        Constraints.from_dict(raw)


def test_read_and_write_files(tmp_path: Path, fixtures_dir: Path) -> None:
    constraints = read_constraints(str(fixtures_dir / NUMERIC_6))
    target = tmp_path / "out" / "constraints.json"
    write_constraints(str(target), constraints)
    assert json.loads(target.read_text()) == load(fixtures_dir, NUMERIC_6)
    assert '"completeness": 1.0' in target.read_text()


# ---------------------------------------------------------------- effective settings
def test_settings_resolution() -> None:
    constraints = Constraints.from_dict(
        {
            "features": [
                {
                    "name": "n",
                    "inferred_type": "Fractional",
                    "monitoringConfigOverrides": {"comparison_threshold": 0.3},
                },
                {"name": "s", "inferred_type": "String"},
            ],
            "monitoring_config": {
                "datatype_check_threshold": 0.9,
                "distribution_constraints": {"comparison_method": "Simple", "comparison_threshold": 0.2},
            },
        }
    )
    assert constraints.settings_for("n").drift(ColumnKind.NUMERIC) == ("Simple", 0.3)
    # LInfinity (default) follows Simple/Robust; categorical threshold defaults to comparison_threshold
    assert constraints.settings_for("s").drift(ColumnKind.CATEGORICAL) == ("Simple", 0.2)
    assert constraints.settings_for("unknown").datatype_check_threshold == 0.9
    chi = Constraints.from_dict(
        {
            "monitoring_config": {
                "distribution_constraints": {
                    "categorical_drift_method": "ChiSquared",
                    "categorical_comparison_threshold": 0.05,
                }
            }
        }
    )
    assert chi.settings_for("s").drift(ColumnKind.CATEGORICAL) == ("ChiSquared", 0.05)
    assert chi.settings_for("s").drift(ColumnKind.NUMERIC) == ("Robust", 0.1)


def test_feature_override_wins_over_global_toggle() -> None:
    constraints = Constraints.from_dict(
        {
            "features": [
                {
                    "name": "a",
                    "inferred_type": "String",
                    "monitoringConfigOverrides": {"evaluate_constraints": "Enabled"},
                },
                {"name": "b", "inferred_type": "String"},
            ],
            "monitoring_config": {"evaluate_constraints": "Disabled"},
        }
    )
    assert constraints.settings_for("a").evaluate and not constraints.settings_for("b").evaluate


# ---------------------------------------------------------------- suggestion
def test_suggestion_reproduces_the_real_container_output(fixtures_dir: Path) -> None:
    """Real statistics.json in, the constraints.json the container generated from it out."""
    profile = profile_from_sagemaker_statistics(fixtures_dir / "data_quality_statistics_numeric_6features.json")
    assert suggest_constraints(profile).to_dict() == load(fixtures_dir, NUMERIC_6)


def test_suggested_domains_match_the_real_sdk_files(fixtures_dir: Path) -> None:
    profile = profile_from_sagemaker_statistics(fixtures_dir / "data_quality_statistics_string_feature_sdk_test.json")
    suggested = suggest_constraints(profile).to_dict()["features"][0]
    expected = load(fixtures_dir, LEGACY)["features"][0]
    for key in ("name", "inferred_type", "completeness"):
        assert suggested[key] == expected[key]
    assert suggested["string_constraints"]["domains"] == expected["string_constraints"]["domains"]


def test_suggestion_rules() -> None:
    profile = dataset(
        numeric_column("neg", [-1.0, 2.0, 3.0], missing=1),
        numeric_column("count", [0.0, 5.0], inferred_type=InferredType.INTEGRAL),
        string_column("city", {"b": 5, "a": 9, "NullValue": 1, "c": 2}, missing=1),  # 1 of 4 keys is a singleton
        string_column("id", {"u1": 1, "u2": 1, "u3": 4}),  # unique ratio 2/3 > 0.1
        string_column("text", None),  # too many values for a histogram
        string_column("flag", {"true": 5, "false": 7}, inferred_type=InferredType.BOOLEAN),
    )
    features = {f["name"]: f for f in suggest_constraints(profile).to_dict()["features"]}
    assert features["neg"]["completeness"] == 0.75
    assert features["neg"]["num_constraints"] == {"is_non_negative": False}
    assert features["count"]["num_constraints"] == {"is_non_negative": True}
    assert "string_constraints" not in features["city"]  # 1/4 = 0.25 > 0.1
    assert "string_constraints" not in features["id"]
    assert "string_constraints" not in features["text"] and "string_constraints" not in features["flag"]
    assert all("num_constraints" not in features[n] for n in ("city", "id", "text", "flag"))


def test_categorical_range_rule_boundary_and_order() -> None:
    """10 keys with one singleton: ratio 0.1 <= 0.1 -> domains by count desc, NullValue excluded."""
    counts = {f"v{i}": 10 + i for i in range(8)} | {"NullValue": 50, "rare": 1}
    suggested = suggest_constraints(dataset(string_column("c", counts))).features[0]
    assert suggested.string_constraints is not None
    assert suggested.string_constraints.domains == [f"v{i}" for i in range(7, -1, -1)] + ["rare"]
    counts.pop("v0")  # 9 keys, one singleton: 0.111 > 0.1
    assert suggest_constraints(dataset(string_column("c", counts))).features[0].string_constraints is None


def test_domains_with_equal_counts_are_ordered_by_value() -> None:
    """Two engines meet the values in different orders; the constraints they suggest are the same."""
    for counts in ({"c": 7, "b": 7, "a": 6}, {"b": 7, "a": 6, "c": 7}):
        suggested = suggest_constraints(dataset(string_column("s", counts))).features[0]
        assert suggested.string_constraints is not None
        assert suggested.string_constraints.domains == ["b", "c", "a"]


# ---------------------------------------------------------------- edits
@pytest.fixture
def base() -> Constraints:
    profile = dataset(numeric_column("n", [1.0, 2.0]), string_column("s", {"a": 3, "b": 4}))
    return suggest_constraints(profile)


def test_set_feature_drift(base: Constraints) -> None:
    before = copy.deepcopy(base.to_dict())
    edited = set_feature_drift(base, "n", method="wasserstein", threshold=0.25)
    assert edited.settings_for("n").drift(ColumnKind.NUMERIC) == ("wasserstein", 0.25)
    assert base.to_dict() == before  # the input is untouched
    edited = set_feature_drift(edited, "s", method="ChiSquared")
    assert edited.settings_for("s").drift(ColumnKind.CATEGORICAL) == ("ChiSquared", 0.1)
    again = Constraints.from_dict(edited.to_dict())
    assert again.settings_for("n").drift(ColumnKind.NUMERIC) == ("wasserstein", 0.25)
    assert clear_feature_overrides(edited, "n").settings_for("n").drift(ColumnKind.NUMERIC) == ("Robust", 0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"feature": "n", "method": "hellinger"}, "linf_robust"),
        ({"feature": "s", "method": "wasserstein"}, "for categorical features"),
        ({"feature": "n", "threshold": -1.0}, "greater than or equal to 0"),
        ({"feature": "nope", "method": "psi"}, "'n', 's'"),
    ],
)
def test_set_feature_drift_errors(base: Constraints, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        set_feature_drift(base, **kwargs)
    assert message in str(info.value)


def test_set_global_drift(base: Constraints) -> None:
    edited = set_global_drift(
        base, method="Simple", threshold=0.2, categorical_method="ChiSquared", categorical_threshold=0.01
    )
    assert edited.to_dict()["monitoring_config"]["distribution_constraints"] == {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.2,
        "comparison_method": "Simple",
        "categorical_comparison_threshold": 0.01,
        "categorical_drift_method": "ChiSquared",
    }
    with pytest.raises(ConfigError, match="chi_squared"):
        set_global_drift(base, categorical_method="ks")


def test_set_check_enabled(base: Constraints) -> None:
    off = set_check_enabled(base, False)
    assert off.monitoring_config.evaluate_constraints == "Disabled"
    assert not set_check_enabled(base, False, feature="s").settings_for("s").evaluate
    no_drift = set_check_enabled(base, False, check="baseline_drift_check", feature="n")
    assert not no_drift.settings_for("n").perform_comparison and no_drift.settings_for("s").perform_comparison
    assert (
        set_check_enabled(no_drift, True, check="baseline_drift_check", feature="n")
        .settings_for("n")
        .perform_comparison
    )
    no_types = set_check_enabled(base, False, check="data_type_check")
    assert not no_types.settings_for("n").check_enabled("data_type_check")
    assert no_types.settings_for("n").check_enabled("completeness_check")
    back_for_n = set_check_enabled(no_types, True, check="data_type_check", feature="n")
    assert back_for_n.settings_for("n").check_enabled("data_type_check")
    assert not back_for_n.settings_for("s").check_enabled("data_type_check")
    with pytest.raises(ConfigError) as info:
        set_check_enabled(base, False, check="null_check")
    assert all(name in str(info.value) for name in checks.names())
