"""Reading real SageMaker capture fixtures: exact records, names, values, windows and hour pruning.

Expected records are rebuilt from the fixture files with `json` / `base64` only.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from capture_builders import capture_dict, csv_capture, fields_of, side

from demo.synthetic import CaptureShape, write_capture_hour
from monitor_service.errors import EmptyInputError
from monitor_service.spark.reader import read_input
from monitor_service.spark.records import ReadResult
from monitor_service.spark.sources import resolve_input
from monitor_service.specs import DatasetConfig, InputSpec, SideConfig, Window

pytestmark = pytest.mark.spark

Record = tuple[str, int, list[tuple[str, str | None]]]

CHURN = "capture_endpoint_csv_xgb_churn.jsonl"
JSON_SDK = "capture_endpoint_json_sdk_test.jsonl"
ADULT = "capture_endpoint_jsonlines_multirecord_adult.jsonl"
ISSUE2629 = "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl"
CSV_SDK = "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl"
ADULT_NAMES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
               "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "country"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _token(value: Any) -> str:
    """The text of a JSON scalar token as it appears in these fixtures (all shortest-repr numbers)."""
    return json.dumps(value)


@dataclass
class Read:
    result: ReadResult
    records: list[Record]
    inference_ids: set[tuple[str, str | None]]


def _read_full(spark: Any, path: Path | str, config: DatasetConfig | None = None,
               window: Window | None = None) -> Read:
    spec = InputSpec(path=str(path), dataset_config=config or DatasetConfig(), window=window)
    result = read_input(spark, spec, None)
    try:
        rows = result.df.collect()
    finally:
        result.release()
    records = sorted((r["event_id"], r["record_index"], fields_of(r)) for r in rows)
    return Read(result, records, {(r["event_id"], r["inference_id"]) for r in rows})


def _read(spark: Any, path: Path | str, config: DatasetConfig | None = None,
          window: Window | None = None) -> tuple[ReadResult, list[Record]]:
    read = _read_full(spark, path, config, window)
    return read.result, read.records


def _positional(prefix_values: list[str], start: int = 0) -> list[tuple[str, str | None]]:
    return [(f"_c{start + i}", v if v != "" else None) for i, v in enumerate(prefix_values)]


def _expected_csv_capture(path: Path) -> list[Record]:
    out: list[Record] = []
    for line in _lines(path):
        cap = line["captureData"]
        output = cap["endpointOutput"]["data"].strip().split(",")
        inputs = cap["endpointInput"]["data"].strip().split(",")
        out.append((line["eventMetadata"]["eventId"], 0, _positional(output + inputs)))
    return sorted(out)


def test_churn_csv_capture_exact(spark: Any, fixtures_dir: Path) -> None:
    result, records = _read(spark, fixtures_dir / CHURN)
    assert (result.records_read, result.records_valid, result.quarantined, result.outside_window) == (3, 3, {}, 0)
    assert records == _expected_csv_capture(fixtures_dir / CHURN)
    first = dict(next(r[2] for r in records if r[0] == "f04a8538-696c-4648-8064-8b680b2e3318"))
    assert len(first) == 70
    assert first["_c0"] == "0.036397725343704224"
    assert first["_c1"] == "132"
    assert first["_c69"] == "1"


def test_csv_capture_with_placeholder_time_reads_without_window(spark: Any, fixtures_dir: Path) -> None:
    result, records = _read(spark, fixtures_dir / CSV_SDK)
    expected = _expected_csv_capture(fixtures_dir / CSV_SDK)
    assert len(expected) == 44  # 43 newlines, the last line has none
    assert (result.records_read, result.records_valid, result.quarantined) == (44, 44, {})
    assert records == expected
    assert all(len(r[2]) == 8 for r in records)


def test_csv_capture_with_placeholder_time_is_quarantined_in_a_window(spark: Any, fixtures_dir: Path) -> None:
    window = Window(start=datetime(2019, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(EmptyInputError) as caught:
        _read(spark, fixtures_dir / CSV_SDK, window=window)
    read = caught.value.read  # type: ignore[attr-defined]
    assert read.quarantined == {"invalid_inference_time": 44}
    assert (read.records_read, read.records_valid, read.outside_window) == (44, 0, 0)
    assert "invalid_inference_time=44" in str(caught.value)


def test_json_instances_predictions_one_record_per_instance(spark: Any, fixtures_dir: Path) -> None:
    result, records = _read(spark, fixtures_dir / JSON_SDK)
    expected: list[Record] = []
    for line in _lines(fixtures_dir / JSON_SDK):
        inputs = json.loads(line["captureData"]["endpointInput"]["data"])["instances"]
        outputs = json.loads(line["captureData"]["endpointOutput"]["data"])["predictions"]
        for i, (x, y) in enumerate(zip(inputs, outputs, strict=True)):
            expected.append((line["eventMetadata"]["eventId"], i, [("_c0", _token(y)), ("_c1", _token(x))]))
    assert (result.records_read, result.records_valid, result.quarantined) == (6, 6, {})
    assert records == sorted(expected)
    assert [r[2] for r in records if r[0] == "12b73486-e916-45de-9d82-7fa23d4a39a6"] == [
        [("_c0", "3.5"), ("_c1", "1.0")], [("_c0", "4.0"), ("_c1", "2.0")], [("_c0", "5.5"), ("_c1", "5.0")]]


def _adult_expected(path: Path, input_names: list[str] | None, output_first: bool) -> list[Record]:
    expected: list[Record] = []
    for line in _lines(path):
        ins = [json.loads(t) for t in line["captureData"]["endpointInput"]["data"].splitlines() if t.strip()]
        outs = [json.loads(t) for t in line["captureData"]["endpointOutput"]["data"].splitlines() if t.strip()]
        for i, (x, y) in enumerate(zip(ins, outs, strict=True)):
            names = input_names or [f"features.{j}" for j in range(len(x["features"]))]
            in_fields = [(n, _token(v)) for n, v in zip(names, x["features"], strict=True)]
            out_fields = [(k, _token(v)) for k, v in y.items()]
            fields = out_fields + in_fields if output_first else in_fields + out_fields
            expected.append((line["eventMetadata"]["eventId"], i, fields))
    return sorted(expected)


def test_jsonlines_multirecord_capture(spark: Any, fixtures_dir: Path) -> None:
    result, records = _read(spark, fixtures_dir / ADULT)
    assert (result.records_read, result.records_valid, result.quarantined) == (3, 3, {})
    assert records == _adult_expected(fixtures_dir / ADULT, None, output_first=True)
    assert [name for name, _ in records[0][2]] == ["predicted_label", "score", *(f"features.{j}" for j in range(14))]


def test_columnar_json_input_with_base64_columnar_output(spark: Any, fixtures_dir: Path) -> None:
    read = _read_full(spark, fixtures_dir / ISSUE2629)
    result, records = read.result, read.records
    (line,) = _lines(fixtures_dir / ISSUE2629)
    inputs = json.loads(line["captureData"]["endpointInput"]["data"])
    outputs = json.loads(base64.b64decode(line["captureData"]["endpointOutput"]["data"]))
    expected = []
    for i in range(2):
        fields = [(k, _token(v[i])) for k, v in outputs.items()] + [(k, _token(v[i])) for k, v in inputs.items()]
        expected.append((line["eventMetadata"]["eventId"], i, fields))
    assert (result.records_read, result.records_valid, result.quarantined) == (2, 2, {})
    assert records == expected
    assert [dict(r[2])["median_house_value"] for r in records] == ["478046.66", "206551.01"]
    assert len(records[0][2]) == 9
    assert read.inference_ids == {(line["eventMetadata"]["eventId"], line["eventMetadata"]["inferenceId"])}
    assert read.inference_ids == {("fffc6319-59a6-446f-b30f-46c6ed1aac64", "c7f0edc0-9397-4cd3-a948-bd7b639da2f5")}


def test_dataset_config_names_output_at_end(spark: Any, fixtures_dir: Path) -> None:
    names = [f"f{i}" for i in range(1, 70)]
    config = DatasetConfig(input=SideConfig(names=names), output=SideConfig(names=["churn_score"]),
                           output_position="END")
    result, records = _read(spark, fixtures_dir / CHURN, config)
    expected = []
    for event_id, index, fields in _expected_csv_capture(fixtures_dir / CHURN):
        values = [v for _, v in fields]
        expected.append((event_id, index, list(zip([*names, "churn_score"], values[1:] + values[:1], strict=True))))
    assert result.records_valid == 3
    assert records == sorted(expected)
    first = dict(next(r[2] for r in records if r[0] == "f04a8538-696c-4648-8064-8b680b2e3318"))
    assert (first["f1"], first["churn_score"]) == ("132", "0.036397725343704224")


def test_features_attribute_names_the_feature_list(spark: Any, fixtures_dir: Path) -> None:
    config = DatasetConfig(input=SideConfig(features_attribute="features", names=ADULT_NAMES),
                           output_position="END")
    result, records = _read(spark, fixtures_dir / ADULT, config)
    assert result.records_valid == 3
    assert records == _adult_expected(fixtures_dir / ADULT, ADULT_NAMES, output_first=False)
    assert [n for n, _ in records[0][2]] == [*ADULT_NAMES, "predicted_label", "score"]


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_window_is_half_open_and_exact_at_the_boundaries(spark: Any, tmp_path: Path) -> None:
    times = ["2024-05-01T09:59:59.999Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.001Z",
             "2024-05-01T10:59:59.999Z", "2024-05-01T11:00:00Z", "2024-05-01T11:00:00.001Z",
             "2024-05-01T12:00:00+02:00", "2024-05-01T12:59:59+02:00", "2024-05-01T10:30:00",
             "2024-05-01T10:30:00.123456Z"]
    path = tmp_path / "times.jsonl"
    path.write_text("\n".join(csv_capture(["1", "2.5"], "0.5", f"e{i}", t) for i, t in enumerate(times)) + "\n")
    window = Window(start=datetime(2024, 5, 1, 10, tzinfo=UTC), end=datetime(2024, 5, 1, 11, tzinfo=UTC))
    inside = {f"e{i}" for i, t in enumerate(times) if window.start <= _parse_time(t) < window.end}
    assert inside == {"e1", "e2", "e3", "e6", "e7", "e8", "e9"}  # sanity of the independent reading
    result, records = _read(spark, path, window=window)
    assert {r[0] for r in records} == inside
    assert (result.records_read, result.records_valid, result.outside_window) == (10, 7, 3)
    assert result.quarantined == {}


def test_window_on_real_capture_includes_start_and_excludes_end(spark: Any, fixtures_dir: Path) -> None:
    # churn times are 00:21:48, 00:21:49, 00:21:50
    start = datetime(2022, 4, 18, 0, 21, 49, tzinfo=UTC)
    window = Window(start=start, end=start + timedelta(seconds=1))
    result, records = _read(spark, fixtures_dir / CHURN, window=window)
    assert [r[0] for r in records] == ["4f301857-49c9-44d1-b275-ba0ab7767033"]
    assert (result.records_read, result.records_valid, result.outside_window) == (3, 1, 2)


def test_hour_folders_outside_the_window_are_pruned(spark: Any, tmp_path: Path) -> None:
    shape = CaptureShape(numeric_features=2, categorical=False)
    first = datetime(2024, 5, 1, 7, tzinfo=UTC)
    for h in range(7):  # hours 07..13, five records each
        write_capture_hour(tmp_path, first + timedelta(hours=h), 5, shape, seed=100 + h)
    window = Window(start=datetime(2024, 5, 1, 10, tzinfo=UTC), end=datetime(2024, 5, 1, 11, tzinfo=UTC))
    resolved = resolve_input(str(tmp_path), window)
    kept_hours = sorted({Path(f).parent.name for f in resolved.files})
    # one hour of slack on each side: a file opened at 09:5x may hold 10:0x records
    assert kept_hours == ["09", "10", "11"]
    assert resolved.pruned_by_window == 4
    result, records = _read(spark, tmp_path, window=window)
    assert (result.records_read, result.records_valid, result.outside_window) == (15, 5, 10)
    assert {r[0] for r in records} == {
        json.loads(line)["eventMetadata"]["eventId"]
        for line in next((tmp_path / "demo-endpoint/AllTraffic/2024/05/01/10").iterdir()).read_text().splitlines()}
    assert all(len(r[2]) == 3 for r in records)


def _json_side(data: str, content_type: str = "application/json") -> dict[str, Any]:
    return side(data, content_type, "JSON")


def _line(event_id: str, in_side: dict[str, Any], out_side: dict[str, Any]) -> str:
    return json.dumps(capture_dict(in_side, out_side, event_id, "2024-05-01T10:00:00Z"))


def test_payload_variants_split_into_the_same_records(spark: Any, tmp_path: Path) -> None:
    """Every payload shape SageMaker captures, each with two input values and one output value."""
    b64_csv = side(base64.b64encode(b"23,24").decode(), "text/csv", "BASE64")
    b64_html = side(base64.b64encode(b"[1.2]").decode(), "text/html; charset=utf-8", "BASE64")
    lines = [
        _line("multi", side("1,2\n3,4"), side("0.1\n0.2")),
        _line("crlf", side("5,6\r\n7,8\r\n"), side("0.3\r\n0.4\r\n")),
        _line("quoted", side('"9,5",10'), side("0.5")),
        _line("escaped", side('"say ""hi""",11'), side("0.55")),
        _line("empty", side("12,"), side("0.56")),
        _line("lists", _json_side("[[13, 14], [15, 16]]"), _json_side("[0.6, 0.7]")),
        _line("instances", _json_side('{"instances": [[17, 18]]}'), _json_side('{"predictions": [0.8]}')),
        _line("jsonl", _json_side("[19, 20]\n[21, 22]", "application/jsonlines"),
              _json_side("0.9\n1.0", "application/jsonlines")),
        _line("b64csv", b64_csv, side("1.1")),
        _line("sniffed", side("25,26"), b64_html),
        _line("scalar", _json_side("[[27, 28]]"), _json_side('"cat"')),
    ]
    path = tmp_path / "variants.jsonl"
    path.write_text("\n".join(lines) + "\n")
    expected = {
        ("multi", 0): ["0.1", "1", "2"], ("multi", 1): ["0.2", "3", "4"],
        ("crlf", 0): ["0.3", "5", "6"], ("crlf", 1): ["0.4", "7", "8"],
        ("quoted", 0): ["0.5", "9,5", "10"], ("escaped", 0): ["0.55", 'say "hi"', "11"],
        ("empty", 0): ["0.56", "12", None],
        ("lists", 0): ["0.6", "13", "14"], ("lists", 1): ["0.7", "15", "16"],
        ("instances", 0): ["0.8", "17", "18"],
        ("jsonl", 0): ["0.9", "19", "20"], ("jsonl", 1): ["1.0", "21", "22"],
        ("b64csv", 0): ["1.1", "23", "24"], ("sniffed", 0): ["1.2", "25", "26"],
        ("scalar", 0): ["cat", "27", "28"],
    }
    result, records = _read(spark, path)
    assert result.quarantined == {}
    assert (result.records_read, result.records_valid) == (len(expected), len(expected))
    assert {(e, i): fields for e, i, fields in records} == {
        key: list(zip(["_c0", "_c1", "_c2"], values, strict=True)) for key, values in expected.items()}


