"""Engine parity: every input runs through both engines' data-quality jobs and they must agree.

Inputs: every SageMaker fixture usable as input, the bad-input file of the Spark tests (every
quarantine reason, samples, window charging), payload and envelope edge cases, windows over
hour folders with drift (baseline and analysis, violations), plain CSV / JSON Lines / Parquet
datasets and the generated model-quality data. What "agree" means is in `parity.py`.
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "spark"))

from capture_builders import capture_dict, csv_capture, side
from test_bad_input import WINDOW, build_bad_file

from demo.model_quality_data import write_late_label_files
from demo.synthetic import CaptureShape, write_capture_hour
from monitor_service.specs import DatasetConfig, InputSpec, SideConfig, Window
from tests.engines.parity import analyses, assert_same_runs, baselines

pytestmark = pytest.mark.spark

FIXTURES = {
    "capture_endpoint_csv_xgb_churn.jsonl": "capture",
    "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl": "capture",
    "capture_endpoint_json_sdk_test.jsonl": "capture",
    "capture_endpoint_jsonlines_multirecord_adult.jsonl": "capture",
    "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl": "capture",
    "batch_transform_output_with_inference_id.jsonl": "jsonl",
    # not a capture file: every line is quarantined (missing_capture_data) on both engines
    "ground_truth_merge_input_sdk_test.jsonl": "capture",
}
AT = "2024-05-01T10:00:00Z"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture(spark: Any, fixtures_dir: Path, tmp_path: Path, name: str) -> None:
    assert_same_runs(baselines(spark, InputSpec(path=str(fixtures_dir / name), format=FIXTURES[name]), tmp_path))


def test_fixture_with_dataset_config(spark: Any, fixtures_dir: Path, tmp_path: Path) -> None:
    config = DatasetConfig(input=SideConfig(names=[f"f{i}" for i in range(1, 70)]),
                           output=SideConfig(names=["churn_score"]), output_position="END")
    spec = InputSpec(path=str(fixtures_dir / "capture_endpoint_csv_xgb_churn.jsonl"), dataset_config=config)
    assert_same_runs(baselines(spark, spec, tmp_path))


def test_features_attribute_and_columnar_json(spark: Any, fixtures_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("capture_endpoint_jsonlines_multirecord_adult.jsonl",
                 "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl"):
        (tmp_path / "in" / name).write_bytes((fixtures_dir / name).read_bytes())
    config = DatasetConfig(input=SideConfig(features_attribute="features"), capture_output=False)
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "in"), dataset_config=config), tmp_path))


def test_bad_input_every_reason(spark: Any, tmp_path: Path) -> None:
    bad = build_bad_file(tmp_path / "capture.jsonl")
    spec = InputSpec(path=str(bad.path), dataset_config=DatasetConfig(quarantine_sample_size=2), window=WINDOW)
    runs = baselines(spark, spec, tmp_path)
    assert len(runs["duckdb"].summary.records_quarantined.by_reason) == 9
    assert_same_runs(runs)


def _json(data: str, content_type: str = "application/json") -> dict[str, Any]:
    return side(data, content_type, "JSON")


def _line(event_id: str, in_side: dict[str, Any] | None, out_side: dict[str, Any] | None,
          when: str | None = AT) -> str:
    return json.dumps(capture_dict(in_side, out_side, event_id, when))


def test_json_payload_shapes(spark: Any, tmp_path: Path) -> None:
    b64 = base64.b64encode(b'{"a": [1.5, 2], "b": [3, 4]}').decode()
    lines = [
        _line("keyed", _json('{"a": 1.50, "b": 1E5, "c": {"x" : 1.50, "y": [1 , 2.0e-7]}, "d": "s", "e": true,'
                             ' "f": null, "g": -0.0, "h": 12345678901234567890123}'), _json('{"p": 0.10}')),
        _line("lists", _json("[[13, 14], [15, 16]]"), _json("[0.6, 0.7]")),
        _line("instances", _json('{"instances": [[17, 18]]}'), _json('{"predictions": [0.8]}')),
        _line("jsonl", _json("[19, 20]\n[21, 22]", "application/jsonlines"),
              _json("0.9\n1.0", "application/jsonlines")),
        _line("columnar", _json('{"a": [1.5, 2], "b": [3, 4]}'), _json("[0.1, 0.2]")),
        _line("columnar-b64", side(b64, "text/html", "BASE64"), _json("[0.1, 0.2]")),
        _line("deep", _json('{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}'), _json("0.1")),
        _line("strings", _json('{"a": "x\\ny", "b": " 5", "c": "5\\n", "d": "- 5", "e": ""}'), _json("0.1")),
        _line("labels", _json('{"instances": [[1], [3]]}'), _json('{"predictions": ["cat", "dog"]}')),
        _line("texts", _json('{"instances": ["great movie", "bad movie"]}'), _json('{"predictions": [0.9, 0.1]}')),
        _line("nested-string", _json('{"a": "{\\"b\\": 1}", "t": []}'), _json("0.3")),
        _line("long-list", _json(json.dumps({"id": 1, "embedding": [0.5] * 101})), _json("0.4")),
        _line("count-mismatch", _json("[1.50, 1E5, \"x\", true]"), _json("0.10")),
        _line("bad-payload", _json('{"a": 1,'), _json("0.5")),
        _line("null-record", _json("[[1, 2], null]"), _json("[0.1, 0.2]")),
    ]
    (tmp_path / "shapes.jsonl").write_text("\n".join(lines) + "\n")
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "shapes.jsonl")), tmp_path))


def test_envelope_and_line_edge_cases(spark: Any, tmp_path: Path) -> None:
    good = '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2",' \
           '"encoding":"CSV"}},"eventMetadata":{"eventId":"%s","inferenceTime":"2024-05-01T10:00:00Z"}}'
    raw = "\r\n".join([
        good % "crlf", "", "   ", good % "trailing" + " garbage",
        good.replace('"', "'") % "quotes",
        '{"captureData":{"endpointInput":{"data":"1,NaN","encoding":"CSV"}},"eventMetadata":{"eventId":"nan",'
        '"inferenceTime":NaN}}',
        '{"captureData":{"endpointInput":"str"},"eventMetadata":{"eventId":"wrong-type"}}',
        '{"captureData":{"endpointInput":{"data":5, "encoding":"CSV"}},"eventMetadata":{"eventId":"number"}}',
        "[1,2]", '"str"',
        '{"captureData":{"endpointInput":{"data":"1,2","encoding":"csv"}},"eventMetadata":{"eventId":"lower",'
        '"customAttributes":["x"]}}',
        '{"captureData":{"endpointInput":{"data":"1,2","encoding":"CSV"}},"eventMetadata":{"eventId":"attrs",'
        '"customAttributes":"x"}}',
        '{"captureData":{},"eventMetadata":{"eventId":"empty-capture"}}',
        '{"captureData":{"endpointInput":{}},"eventMetadata":{"eventId":"empty-side"}}',
        '{"_corrupt_record":"x","captureData":{"endpointInput":{"data":"1,2","encoding":"CSV"}}}',
    ]) + "\r" + good % "cr"
    (tmp_path / "lines.jsonl").write_bytes(raw.encode() + b"\n" + good.encode().replace(b"1,2", b"1,\xff") % b"x")
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "lines.jsonl")), tmp_path))


def test_csv_payload_edge_cases(spark: Any, tmp_path: Path) -> None:
    lines = [
        _line("multi", side("1,2\n3,4"), side("0.1\n0.2")),
        _line("crlf", side("5,6\r\n7,8\r\n"), side("0.3\r\n0.4\r\n")),
        _line("blank-lines", side("1,2\n\n3,4\n"), side("1\n2")),
        _line("quoted", side('"9,5",10'), side("0.5")),
        _line("escaped", side('"say ""hi""",11'), side("0.55")),
        _line("raw-quote", side('"a"b,c'), side("1")),
        _line("empty-value", side("12,"), side("0.56")),
        _line("trailing-empty", side("a,,b,"), side("1")),
        _line("empty-input", side(""), side("1")),
        _line("empty-output", side("x,y"), side("")),
        _line("b64csv", side(base64.b64encode(b"23,24").decode(), "text/csv", "BASE64"), side("1.1")),
        _line("sniffed", side("25,26"), side(base64.b64encode(b"[1.2]").decode(), "text/html", "BASE64")),
        _line("no-type", {"data": "27,28", "encoding": "CSV"}, side("1.3")),
        _line("input-only", side("29,30"), None),
        _line("spaces", side(" 31, -4 ,+ 5,1e3,true"), side("1.4")),
    ]
    (tmp_path / "csv.jsonl").write_text("\n".join(lines) + "\n")
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "csv.jsonl")), tmp_path))


