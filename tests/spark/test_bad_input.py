"""Bad capture input: every quarantine reason counted, sampled and kept away from the good records.

One capture file mixes 20 good lines with bad lines of every kind; ONE baseline run over it (with
a window, so `invalid_inference_time` applies) feeds the per-reason tests. Expected counts come
from how the file was built, not from the code under test.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from capture_builders import b64, capture_dict, csv_capture, iso, read_jsonl, side

from monitor_service.errors import EmptyInputError, InputError
from monitor_service.monitors.data_quality.baseline_job import run_baseline
from monitor_service.monitors.data_quality.requests import BaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.spark.reader import read_input
from monitor_service.specs import DatasetConfig, InputSpec, Window

pytestmark = pytest.mark.spark

START = datetime(2024, 5, 1, 10, tzinfo=UTC)
WINDOW = Window(start=START, end=START + timedelta(hours=1))
SAMPLE_SIZE = 2
N_GOOD = 20


@dataclass
class BadFile:
    path: Path
    good_ids: list[int] = field(default_factory=list)
    # reason -> list of (event id or None, raw line bytes) of the lines expected under that reason
    bad: dict[str, list[tuple[str | None, bytes]]] = field(default_factory=dict)
    outside_window_lines: int = 0

    def add(self, reason: str, event_id: str | None, line: str | bytes) -> bytes:
        raw = line.encode("utf-8") if isinstance(line, str) else line
        self.bad.setdefault(reason, []).append((event_id, raw))
        return raw


def _at(minutes: int) -> str:
    return iso(START + timedelta(minutes=minutes))


def build_bad_file(path: Path) -> BadFile:
    spec = BadFile(path=path)
    lines: list[bytes] = []
    categories = ["a", "b", "c"]
    for i in range(1, N_GOOD + 1):
        spec.good_ids.append(i)
        lines.append(csv_capture([str(i), f"{i * 0.5:.1f}", categories[i % 3]], f"0.{i:02d}", f"good-{i}",
                                 _at(i)).encode())
    # malformed_json: three broken envelopes (more than SAMPLE_SIZE, to check the sample bound)
    for text in ['{"captureData": {"endpointInput": {"data": "1,2,3"',
                              "this is not json at all",
                              '{"captureData": {"endpointInput": [1, 2}, "eventMetadata": {}}']:
        lines.append(spec.add("malformed_json", None, text))
    # invalid_base64
    bad64 = capture_dict(side("not base64 !!", encoding="BASE64"), side("0.5"), "bad-base64", _at(30))
    lines.append(spec.add("invalid_base64", "bad-base64", json.dumps(bad64)))
    # invalid_utf8: raw invalid bytes inside the line, and a BASE64 payload decoding to invalid UTF-8
    raw = csv_capture(["7", "@@", "a"], "0.5", "bad-utf8-raw", _at(31)).encode().replace(b"@@", b"\xff\xfe")
    lines.append(spec.add("invalid_utf8", "bad-utf8-raw", raw))
    decoded_bad = capture_dict(side(b64(b"7,\xff\xfe,a"), encoding="BASE64"), side("0.5"), "bad-utf8-b64", _at(32))
    lines.append(spec.add("invalid_utf8", "bad-utf8-b64", json.dumps(decoded_bad)))
    # missing_capture_data: a side without `data`, and a line without captureData at all
    no_data = capture_dict(side(None), side("0.5"), "no-data", _at(33))
    lines.append(spec.add("missing_capture_data", "no-data", json.dumps(no_data)))
    no_capture = {"eventMetadata": {"eventId": "no-capture", "inferenceTime": _at(34)}, "eventVersion": "0"}
    lines.append(spec.add("missing_capture_data", "no-capture", json.dumps(no_capture)))
    # unsupported_encoding
    gzip = capture_dict(side("H4sI", encoding="GZIP"), side("0.5"), "gzip", _at(35))
    lines.append(spec.add("unsupported_encoding", "gzip", json.dumps(gzip)))
    # field_count_mismatch: one record with 2 input fields among good ones with 3
    short = csv_capture(["99", "1.5"], "0.99", "short-row", _at(36))
    lines.append(spec.add("field_count_mismatch", "short-row", short))
    # record_count_mismatch: 2 input records, 1 output record
    two_in = capture_dict(side("21,1.0,a\n22,2.0,b"), side("0.1"), "two-vs-one", _at(37))
    lines.append(spec.add("record_count_mismatch", "two-vs-one", json.dumps(two_in)))
    # malformed_payload: JSON content type whose payload is not JSON
    broken_payload = capture_dict(side('{"a": 1,', "application/json", "JSON"), side("0.5"), "bad-payload", _at(38))
    lines.append(spec.add("malformed_payload", "bad-payload", json.dumps(broken_payload)))
    # invalid_inference_time: a good payload with an unreadable inferenceTime
    lines.append(spec.add("invalid_inference_time", "bad-time",
                          csv_capture(["98", "2.5", "a"], "0.98", "bad-time", "yesterday at noon")))
    # a broken payload whose own time is outside the window belongs to another window: not counted here
    outside = capture_dict(side('{"a": 1,', "application/json", "JSON"), side("0.5"), "bad-elsewhere",
                           iso(START + timedelta(days=1)))
    lines.append(json.dumps(outside).encode())
    spec.outside_window_lines = 1
    path.write_bytes(b"\n".join(lines) + b"\n")
    return spec


@dataclass
class BadRun:
    spec: BadFile
    summary: RunSummary
    out: Path
    samples: list[dict[str, Any]]
    counts: dict[str, Any]
    statistics: dict[str, Any]


@pytest.fixture(scope="module")
def bad_run(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> BadRun:
    root = tmp_path_factory.mktemp("bad_input")
    spec = build_bad_file(root / "capture.jsonl")
    out = root / "out"
    config = DatasetConfig(quarantine_sample_size=SAMPLE_SIZE)
    request = BaselineRequest(input=InputSpec(path=str(spec.path), dataset_config=config, window=WINDOW),
                              output_dir=str(out))
    summary = run_baseline(spark, request)
    assert summary.status == "Completed", summary.failure_reason
    return BadRun(spec=spec, summary=summary, out=out,
                  samples=read_jsonl(out / "quarantine" / "samples.jsonl"),
                  counts=json.loads((out / "quarantine" / "counts.json").read_text()),
                  statistics=json.loads((out / "statistics.json").read_text()))


def _expected_counts(spec: BadFile) -> dict[str, int]:
    return {reason: len(lines) for reason, lines in spec.bad.items()}


REASONS = ["malformed_json", "invalid_base64", "invalid_utf8", "missing_capture_data", "unsupported_encoding",
           "field_count_mismatch", "record_count_mismatch", "malformed_payload", "invalid_inference_time"]
# Reasons decided from the whole line (parse errors): the sample must carry the line's text.
LINE_REASONS = ["malformed_json", "invalid_base64", "invalid_utf8", "missing_capture_data", "unsupported_encoding",
                "record_count_mismatch", "malformed_payload"]


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_is_counted_exactly(bad_run: BadRun, reason: str) -> None:
    expected = _expected_counts(bad_run.spec)
    assert bad_run.summary.records_quarantined.by_reason.get(reason) == expected[reason]
    assert bad_run.counts["by_reason"].get(reason) == expected[reason]


def test_quarantine_totals_and_counts_file(bad_run: BadRun) -> None:
    expected = _expected_counts(bad_run.spec)
    assert bad_run.summary.records_quarantined.by_reason == expected
    assert bad_run.summary.records_quarantined.total == sum(expected.values())
    assert bad_run.counts == {"total": sum(expected.values()), "by_reason": expected,
                              "sampled_per_reason": SAMPLE_SIZE}
    assert bad_run.summary.artifacts["quarantine"] == str(bad_run.out / "quarantine")


def test_no_good_record_is_lost(bad_run: BadRun) -> None:
    spec = bad_run.spec
    bad_total = sum(len(v) for v in spec.bad.values())
    assert bad_run.summary.records_analyzed == N_GOOD
    assert bad_run.summary.records_read == N_GOOD + bad_total + spec.outside_window_lines
    stats = bad_run.statistics
    assert stats["dataset"]["item_count"] == N_GOOD
    by_name = {f["name"]: f for f in stats["features"]}
    assert sorted(by_name) == ["_c0", "_c1", "_c2", "_c3"]  # the short row did not add or shift a column
    ids = by_name["_c1"]["numerical_statistics"]
    assert ids["common"] == {"num_present": N_GOOD, "num_missing": 0}
    assert ids["sum"] == float(sum(spec.good_ids))
    assert (ids["min"], ids["max"]) == (1.0, float(N_GOOD))
    buckets = by_name["_c3"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert {b["value"]: b["count"] for b in buckets} == dict(Counter(["a", "b", "c"][i % 3] for i in spec.good_ids))


def test_samples_are_bounded_per_reason(bad_run: BadRun) -> None:
    per_reason = Counter(s["reason"] for s in bad_run.samples)
    expected = {reason: min(SAMPLE_SIZE, n) for reason, n in _expected_counts(bad_run.spec).items()}
    assert dict(per_reason) == expected
    assert per_reason["malformed_json"] == SAMPLE_SIZE  # 3 offending lines, 2 sampled
    assert {s["source_file"].removeprefix("file:") for s in bad_run.samples} == {str(bad_run.spec.path)}


@pytest.mark.parametrize("reason", LINE_REASONS)
def test_samples_carry_the_offending_line_text(bad_run: BadRun, reason: str) -> None:
    written = [raw.decode("utf-8", errors="replace") for _, raw in bad_run.spec.bad[reason]]
    sampled = [s for s in bad_run.samples if s["reason"] == reason]
    assert sampled
    for sample in sampled:
        assert sample.get("line") in written, sample
    for sample in sampled:
        event_id = sample["event_id"]
        if event_id is not None:
            assert (event_id, sample["line"]) in [(e, w) for (e, _), w in zip(bad_run.spec.bad[reason], written,
                                                                               strict=True)]


def test_field_count_mismatch_sample_shows_values_and_expectation(bad_run: BadRun) -> None:
    (sample,) = [s for s in bad_run.samples if s["reason"] == "field_count_mismatch"]
    assert sample["event_id"] == "short-row"
    assert sample["values"] == ["0.99", "99", "1.5"]
    assert "input has 2 fields (expected 3)" in sample["detail"]


def test_invalid_inference_time_sample_shows_the_offending_time(bad_run: BadRun) -> None:
    (sample,) = [s for s in bad_run.samples if s["reason"] == "invalid_inference_time"]
    assert sample["event_id"] == "bad-time"
    assert "yesterday at noon" in json.dumps(sample)


def test_empty_window_names_path_and_window(spark: Any, bad_run: BadRun) -> None:
    far = Window(start=datetime(2030, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 1, 1, tzinfo=UTC))
    spec = InputSpec(path=str(bad_run.spec.path), window=far)
    with pytest.raises(EmptyInputError) as caught:
        read_input(spark, spec, None)
    message = str(caught.value)
    assert str(bad_run.spec.path) in message
    assert "[2030-01-01T00:00:00Z, 2030-01-01T01:00:00Z)" in message
    read = caught.value.read  # type: ignore[attr-defined]
    assert read.records_valid == 0
    # every line with a readable time is outside this window; only time-less broken lines stay charged
    assert read.outside_window == N_GOOD + 1 + sum(len(v) for k, v in bad_run.spec.bad.items()
                                                   if k not in ("malformed_json", "invalid_inference_time"))


def test_nonexistent_path_is_an_input_error(spark: Any, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "capture"
    with pytest.raises(InputError) as caught:
        read_input(spark, InputSpec(path=str(missing)), None)
    assert not isinstance(caught.value, EmptyInputError)
    assert str(missing) in str(caught.value)


def _hour_folder(root: Path, hour: datetime) -> Path:
    folder = root / "endpoint" / "AllTraffic" / hour.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_timeless_broken_line_is_charged_to_its_own_hour_only(spark: Any, tmp_path: Path) -> None:
    noon = START + timedelta(hours=2)
    (_hour_folder(tmp_path, noon) / "a.jsonl").write_text(
        csv_capture(["1", "2.0", "a"], "0.5", "at-12", iso(noon + timedelta(minutes=5))) + "\n")
    good_at_13 = csv_capture(["1", "2.0", "a"], "0.5", "at-13", iso(noon + timedelta(hours=1)))
    (_hour_folder(tmp_path, noon + timedelta(hours=1)) / "a.jsonl").write_text(
        '{"captureData": broken\n' + good_at_13 + "\n")
    window = Window(start=noon, end=noon + timedelta(hours=1))  # [12:00, 13:00) also reads folder 13 (slack)
    result = read_input(spark, InputSpec(path=str(tmp_path), window=window), None)
    result.release()
    # the broken line sits in folder 13 and has no time of its own: it belongs to [13:00, 14:00)
    assert (result.records_valid, result.quarantined, result.outside_window) == (1, {}, 2)


def test_expected_field_count_comes_from_the_window(spark: Any, tmp_path: Path) -> None:
    ten, eleven = START, START + timedelta(hours=1)
    (_hour_folder(tmp_path, ten) / "a.jsonl").write_text("\n".join(
        csv_capture(["1", "2.0", "a"], "0.5", f"old-{i}", iso(ten + timedelta(minutes=i))) for i in range(30)) + "\n")
    (_hour_folder(tmp_path, eleven) / "a.jsonl").write_text("\n".join(
        csv_capture(["1", "2.0", "a", "9"], "0.5", f"new-{i}", iso(eleven + timedelta(minutes=i))) for i in range(10))
        + "\n")
    window = Window(start=eleven, end=eleven + timedelta(hours=1))
    result = read_input(spark, InputSpec(path=str(tmp_path), window=window), None)  # raises EmptyInputError today
    result.release()
    assert (result.records_valid, result.quarantined, result.outside_window) == (10, {}, 30)


def test_csv_dataset_header_with_byte_order_mark(spark: Any, tmp_path: Path) -> None:
    """Excel writes a UTF-8 BOM; the header must still name the columns and not become a record."""
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffage,city\r\n31,Paris\r\n47,Oslo\r\n".encode())
    result = read_input(spark, InputSpec(path=str(path), format="csv", dataset_config=DatasetConfig(header=True)), None)
    try:
        rows = [[(f["name"], f["value"]) for f in r["fields"]] for r in result.df.collect()]
    finally:
        result.release()
    assert (result.records_read, result.records_valid) == (2, 2)
    assert sorted(rows) == [[("age", "31"), ("city", "Paris")], [("age", "47"), ("city", "Oslo")]]


def test_rerun_without_bad_lines_leaves_no_stale_quarantine(spark: Any, tmp_path: Path) -> None:
    good = [csv_capture([str(i), "1.0", "a"], "0.5", f"g{i}", _at(i)) for i in range(5)]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "c.jsonl").write_text("\n".join([*good, "not json"]) + "\n")
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "c.jsonl").write_text("\n".join(good) + "\n")
    out = tmp_path / "out"
    first = run_baseline(spark, BaselineRequest(input=InputSpec(path=str(tmp_path / "bad")), output_dir=str(out)))
    assert first.records_quarantined.by_reason == {"malformed_json": 1}
    second = run_baseline(spark, BaselineRequest(input=InputSpec(path=str(tmp_path / "good")), output_dir=str(out)))
    assert second.records_quarantined.total == 0
    counts = out / "quarantine" / "counts.json"
    assert not counts.exists() or json.loads(counts.read_text())["total"] == 0