def test_string_elements_of_json_lists_are_values(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "strings.jsonl"
    path.write_text("\n".join([
        _line("labels", _json_side('{"instances": [[1], [3]]}'), _json_side('{"predictions": ["cat", "dog"]}')),
        _line("texts", _json_side('{"instances": ["great movie", "bad movie"]}'),
              _json_side('{"predictions": [0.9, 0.1]}')),
    ]) + "\n")
    result, records = _read(spark, path)
    assert result.quarantined == {}
    assert records == [
        ("labels", 0, [("_c0", "cat"), ("_c1", "1")]),
        ("labels", 1, [("_c0", "dog"), ("_c1", "3")]),
        ("texts", 0, [("_c0", "0.9"), ("_c1", "great movie")]),
        ("texts", 1, [("_c0", "0.1"), ("_c1", "bad movie")]),
    ]


@pytest.fixture
def host_timezone_new_york() -> Iterator[None]:
    """The Python process runs in a non-UTC zone (a laptop, a container with TZ set)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_window_does_not_depend_on_host_timezone(spark: Any, tmp_path: Path, host_timezone_new_york: None) -> None:
    path = tmp_path / "day.jsonl"
    day = datetime(2024, 5, 1, tzinfo=UTC)
    path.write_text("\n".join(csv_capture(["1", "2"], "0.5", f"h{h:02d}", (day + timedelta(hours=h, minutes=30))
                                          .strftime("%Y-%m-%dT%H:%M:%SZ")) for h in range(24)) + "\n")
    window = Window(start=day + timedelta(hours=10), end=day + timedelta(hours=11))
    _, records = _read(spark, path, window=window)
    assert [r[0] for r in records] == ["h10"]