def test_inference_time_forms_in_a_window(spark: Any, tmp_path: Path) -> None:
    times = ["2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-05-01T10:00", "2024-05-01T10", "2024-05-01",
             "2024-05-01T10:00:00.123456789Z", "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00+02",
             "2024-05-01T10:00:00 UTC", "2024-05-01T10:00:00GMT", "2024-5-1T10:0:0Z", " 2024-05-01T10:00:00Z ",
             "2024-05-01T10:00:00z", "2024-05-01T10:00:00.Z", "20240501T100000Z", "2024-05-01T06:00:00America/New_York",
             "2024-05-01T12:00:00 +02:00", "2024-05-01T10:00:00-00:00", "2024-05-01T25:00:00Z",
             "2024-02-30T10:00:00Z", "+2024-05-01T10:00:00Z", "{%s}", "yesterday at noon",
             "2024-05-01T10:59:59.999999Z", "2024-05-01T11:00:00Z", "2024-05-01T09:59:59.999Z"]
    lines = [csv_capture(["1", str(i)], "0", f"t{i}", t) for i, t in enumerate(times)]
    lines.append(json.dumps(capture_dict(side("1,2"), side("0"), "no-time", None)))
    (tmp_path / "times.jsonl").write_text("\n".join(lines) + "\n")
    window = Window(start=datetime(2024, 5, 1, 10, tzinfo=UTC), end=datetime(2024, 5, 1, 11, tzinfo=UTC))
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "times.jsonl"), window=window), tmp_path))


