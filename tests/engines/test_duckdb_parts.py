"""The DuckDB engine's parts against independent references (no Spark needed).

Expected values come from Java itself (Double.toString output of JDK 17, Spark's own reading
of timestamps, recorded once), from plain-Python reference implementations written here, and
from the DataSketches library's own update path.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import datasketches
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor_service.duckdb import kernels as K
from monitor_service.duckdb.connection import connect
from monitor_service.duckdb.jackson import java_double, parse, to_json
from monitor_service.duckdb.lines import file_lines
from monitor_service.duckdb.payloads import csv_values, split_lines
from monitor_service.duckdb.profiler import Spans, register_image
from monitor_service.duckdb.reader import profile_input
from monitor_service.duckdb.timestamps import NO_TIME, timestamps
from monitor_service.errors import RunCancelled
from monitor_service.runner.cancel import request_cancel, run_scope
from monitor_service.specs import InputSpec

REPO = Path(__file__).resolve().parents[2]

# `Double.toString` of OpenJDK 17.0.15 for these doubles (JDK 17 prints some doubles, e.g. 2e23, with
# one digit more than the shortest form; those are left out: see java_double's docstring).
JAVA_DOUBLES = {2.0e-7: "2.0E-7", 1e7: "1.0E7", 1e22: "1.0E22", 0.001: "0.001", 0.0001: "1.0E-4", 1.0: "1.0",
                123456789.0: "1.23456789E8", -0.0: "-0.0", 1e300: "1.0E300", 0.1234567890123456789:
                "0.12345678901234568", 9999999.0: "9999999.0", 1.5e-3: "0.0015", 0.00123: "0.00123",
                100.0: "100.0", 1234567.125: "1234567.125", 4.35: "4.35", 0.1 + 0.2: "0.30000000000000004"}


def test_java_double_matches_jdk() -> None:
    assert {x: java_double(x) for x in JAVA_DOUBLES} == JAVA_DOUBLES
    assert [java_double(x) for x in (float("nan"), float("inf"), float("-inf"))] == ["NaN", "Infinity", "-Infinity"]


def test_json_text_as_spark_writes_it() -> None:
    text = ('{"a": 1.50, "b": 1E5, "c": {"x" : 1.50, "y": [1 , 2.0e-7]}, "d": "s\\u0001", "e": true, "f": null,'
            ' "g": -0.0, "h": 12345678901234567890123, "i": -0}')
    # Spark 4.1's from_json(..., 'map<string,string>') of the same text, recorded
    assert to_json(parse(text)) == ('{"a":1.5,"b":100000.0,"c":{"x":1.5,"y":[1,2.0E-7]},"d":"s\\u0001","e":true,'
                                    '"f":null,"g":-0.0,"h":12345678901234567890123,"i":0}')
    assert to_json(parse("{'a': 'x', 'b': NaN} trailing")) == '{"a":"x","b":NaN}'


# (text, what Spark's try_cast(text AS timestamp) gave in UTC; "TODAY" is the current UTC date)
SPARK_TIMES = [
    ("2024-05-01T10:00:00Z", "2024-05-01 10:00:00"), ("2024-05-01 10:00:00", "2024-05-01 10:00:00"),
    ("2024-05-01T10:00", "2024-05-01 10:00:00"), ("2024-05-01T10", "2024-05-01 10:00:00"),
    ("2024-05-01", "2024-05-01 00:00:00"), ("2024-05-01T10:00:00.123456789Z", "2024-05-01 10:00:00.123456"),
    ("2024-05-01T10:00:00+0200", "2024-05-01 08:00:00"), ("2024-05-01T12:00:00+02", "2024-05-01 10:00:00"),
    ("2024-05-01T10:00:00 UTC", "2024-05-01 10:00:00"), ("2024-05-01T10:00:00GMT", "2024-05-01 10:00:00"),
    ("2024-5-1T10:0:0Z", "2024-05-01 10:00:00"), (" 2024-05-01T10:00:00Z ", "2024-05-01 10:00:00"),
    ("2024-05-01T10:00:00z", None), ("2024-05-01T10:00:00.Z", "2024-05-01 10:00:00"), ("20240501T100000Z", None),
    ("2024-05-01T10:00:00America/New_York", "2024-05-01 14:00:00"),
    ("2024-05-01T10:00:00 +02:00", "2024-05-01 08:00:00"), ("T10:00:00", "TODAY 10:00:00"),
    ("2024-05-01T10:00:00-00:00", "2024-05-01 10:00:00"), ("2024-05-01T25:00:00Z", None),
    ("2024-02-30T10:00:00Z", None), ("+2024-05-01T10:00:00Z", "2024-05-01 10:00:00"), ("{%s}", None),
    ("yesterday at noon", None), (None, None),
]


def test_timestamps_as_spark_reads_them() -> None:
    with connect() as con:
        got = timestamps(con, pa.array([t for t, _ in SPARK_TIMES], pa.string()))
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for (text, expected), us in zip(SPARK_TIMES, got.tolist(), strict=True):
        shown = None if us == NO_TIME else (datetime(1970, 1, 1) + timedelta(microseconds=us)).strftime(
            "%Y-%m-%d %H:%M:%S.%f").removesuffix(".000000")
        assert shown == (expected.replace("TODAY", today) if expected else None), text


def _hadoop_lines(data: bytes) -> list[bytes]:
    """Hadoop LineRecordReader, byte by byte: LF, CR and CRLF end a line."""
    out, current, i = [], bytearray(), 0
    while i < len(data):
        c = data[i]
        i += 1
        if c in (10, 13):
            out.append(bytes(current))
            current = bytearray()
            if c == 13 and i < len(data) and data[i] == 10:
                i += 1
        else:
            current.append(c)
    if current:
        out.append(bytes(current))
    return out


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80).map(lambda b: bytes(x if x % 5 else (10, 13, 97)[x % 3] for x in b)),
       st.integers(1, 12))
def test_lines_split_like_hadoop(data: bytes, block: int) -> None:
    got = [line for batch in file_lines(io.BytesIO(data), 0, block) for line in batch.lines.to_pylist()]
    assert got == _hadoop_lines(data)


_FRACTIONAL = re.compile(r"(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))", re.ASCII)
_INTEGRAL = re.compile(r"(-|\+)? ?\d+", re.ASCII)
_TERMINATORS = ("\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029")


def _java_type(value: str) -> int:
    """Deequ's patterns with Java's `$` (it also matches before one final line terminator)."""
    body = next((value[: -len(t)] for t in _TERMINATORS if value.endswith(t)), value)
    if _FRACTIONAL.fullmatch(body):
        return K.FRACTIONAL
    if _INTEGRAL.fullmatch(body):
        return K.INTEGRAL
    return K.BOOLEAN if body in ("true", "false") else K.STRING


def _profile(values: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spans = Spans.of(pa.array(values, pa.large_string()))
    n = len(values)
    types, numbers, slow = np.empty(n, np.int8), np.empty(n), np.empty(n, np.int64)
    registers = np.zeros((1, K.HLL_SLOTS), np.uint8)
    K.profile_values(spans.starts, spans.ends, spans.data, spans.valid, np.zeros(n, np.int32), types, numbers, slow,
                     np.zeros((1, 5), np.int64), registers, np.zeros((1, K.TABLE_SLOTS), np.uint64),
                     np.zeros((1, K.TABLE_SLOTS), np.int64),
                     np.zeros(1, np.int32), np.zeros(1, np.bool_), np.zeros((n, 3), np.int64), np.zeros(0, np.uint64),
                     np.zeros(2, np.int64), np.zeros(1, np.int64))
    return types, numbers, registers[0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789+-. eE\n\r\u2028ta٣", max_size=9), min_size=1, max_size=40))
def test_types_and_numbers_like_deequ_and_java(values: list[str]) -> None:
    types, numbers, _ = _profile(values)
    for value, kind, number in zip(values, types.tolist(), numbers.tolist(), strict=True):
        assert kind == _java_type(value), value
        if kind in (K.FRACTIONAL, K.INTEGRAL) and not value.endswith(("\u0085", "\u2028", "\u2029")):
            text = value.replace(" ", "").strip()
            if not np.isnan(number):  # NaN: left to Python's float by the caller
                assert number == float(text) and np.signbit(number) == np.signbit(float(text)), value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" ,;a1\r\n", max_size=12), min_size=1, max_size=8), st.sampled_from([",", ";"]))
def test_compiled_csv_split_is_the_spark_split(payloads: list[str], delimiter: str) -> None:
    """`kernels.split_csv` against `split_lines` + `csv_values` (the Spark expressions in Python)."""
    spans = Spans.of(pa.array(payloads, pa.large_string()))
    offsets = np.concatenate([spans.starts, spans.ends[-1:]])
    per_payload, per_record, starts, ends, valid, _, _ = K.split_csv(offsets, spans.data, np.ones(len(payloads), bool),
                                                                     ord(delimiter))
    values = Spans(spans.data, starts, ends, valid)
    got, v, r = [], 0, 0
    for count in per_payload.tolist():
        records = []
        for _ in range(count):
            records.append([values.text(i) for i in range(v, v + int(per_record[r]))])
            v += int(per_record[r])
            r += 1
        got.append(records)
    expected = [[[x if x != "" else None for x in csv_values(line, delimiter)] for line in split_lines(p)]
                for p in payloads]
    assert got == expected


@pytest.mark.parametrize("n", [5000, 60000])
def test_hll_registers_are_datasketches_registers(n: int) -> None:
    rng = np.random.default_rng(n)
    values = [f"{v:.5f}" if i % 3 else "x" * (i % 40) + str(i) for i, v in enumerate(rng.normal(size=n))]
    _, _, registers = _profile(values)
    sketch = datasketches.hll_sketch(12, datasketches.tgt_hll_type.HLL_8)
    for v in values:
        sketch.update(v)
    union = datasketches.hll_union(12)
    union.update(sketch)
    union.update(sketch)
    image = bytes(union.get_result(datasketches.tgt_hll_type.HLL_8).serialize_updatable())
    assert image[7] & 3 == 2  # HLL mode
    assert np.array_equal(np.frombuffer(image[40:], np.uint8), registers)
    ours = datasketches.hll_sketch.deserialize(register_image(registers))
    merged = datasketches.hll_union(12)
    merged.update(ours)
    assert ours.get_estimate() == pytest.approx(merged.get_result().get_estimate(), rel=1e-12)
    assert ours.get_estimate() == pytest.approx(len(set(values)), rel=0.05)


def test_a_cancelled_run_stops(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps({"captureData": {"endpointInput": {"data": f"{i},2", "encoding": "CSV"}}})
                              for i in range(10)) + "\n")
    with run_scope("run-1"):
        request_cancel("run-1")
        with pytest.raises(RunCancelled):
            profile_input(InputSpec(path=str(path)), None)


def test_duckdb_cli_run_starts_no_jvm(tmp_path: Path, fixtures_dir: Path) -> None:
    out = tmp_path / "out"
    capture = str(fixtures_dir / "capture_endpoint_csv_xgb_churn.jsonl")
    code = (
        "import json, sys, psutil\n"
        "from monitor_service.cli.main import main\n"
        f"rc = main(['baseline', '--engine', 'duckdb', '--input', {capture!r}, '--output', {str(out)!r}])\n"
        "kids = [p.name() for p in psutil.Process().children(recursive=True)]\n"
        "jvm = sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j'))\n"
        "print(json.dumps({'rc': rc, 'pyspark': jvm, 'children': kids}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"rc": 0, "pyspark": [], "children": []}
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["engine"], summary["status"], summary["records_analyzed"]) == ("duckdb", "Completed", 3)
    assert 0 < summary["startup_seconds"] < summary["seconds"]  # loading the engine, timed apart


def test_spark_submit_refuses_the_duckdb_engine(tmp_path: Path) -> None:
    from monitor_service.cli.main import main

    assert main(["baseline", "--engine", "duckdb", "--input", str(tmp_path), "--output", str(tmp_path / "o")],
                spark_submit=True) == 2


def test_gzip_and_fsspec_inputs_read_like_the_plain_file(tmp_path: Path, fixtures_dir: Path) -> None:
    import gzip

    import fsspec

    source = fixtures_dir / "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl"
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(source.read_bytes()))
    memory = fsspec.filesystem("memory")
    memory.pipe("/speed-test/capture/c.jsonl", source.read_bytes())
    plain = profile_input(InputSpec(path=str(source)), None)
    for path in (str(tmp_path / "c.jsonl.gz"), "memory://speed-test/capture/"):
        counts, profile = profile_input(InputSpec(path=path), None)
        assert counts == plain[0]
        assert [(c.name, c.num_present, c.distinct_count, c.histogram) for c in profile.columns] == [
            (c.name, c.num_present, c.distinct_count, c.histogram) for c in plain[1].columns]
    memory.rm("/speed-test", recursive=True)
