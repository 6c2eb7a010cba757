"""statistics.json: SageMaker files read exactly, ours round-trip and validate, bad shapes fail clearly."""

from __future__ import annotations

import base64
import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from reference_profile import Table, profile, profile_column, tables

from monitor_service import io, schemas
from monitor_service.core import hll
from monitor_service.core.kll import KllSketch
from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
from monitor_service.core.statistics import (
    from_statistics_json,
    read_statistics,
    to_statistics_json,
    write_statistics,
)
from monitor_service.core.types import InferredType
from monitor_service.errors import FormatError

NUMERIC_FIXTURE = "data_quality_statistics_numeric_6features.json"
STRING_FIXTURE = "data_quality_statistics_string_feature_sdk_test.json"

# (name, mean, sum, std_dev, min, max) exactly as written in NUMERIC_FIXTURE.
NUMERIC_FEATURES = [
    ("_c0", 2.31, 231.0, 0.8330066026148891, 1.0, 3.0),
    ("_c1", 0.38, 38.0, 0.48538644398046393, 0.0, 1.0),
    ("_c2", 3.21, 321.0, 1.9763349918472826, 0.0, 6.0),
    ("_c3", 0.52, 52.0, 1.1178550889985697, 0.0, 8.0),
    ("_c4", 0.47, 47.0, 1.0719608201795439, 0.0, 6.0),
    ("_c5", 1.52, 152.0, 1.252836781069266, 0.0, 5.0),
]


def _raw(fixtures_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir / name).read_text(encoding="utf-8"))


def _through_text(document: dict[str, Any]) -> dict[str, Any]:
    """What a reader sees after the document was written with io.dumps (NaN -> "NaN" etc.)."""
    return json.loads(io.dumps(document))


# ----------------------------------------------------------------------------- SageMaker fixtures


@pytest.mark.parametrize(("name", "mean", "total", "std_dev", "minimum", "maximum"), NUMERIC_FEATURES)
def test_numeric_fixture_reads_exact_numbers(fixtures_dir: Path, name: str, mean: float, total: float,
                                             std_dev: float, minimum: float, maximum: float) -> None:
    statistics = read_statistics(str(fixtures_dir / NUMERIC_FIXTURE))
    assert statistics.profile.item_count == 100.0
    assert statistics.drift_metrics == {}
    column = statistics.profile.by_name()[name]
    assert column.inferred_type is InferredType.FRACTIONAL
    assert (column.num_present, column.num_missing) == (100.0, 0.0)
    assert (column.type_counts, column.hll, column.histogram, column.distinct_count) == ({}, None, None, None)
    assert column.numeric is not None and column.numeric.kll is not None
    numeric = column.numeric
    assert (numeric.count, numeric.mean, numeric.sum, numeric.std_dev, numeric.min, numeric.max) == (
        100.0, mean, total, std_dev, minimum, maximum)
    assert (numeric.kll.k, numeric.kll.c) == (2048, 0.64)
    assert [len(level) for level in numeric.kll.levels] == [100]
    assert numeric.kll.n == column.num_present