@pytest.fixture(scope="module")
def hours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hours 07..13 of synthetic capture; hours 11 and later drift (numeric shift, categorical skew)."""
    root = tmp_path_factory.mktemp("hours")
    first = datetime(2024, 5, 1, 7, tzinfo=UTC)
    for h in range(7):
        write_capture_hour(root / "capture", first + timedelta(hours=h), 400, CaptureShape(numeric_features=6),
                           seed=40 + h, drift=0.6 if h >= 4 else 0.0)
    return root


def test_windows_over_hour_folders_with_drift(spark: Any, hours: Path, tmp_path: Path) -> None:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    baseline_spec = InputSpec(path=str(hours / "capture"), window=Window(start=day + timedelta(hours=7),
                                                                          end=day + timedelta(hours=10)))
    base = baselines(spark, baseline_spec, tmp_path)
    assert_same_runs(base)
    statistics, constraints = base["spark"].out / "statistics.json", base["spark"].out / "constraints.json"
    for name, start in (("clean", 10), ("drifted", 12)):
        spec = InputSpec(path=str(hours / "capture"), window=Window(start=day + timedelta(hours=start),
                                                                     end=day + timedelta(hours=start + 1)))
        runs = analyses(spark, spec, statistics, constraints, tmp_path / name)
        assert_same_runs(runs)
        if name == "drifted":
            assert runs["duckdb"].summary.status == "CompletedWithViolations"


def test_broken_lines_charged_to_their_hour_and_field_counts_of_the_window(spark: Any, tmp_path: Path) -> None:
    """As test_bad_input: a time-less broken line belongs to its hour folder's window; the
    expected field count is the window's own (an older shape outside it does not count)."""
    noon = datetime(2024, 5, 1, 12, tzinfo=UTC)
    for hour, lines in ((noon, [csv_capture(["1", "2.0", "a"], "0.5", f"n{i}", (noon + timedelta(minutes=i))
                                            .strftime("%Y-%m-%dT%H:%M:%SZ")) for i in range(30)]),
                        (noon + timedelta(hours=1), ['{"captureData": broken'] + [
                            csv_capture(["1", "2.0", "a", "9"], "0.5", f"m{i}", (noon + timedelta(hours=1, minutes=i))
                                        .strftime("%Y-%m-%dT%H:%M:%SZ")) for i in range(10)])):
        folder = tmp_path / "capture" / "ep" / "AllTraffic" / hour.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True)
        (folder / "part.jsonl").write_text("\n".join(lines) + "\n")
    for start in (noon, noon + timedelta(hours=1)):
        spec = InputSpec(path=str(tmp_path / "capture"), window=Window(start=start, end=start + timedelta(hours=1)))
        assert_same_runs(baselines(spark, spec, tmp_path / start.strftime("%H")))


