"""Issue 7 in the Spark reader: over-long lines (item 2), colliding and repeated keys (item 6) and
payloads with too many keys (item 9). Expected values come from how the files were built."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from capture_builders import capture_dict, csv_capture, iso, read_jsonl, side

from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.spark.reader import read_input
from monitor_service.specs import DatasetConfig, InputSpec
from tests.spark.capture_builders import WINDOW_DAY

pytestmark = pytest.mark.spark


def _json_capture(payload: Any, event_id: str) -> str:
    return json.dumps(capture_dict(side(json.dumps(payload) if not isinstance(payload, str) else payload,
                                        "application/json", "JSON"),
                                   side("0.5"), event_id, iso(WINDOW_DAY)))


def _write(path: Path, lines: list[str | bytes]) -> str:
    path.write_bytes(b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines))
    return str(path)


def _statistics(out: Path) -> dict[str, Any]:
    document = json.loads((out / "statistics.json").read_text())
    return {f["name"]: f for f in document["features"]}


# ----------------------------------------------------------------------------- item 2: over-long lines


def test_an_over_long_line_is_quarantined_and_the_rest_profiled(spark: Any, tmp_path: Path) -> None:
    good = [csv_capture([str(i), "x"], "0.5", f"good-{i}", iso(WINDOW_DAY)) for i in range(10)]
    long_line = csv_capture(["1" * 5000, "x"], "0.5", "too-long", iso(WINDOW_DAY))
    path = _write(tmp_path / "capture.jsonl", [*good[:5], long_line, *good[5:]])
    out = tmp_path / "out"
    config = DatasetConfig(max_line_bytes=4096, quarantine_sample_size=5)
    summary = run_baseline(spark, BaselineRequest(input=InputSpec(path=path, dataset_config=config),
                                                  output_dir=str(out)))
    assert summary.status == "Completed", summary.failure_reason
    assert (summary.records_read, summary.records_analyzed) == (11, 10)
    assert summary.records_quarantined.by_reason == {"line_too_long": 1}
    [sample] = read_jsonl(out / "quarantine" / "samples.jsonl")
    assert sample["reason"] == "line_too_long" and long_line.startswith(sample["line"])
    assert _statistics(out)["_c1"]["numerical_statistics"]["sum"] == float(sum(range(10)))


@pytest.mark.parametrize(("fmt", "good", "long_line"), [
    ("jsonl", ['{"a": 1}', '{"a": 2}', '{"a": 3}'], '{"a": "' + "y" * 3000 + '"}'),
    ("csv", ["1,2", "3,4", "5,6"], "7," + "8" * 3000),
])
def test_over_long_lines_of_plain_datasets_are_quarantined(spark: Any, tmp_path: Path, fmt: str, good: list[str],
                                                           long_line: str) -> None:
    path = _write(tmp_path / f"data.{fmt}", [good[0], long_line, *good[1:]])
    spec = InputSpec(path=path, format=fmt, dataset_config=DatasetConfig(max_line_bytes=2048))  # type: ignore[arg-type]
    read = read_input(spark, spec, str(tmp_path / "q"))
    try:
        assert (read.records_read, read.records_valid, read.quarantined) == (4, 3, {"line_too_long": 1})
    finally:
        read.release()


def test_a_50_mb_line_does_not_fail_the_job(spark: Any, tmp_path: Path) -> None:
    """The issue's case with the default limit (16 MiB) on the suite's 2g driver: quarantined, the
    good lines profiled (before the fix: java.lang.OutOfMemoryError and no result at all)."""
    huge = json.dumps(capture_dict(side("1," + "9" * (50 * 1024 * 1024)), side("0.5"), "huge", iso(WINDOW_DAY)))
    good = [csv_capture([str(i), "2"], "0.5", f"g{i}", iso(WINDOW_DAY)) for i in range(20)]
    path = _write(tmp_path / "capture.jsonl", [*good[:10], huge, *good[10:]])
    out = tmp_path / "out"
    summary = run_baseline(spark, BaselineRequest(input=InputSpec(path=path), output_dir=str(out)))
    assert summary.status == "Completed", summary.failure_reason
    assert summary.records_quarantined.by_reason == {"line_too_long": 1} and summary.records_analyzed == 20
    [sample] = read_jsonl(out / "quarantine" / "samples.jsonl")
    assert len(sample["line"]) == 65_536 and huge.startswith(sample["line"])


# ----------------------------------------------------------------------------- item 6: one name, one value


def test_colliding_and_repeated_keys_are_quarantined_and_counted_once(spark: Any, tmp_path: Path) -> None:
    good = [_json_capture({"a": {"b": i}, "c": i}, f"good-{i}") for i in range(1, 9)]
    collide = _json_capture('{"a.b": 100, "a": {"b": 200}, "c": 1}', "collide")
    repeated = _json_capture('{"a": {"b": 300}, "c": 1, "c": 999}', "repeated")
    nested = _json_capture('{"a": {"b": 400, "b": 500}, "c": 1}', "nested")
    path = _write(tmp_path / "capture.jsonl", [*good, collide, repeated, nested])
    out = tmp_path / "out"
    summary = run_baseline(spark, BaselineRequest(input=InputSpec(path=path), output_dir=str(out)))
    assert summary.status == "Completed", summary.failure_reason
    assert summary.records_quarantined.by_reason == {"duplicate_key": 3}
    features = _statistics(out)
    a_b = features["a.b"]["numerical_statistics"]
    assert a_b["common"] == {"num_present": 8.0, "num_missing": 0.0}
    assert a_b["mean"] == pytest.approx(statistics.mean(range(1, 9)))
    assert features["c"]["numerical_statistics"]["max"] == 8.0
    details = {s["event_id"]: s["detail"] for s in read_jsonl(out / "quarantine" / "samples.jsonl")}
    assert details == {"collide": "the names ['a.b'] occur more than once in one record",
                       "repeated": "the names ['c'] occur more than once in one record",
                       "nested": "the names ['a.b'] occur more than once in one record"}


# ----------------------------------------------------------------------------- item 9: columns per payload


def test_keys_beyond_max_columns_are_dropped_and_counted(spark: Any, tmp_path: Path) -> None:
    lines = [_json_capture({f"k{j}": j for j in range(6)}, f"e{i}") for i in range(4)]
    lines.append(_json_capture({"k0": 1, "k1": 2}, "small"))
    path = _write(tmp_path / "capture.jsonl", lines)
    out = tmp_path / "out"
    config = DatasetConfig(max_columns=4)  # the output column _c0 comes first, then k0, k1, k2
    summary = run_baseline(spark, BaselineRequest(input=InputSpec(path=path, dataset_config=config),
                                                  output_dir=str(out)))
    assert summary.status == "Completed", summary.failure_reason
    assert sorted(_statistics(out)) == ["_c0", "k0", "k1", "k2"]
    assert summary.columns_dropped.model_dump() == {"records": 4, "fields": 4 * 3}
    written = json.loads((out / "summary.json").read_text())
    assert written["columns_dropped"] == {"records": 4, "fields": 12}