def test_numeric_fixture_keeps_sketch_order_and_column_positions(fixtures_dir: Path) -> None:
    columns = read_statistics(str(fixtures_dir / NUMERIC_FIXTURE)).profile.columns
    assert columns[0].numeric is not None and columns[0].numeric.kll is not None
    assert columns[0].numeric.kll.levels[0][:6] == [3.0, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert [c.position for c in columns] == [0, 1, 2, 3, 4, 5]


def test_buckets_recomputed_from_each_fixture_sketch_equal_the_files(fixtures_dir: Path) -> None:
    """SageMaker's buckets are exactly Deequ's equal-width rank differences over `sketch.data`."""
    for feature in _raw(fixtures_dir, NUMERIC_FIXTURE)["features"]:
        stats = feature["numerical_statistics"]
        kll = stats["distribution"]["kll"]
        sketch = KllSketch(levels=kll["sketch"]["data"])
        assert sketch.n == stats["common"]["num_present"], feature["name"]
        assert sketch.buckets(stats["min"], stats["max"]) == kll["buckets"], feature["name"]
        assert sum(b["count"] for b in kll["buckets"]) == stats["common"]["num_present"]


def test_string_fixture_reads_exact_numbers(fixtures_dir: Path) -> None:
    statistics = read_statistics(str(fixtures_dir / STRING_FIXTURE))
    assert statistics.profile.item_count == 418.0
    [column] = statistics.profile.columns
    assert (column.name, column.inferred_type, column.num_present, column.num_missing) == (
        "message", InferredType.STRING, 418.0, 0.0)
    assert column.distinct_count == 1.0
    assert column.histogram == {"preproc-not-YET-supported-for-csv-json": 418.0}
    assert column.numeric is None


@pytest.mark.parametrize("fixture", [NUMERIC_FIXTURE, STRING_FIXTURE])
def test_rendering_a_read_sagemaker_file_reproduces_it(fixtures_dir: Path, fixture: str) -> None:
    """Besides our extension block, we write what the SageMaker container wrote, value for value."""
    raw = _raw(fixtures_dir, fixture)
    rendered = to_statistics_json(from_statistics_json(raw).profile)
    rendered.pop("monitor_service")
    assert rendered == raw
    assert all(isinstance(f[k]["common"]["num_present"], float)
               for f in rendered["features"] for k in f if k.endswith("_statistics"))


# ----------------------------------------------------------------------------- our files


def _rich_profile() -> DatasetProfile:
    """Every kind of column state the extension block carries, NaN and an empty sketch included."""
    numbers = profile_column("score", [repr(i / 7) for i in range(5000)] + [None] * 3, position=0)
    small_ints = profile_column("rooms", ["1", "2", "2", "3", None], position=1)
    words = profile_column("city", ["Oslo", "Lima", "Oslo", "Pune"], position=2)
    many = profile_column("id", [f"id{i}" for i in range(300)], position=3)
    flags = profile_column("flag", ["true", "false", "true"], position=4)
    nulls = profile_column("empty", [None, None], position=5)
    nan_column = ColumnProfile(
        name="ratio", inferred_type=InferredType.FRACTIONAL, num_present=0.0, num_missing=4.0,
        source="output", position=6, domain_matches=0.0,
        numeric=NumericState(count=0.0, sum=0.0, mean=math.nan, std_dev=math.nan,
                             min=math.inf, max=-math.inf, kll=KllSketch(levels=[[]])),
    )
    columns = [numbers, small_ints, words, many, flags, nulls, nan_column]
    return DatasetProfile(item_count=5003.0, columns=columns)


def _assert_same_profile(actual: DatasetProfile, expected: DatasetProfile) -> None:
    """Dataclass equality, except that NaN moments must be NaN on both sides."""
    assert actual.item_count == expected.item_count
    assert len(actual.columns) == len(expected.columns)
    for got, want in zip(actual.columns, expected.columns, strict=True):
        if want.numeric is not None and math.isnan(want.numeric.mean):
            assert got.numeric is not None
            assert math.isnan(got.numeric.mean) and math.isnan(got.numeric.std_dev)
            got, want = copy.copy(got), copy.copy(want)
            got.numeric = want.numeric = None
        assert got == want


def test_round_trip_through_a_file_keeps_every_piece_of_state(tmp_path: Path) -> None:
    original = _rich_profile()
    drift = {"score": {"linf_robust": 0.125, "psi": None}, "city": {"chi_squared": math.nan}}
    path = str(tmp_path / "out" / "statistics.json")
    write_statistics(path, original, drift)
    text = Path(path).read_text(encoding="utf-8")
    assert '"mean": "NaN"' in text and '"min": "Infinity"' in text
    schemas.validate("statistics", json.loads(text))
    statistics = read_statistics(path)
    _assert_same_profile(statistics.profile, original)
    assert statistics.drift_metrics["score"] == {"linf_robust": 0.125, "psi": None}
    chi_squared = statistics.drift_metrics["city"]["chi_squared"]
    assert chi_squared is not None and math.isnan(chi_squared)
    assert set(statistics.drift_metrics) == {"score", "city"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_rows=2500))
def test_round_trip_of_any_profile(table: Table) -> None:
    original = profile(table)
    document = _through_text(to_statistics_json(original))
    schemas.validate("statistics", document)
    assert from_statistics_json(document).profile == original


def _type_counts(**counts: float) -> dict[str, float]:
    return {"Unknown": 0.0, "Fractional": 0.0, "Integral": 0.0, "Boolean": 0.0, "String": 0.0, **counts}


