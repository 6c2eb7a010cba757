"""The pure-Python capture-line rules (`core.capture_line`) against the Spark reader: the same line
gets the same line-level quarantine reason, and no line makes the Python side raise."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from monitor_service.core.capture_line import CaptureLine, parse_capture_line, record_names
from monitor_service.spark.capture import capture_records
from monitor_service.specs import DatasetConfig
from tests.fuzz_targets import CAPTURE_SEEDS, capture_lines

ENVELOPE_REASONS = {"line_too_long", "invalid_utf8", "malformed_json", "missing_capture_data",
                    "unsupported_encoding", "invalid_base64"}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(capture_lines())
def test_any_line_parses_or_gets_a_reason(raw: bytes) -> None:
    parsed = parse_capture_line(raw, max_line_bytes=4096)
    assert isinstance(parsed, CaptureLine) or parsed in ENVELOPE_REASONS
    if isinstance(parsed, CaptureLine) and parsed.input is not None:
        names = record_names(parsed.input.text)
        assert names is None or all(isinstance(n, str) for n in names)


def test_record_names_follow_the_flattening_rule() -> None:
    assert record_names('{"a.b": 1, "a": {"b": 2}}') == ["a.b", "a.b"]
    assert record_names('{"a": 1, "a": 2}') == ["a", "a"]
    assert record_names('{"x": [1, {"y": 2}], "z": {}}') == ["x.0", "x.1.y"]
    assert record_names("[1, 2]") is None


def _lines(seed: int, count: int) -> list[bytes]:
    """Mutated fixture lines (deterministic), each alone on its line, plus an over-long one."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(count):
        envelope = json.loads(rng.choice(CAPTURE_SEEDS))
        capture = envelope.get("captureData", {})
        choice = rng.randrange(9)
        side = capture.get("endpointInput") or {}
        if choice == 0:
            envelope.pop("captureData")
        elif choice == 1:
            side["encoding"] = rng.choice(["GZIP", "csv", "base64", 7])
        elif choice == 2:
            side.update(encoding="BASE64", data=rng.choice(["not base64!", "YQ", "/w==", "YWJj"]))
        elif choice == 3:
            side.pop("data", None)
        elif choice == 4:
            capture.pop("endpointInput", None)
            capture.pop("endpointOutput", None)
        elif choice == 5:
            envelope = rng.choice([[1], "text", 3])
        envelope_text = json.dumps(envelope)
        if choice == 6:
            out.append(envelope_text[: rng.randrange(1, len(envelope_text))].encode())
        elif choice == 7:
            out.append(envelope_text.encode().replace(b'"', b'"\xff', 1))
        else:
            out.append(envelope_text.encode())
        if i == 0:
            out.append(json.dumps({"captureData": {"endpointInput": {"data": "9" * 5000, "encoding": "CSV"}}}).encode())
    return [line for line in out if b"\n" not in line and b"\r" not in line]


@pytest.mark.spark
def test_python_and_spark_give_the_same_line_reasons(spark: Any, tmp_path: Path) -> None:
    lines = _lines(seed=7, count=160)
    path = tmp_path / "capture.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rows = capture_records(spark, [str(path)], DatasetConfig(max_line_bytes=4096)).select("error").collect()
    spark_reasons = Counter(r["error"] for r in rows if r["error"] in ENVELOPE_REASONS)
    python = [parse_capture_line(line, max_line_bytes=4096) for line in lines]
    python_reasons = Counter(p for p in python if isinstance(p, str))
    assert len(python_reasons) >= 5, python_reasons  # the lines reach most of the rules
    assert spark_reasons == python_reasons