def test_plain_datasets(spark: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "train.csv").write_text('\ufeff"age","city",score\n31,"Paris, FR",0.5\n40,Oslo,\n\n  \n'
                                        '"age","city",score\n52,"Say ""hi""",1e3\n', encoding="utf-8")
    (tmp_path / "plain.csv").write_text("1,a,0.5\n2,b,\n3,,1.5\n4,a,2\n", encoding="utf-8")
    (tmp_path / "rows.jsonl").write_text("\n".join([json.dumps({"id": i, "tags": [i, i + 1], "m": {"x": i / 4},
                                                                "s": "ab"[i % 2]}) for i in range(9)]
                                                   + ["", "{broken", '{"id": 99, "extra": null}']) + "\n")
    pq.write_table(pa.table({"a": [1, 2, None], "b": [0.1, None, 2.5e-7], "c": ["x", "y", "x"],
                             "d": [True, False, True], "s": [{"u": 1, "v": "p"}, {"u": 2, "v": "q"}, None],
                             "l": [[1, 2], [], None]}), tmp_path / "data.parquet")
    for name, fmt, header in (("train.csv", "csv", True), ("plain.csv", "csv", False), ("rows.jsonl", "jsonl", False),
                              ("data.parquet", "parquet", False)):
        spec = InputSpec(path=str(tmp_path / name), format=fmt, dataset_config=DatasetConfig(header=header))
        assert_same_runs(baselines(spark, spec, tmp_path / name.replace(".", "-")))


def test_model_quality_data(spark: Any, tmp_path: Path) -> None:
    write_late_label_files(tmp_path, baseline_records=300, window_records=120, predicted_label=True, seed=3)
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "baseline.csv"), format="csv",
                                                dataset_config=DatasetConfig(header=True)), tmp_path / "csv"))
    window = Window(start=datetime(2024, 5, 1, 10, tzinfo=UTC), end=datetime(2024, 5, 1, 11, tzinfo=UTC))
    assert_same_runs(baselines(spark, InputSpec(path=str(tmp_path / "capture"), window=window), tmp_path / "cap"))


def test_over_long_lines_repeated_keys_and_too_many_columns(spark: Any, tmp_path: Path) -> None:
    """The hardened reader's reasons (line_too_long, duplicate_key) and max_columns on both engines."""
    config = DatasetConfig(max_line_bytes=2048, max_columns=6, quarantine_sample_size=5)
    good = [csv_capture([str(i), f"{i / 3:.3f}", "x"], "0.5", f"good-{i}", AT) for i in range(8)]
    lines = [
        *good[:4],
        csv_capture(["1" * 3000, "x", "y"], "0.5", "too-long", AT),
        _line("repeated", _json('{"a": 1, "a": 2}'), _json("0.1")),
        _line("collides", _json('{"a.b": 1, "a": {"b": 2}}'), _json("0.2")),
        _line("wide", _json(json.dumps({f"k{i}": i for i in range(10)})), _json("0.3")),
        csv_capture([str(i) for i in range(9)], "0.6", "wide-csv", AT),
        *good[4:],
    ]
    (tmp_path / "capture.jsonl").write_text("\n".join(lines) + "\n")
    runs = baselines(spark, InputSpec(path=str(tmp_path / "capture.jsonl"), dataset_config=config), tmp_path / "c")
    assert runs["duckdb"].summary.records_quarantined.by_reason.keys() >= {"line_too_long", "duplicate_key"}
    assert runs["duckdb"].summary.columns_dropped.fields > 0
    assert_same_runs(runs)
    (tmp_path / "rows.jsonl").write_text("\n".join(['{"a": 1, "a": 2}', '{"a": ' + '"z' * 1500 + '"}',
                                                    json.dumps({f"k{i}": i for i in range(9)}), '{"b": 3}']) + "\n")
    (tmp_path / "rows.csv").write_text("1,2\n" + "3," + "4" * 3000 + "\n5,6,7,8,9,10,11,12\n")
    for name, fmt in (("rows.jsonl", "jsonl"), ("rows.csv", "csv")):
        spec = InputSpec(path=str(tmp_path / name), format=fmt, dataset_config=config)
        assert_same_runs(baselines(spark, spec, tmp_path / fmt))