def test_extension_block_layout() -> None:
    rooms = profile_column("rooms", ["1", "2", "2", None], position=0)
    city = profile_column("city", ["Oslo", "Lima", "Oslo"], position=1)
    city.source, city.domain_matches = "output", 2.0
    document = to_statistics_json(DatasetProfile(item_count=4.0, columns=[rooms, city]))
    assert rooms.hll is not None and city.hll is not None
    assert document["monitor_service"] == {
        "format_version": 1,
        "features": {
            "rooms": {
                "source": "input", "position": 0,
                "type_counts": _type_counts(Unknown=1.0, Integral=3.0),
                "hll": base64.b64encode(rooms.hll).decode(),
                "distinct_count": 2.0,
                "histogram": {"2": 2.0, "1": 1.0},
            },
            "city": {
                "source": "output", "position": 1,
                "type_counts": _type_counts(String=3.0),
                "hll": base64.b64encode(city.hll).decode(),
                "domain_matches": 2.0,
            },
        },
    }
    city_stats = document["features"][1]["string_statistics"]
    assert city_stats == {
        "common": {"num_present": 3.0, "num_missing": 0.0},
        "distinct_count": 2.0,
        "distribution": {"categorical": {"buckets": [{"value": "Oslo", "count": 2.0},
                                                     {"value": "Lima", "count": 1.0}]}},
    }


def test_numeric_feature_layout_matches_sagemaker() -> None:
    document = to_statistics_json(profile({"x": ["1.0", "2.0", "4.0", None]}))
    assert document["version"] == 0.0 and document["dataset"] == {"item_count": 4.0}
    feature = document["features"][0]
    assert list(feature) == ["name", "inferred_type", "numerical_statistics"]
    stats = feature["numerical_statistics"]
    assert list(stats) == ["common", "mean", "sum", "std_dev", "min", "max", "distribution"]
    assert stats["common"] == {"num_present": 3.0, "num_missing": 1.0}
    kll = stats["distribution"]["kll"]
    assert kll["sketch"] == {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[1.0, 2.0, 4.0]]}
    assert len(kll["buckets"]) == 10
    assert kll["buckets"][0] == {"lower_bound": 1.0, "upper_bound": 1.3, "count": 1.0}
    assert kll["buckets"][-1] == {"lower_bound": 3.7, "upper_bound": 4.0, "count": 1.0}


def test_categorical_buckets_sorted_by_count_then_value() -> None:
    column = profile_column("c", ["b", "a", "c", "c", "b", "d"])
    buckets = to_statistics_json(DatasetProfile(6.0, [column]))["features"][0]["string_statistics"]
    assert [(b["value"], b["count"]) for b in buckets["distribution"]["categorical"]["buckets"]] == [
        ("b", 2.0), ("c", 2.0), ("a", 1.0), ("d", 1.0)]


def test_high_cardinality_string_has_no_distribution() -> None:
    column = profile_column("id", [str(i) + "x" for i in range(200)])
    stats = to_statistics_json(DatasetProfile(200.0, [column]))["features"][0]["string_statistics"]
    assert "distribution" not in stats
    assert column.hll is not None and stats["distinct_count"] == hll.estimate(column.hll)


def test_writing_rejects_duplicate_names_and_unknown_drift_features() -> None:
    column = profile_column("a", ["1"])
    with pytest.raises(ValueError, match="duplicate column names \\['a'\\]"):
        to_statistics_json(DatasetProfile(1.0, [column, column]))
    with pytest.raises(ValueError, match="features \\['b'\\]"):
        to_statistics_json(DatasetProfile(1.0, [column]), {"b": {"psi": 0.1}})


# ----------------------------------------------------------------------------- tolerant reading


def test_reading_tolerates_ints_unknown_keys_and_missing_optional_parts() -> None:
    document = {
        "future_key": {"anything": True},
        "features": [
            {"name": "n", "inferred_type": "Integral", "extra": 1,
             "numerical_statistics": {"common": {"num_present": 3, "num_missing": 1}, "mean": 2, "max": 3}},
            {"name": "s", "inferred_type": "String", "string_statistics": {"common": {"num_present": 4,
                                                                                     "num_missing": 0}}},
            {"name": "u", "inferred_type": "Integral", "numerical_statistics": {"common": {"num_present": 0,
                                                                                          "num_missing": 4}}},
        ],
    }
    statistics = from_statistics_json(document)
    n, s, u = statistics.profile.columns
    assert statistics.profile.item_count == 4.0  # derived from the features when `dataset` is absent
    assert n.numeric is not None and (n.numeric.count, n.numeric.mean, n.numeric.max) == (3.0, 2.0, 3.0)
    assert math.isnan(n.numeric.std_dev) and n.numeric.kll is None
    assert (s.distinct_count, s.histogram, s.position) == (None, None, 1)
    assert u.numeric is None


