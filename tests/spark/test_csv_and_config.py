"""Plain CSV headers, delimiters in capture, config validation and the categorical cut-off in files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from capture_builders import csv_capture

from monitor_service.errors import ConfigError
from monitor_service.spark.profiler import profile_records
from monitor_service.spark.reader import read_input
from monitor_service.specs import DatasetConfig, InputSpec

pytestmark = pytest.mark.spark


def _fields(spark: Any, spec: InputSpec) -> list[list[tuple[str, str | None]]]:
    read = read_input(spark, spec, None)
    try:
        rows = read.df.orderBy("source_file", "record_index").collect()
        return [[(f["name"], f["value"]) for f in r["fields"]] for r in rows]
    finally:
        read.release()


def test_quoted_header_with_bom_is_not_a_data_row(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text('\ufeff"age","city"\n31,"Paris, FR"\n40,Oslo\n', encoding="utf-8")
    spec = InputSpec(path=str(path), format="csv", dataset_config=DatasetConfig(header=True))
    assert _fields(spark, spec) == [[("age", "31"), ("city", "Paris, FR")], [("age", "40"), ("city", "Oslo")]]


def test_capture_csv_payload_uses_the_configured_delimiter(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    lines = [csv_capture(["1;2;x"], "0.5", f"e{i}", "2024-05-01T10:00:00Z") for i in range(2)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = InputSpec(path=str(path), dataset_config=DatasetConfig(csv_delimiter=";"))
    assert _fields(spark, spec)[0] == [("_c0", "0.5"), ("_c1", "1"), ("_c2", "2"), ("_c3", "x")]


@pytest.mark.parametrize("bad", [{"input": {"records_attribute": "a'b"}}, {"input": {"features_attribute": "x}"}},
                                 {"csv_delimiter": "'"}, {"csv_delimiter": "\n"}])
def test_config_values_that_would_reach_spark_sql_unescaped_are_refused(tmp_path: Path, bad: dict[str, Any]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ConfigError):
        DatasetConfig.load(path)


def test_window_histogram_above_120_values_stays_out_of_statistics_json(spark: Any, tmp_path: Path) -> None:
    from monitor_service.core.statistics import to_statistics_json

    path = tmp_path / "data.csv"
    path.write_text("".join(f"v{i % 300}\n" for i in range(900)), encoding="utf-8")
    read = read_input(spark, InputSpec(path=str(path), format="csv"), None)
    try:
        profile = profile_records(read.df, read.records_valid, categorical={"_c0"})
    finally:
        read.release()
    (column,) = profile.columns
    assert column.histogram is not None and len(column.histogram) == 300  # kept for categorical drift
    (feature,) = to_statistics_json(profile)["features"]
    assert "distribution" not in feature["string_statistics"]


def test_long_lists_inside_records_stay_one_value(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    short, long = list(range(3)), [0.5] * 101
    path.write_text(json.dumps({"id": 1, "tags": short, "embedding": long}) + "\n", encoding="utf-8")
    (fields,) = _fields(spark, InputSpec(path=str(path), format="jsonl"))
    assert fields == [("id", "1"), ("tags.0", "0"), ("tags.1", "1"), ("tags.2", "2"),
                      ("embedding", json.dumps(long, separators=(",", ":")))]