def _numeric_document() -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {"item_count": 2.0},
        "features": [{
            "name": "_c0", "inferred_type": "Fractional",
            "numerical_statistics": {
                "common": {"num_present": 2.0, "num_missing": 0.0},
                "mean": 1.5, "sum": 3.0, "std_dev": 0.5, "min": 1.0, "max": 2.0,
                "distribution": {"kll": {"buckets": [], "sketch": {"parameters": {"c": 0.64, "k": 2048.0},
                                                                   "data": [[1.0, 2.0]]}}},
            },
        }],
        "monitor_service": {"format_version": 1, "features": {"_c0": {"source": "input", "position": 0}}},
    }


def _broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    document = _numeric_document()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


STATS = ("features", 0, "numerical_statistics")
EXT = ("monitor_service", "features", "_c0")


@pytest.mark.parametrize(("path", "value", "message"), [
    ((*STATS, "mean"), "abc",
     "feature '_c0' field 'numerical_statistics.mean' must be a number, got str 'abc'"),
    ((*STATS, "common", "num_present"), None,
     "feature '_c0' field 'numerical_statistics.common.num_present' is missing"),
    ((*STATS, "common"), [1], "field 'numerical_statistics.common' must be a JSON object, got list"),
    ((*STATS, "distribution", "kll", "sketch", "data"), [[1.0, "x"]],
     "feature '_c0' field 'numerical_statistics.distribution.kll.sketch.data.0' element 1 must be a number"),
    ((*STATS, "distribution", "kll", "sketch", "data"), [[1.0, True]],
     "data.0' element 1 must be a number, got bool"),
    (("features", 0, "inferred_type"), "Decimal",
     "'inferred_type' is 'Decimal'; expected one of 'Integral', 'Fractional', 'Boolean', 'String' or 'Unknown'"),
    (("features", 0, "inferred_type"), "String", "feature '_c0' field 'string_statistics' is missing"),
    (("features", 0, "name"), 7, "feature #0 field 'name' must be a string"),
    (("features",), {"_c0": {}}, "field 'features' must be a JSON array"),
    (("dataset", "item_count"), "many", "field 'dataset.item_count' must be a number"),
    ((*EXT, "hll"), "not base64!", "monitor_service feature '_c0' field 'hll' is not valid base64"),
    ((*EXT, "hll"), "AAAA", "monitor_service feature '_c0' field 'hll' does not hold an HLL sketch"),
    ((*EXT, "position"), 1.5,
     "monitor_service feature '_c0' field 'position' must be a non-negative integer"),
    ((*EXT, "type_counts"), {"Integral": "2"}, "field 'type_counts.Integral' must be a number"),
    (("monitor_service", "format_version"), 2, "format_version' is 2; this release reads up to 1"),
    (("features", 0, "drift_metrics"), {"psi": "high"},
     "feature '_c0' field 'drift_metrics.psi' must be a number"),
])
def test_shape_errors_name_the_feature_and_field(path: tuple[str | int, ...], value: Any,
                                                 message: str) -> None:
    with pytest.raises(FormatError) as caught:
        from_statistics_json(_broken(path, value), source="s3://bucket/statistics.json")
    assert str(caught.value).startswith("s3://bucket/statistics.json: ")
    assert message in str(caught.value)


def test_document_level_errors() -> None:
    with pytest.raises(FormatError, match=r"statistics\.json: document must be a JSON object, got list"):
        from_statistics_json([])
    with pytest.raises(FormatError, match="field 'features' is missing"):
        from_statistics_json({"version": 0.0})
    document = _numeric_document()
    document["features"].append(copy.deepcopy(document["features"][0]))
    with pytest.raises(FormatError, match="feature '_c0' appears twice"):
        from_statistics_json(document)
    buckets = [{"value": "a", "count": 1}, {"value": "a", "count": 1}]
    stats = {"common": {"num_present": 2, "num_missing": 0},
             "distribution": {"categorical": {"buckets": buckets}}}
    strings = {"features": [{"name": "s", "inferred_type": "String", "string_statistics": stats}]}
    with pytest.raises(FormatError, match=r"buckets\.1\.value' repeats the categorical value 'a'"):
        from_statistics_json(strings)


def test_read_statistics_reports_invalid_json_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "statistics.json"
    path.write_text('{"features": [', encoding="utf-8")
    with pytest.raises(FormatError, match=f"statistics file {path} is not valid JSON"):
        read_statistics(str(path))
