"""The wide plan for plain-CSV capture (`spark.wide`) against the general reader and hand counts.

Every file here mixes the plain lines the wide plan takes with the lines it must leave to the
general reader (another field count, BASE64, JSON, quoted CSV, broken envelopes, unreadable
times). The expected counts are written down from how the file was built; the profiles are
compared with the general reader's on the same file (the reader the other Spark tests pin to
SageMaker's behaviour), and the numbers with numpy.
"""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor_service.core.profile import DatasetProfile
from monitor_service.runner.common import ReadCounts
from monitor_service.spark import onepass
from monitor_service.spark.wide import peek_shape, shape_for
from monitor_service.specs import DatasetConfig, InputSpec, SideConfig, Window
from tests.profile_asserts import assert_same_counts_and_moments
from tests.spark.capture_builders import WINDOW_DAY, b64, capture_dict, csv_capture, iso, side

pytestmark = pytest.mark.spark


# --- the shape guess (no Spark) -------------------------------------------------------------------

def test_shape_names_follow_the_general_reader() -> None:
    config = DatasetConfig()
    shape = shape_for(3, 1, config)
    assert shape is not None
    assert shape.names == ("_c0", "_c1", "_c2", "_c3")  # output first (START), then the inputs
    assert shape.slots == ("o_values[0]", "i_values[0]", "i_values[1]", "i_values[2]")
    named = DatasetConfig(input=SideConfig(names=["a", "b"]), output=SideConfig(names=["y"]),
                          output_position="END")
    shape = shape_for(3, 1, named)
    assert shape is not None and shape.names == ("a", "b", "_c2", "y")
    # a configured name that a default name repeats: the general reader quarantines it (duplicate_key)
    assert shape_for(3, 1, DatasetConfig(input=SideConfig(names=["_c3"]))) is None
    assert shape_for(10, 1, DatasetConfig(max_columns=5)) is None
    assert shape_for(3, 1, config, max_fields=3) is None
    assert shape_for(3, None, DatasetConfig(capture_output=False)).names == ("_c0", "_c1", "_c2")


def test_peek_takes_the_first_plain_line(tmp_path: Path) -> None:
    lines = ["not json", json.dumps(capture_dict(side('{"a": 1}', "application/json", "JSON"), side("1"), "e", None)),
             csv_capture(["1", "2"], "0.5", "e2", None)]
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    shape = peek_shape([str(path)], DatasetConfig())
    assert shape is not None and (shape.in_count, shape.out_count) == (2, 1)
    assert peek_shape([str(tmp_path / "missing.jsonl")], DatasetConfig()) is None
    (tmp_path / "bad.jsonl").write_bytes(b"\xff\xfe{{{\n")
    assert peek_shape([str(tmp_path / "bad.jsonl")], DatasetConfig()) is None


# --- the wide plan against the general reader ------------------------------------------------------

def _mixed_file(path: Path, rng: np.random.Generator) -> dict[str, Any]:
    """Plain lines of 3 inputs + 1 output, and one block of every kind the wide plan leaves alone."""
    start = WINDOW_DAY
    lines: list[str] = []
    plain = 400
    values = rng.normal(10, 3, size=(plain, 2)).round(4)
    colors = rng.choice(["red", "green", "blue", ""], size=plain)
    for i in range(plain):
        when = iso(start + timedelta(seconds=i))
        lines.append(csv_capture([str(values[i, 0]), str(values[i, 1]), str(colors[i])], str(i % 2), f"p{i}", when))
    when = iso(start + timedelta(minutes=30))
    # the same shape through the general reader: BASE64, a JSON list, a quoted CSV value
    lines.append(json.dumps(capture_dict(side(b64(b"1.5,2.5,red"), encoding="BASE64"), side("1"), "b64", when)))
    json_side = side('{"instances": [[7, 8, "red"]]}', "application/json", "JSON")
    lines.append(json.dumps(capture_dict(json_side, side("0"), "js", when)))
    lines.append(json.dumps(capture_dict(side('3,4,"re,d"'), side("1"), "q", when)))
    # another field count, a broken line, a missing time, a line outside the window, a Boolean value
    lines.append(csv_capture(["1", "2"], "0", "short", when))
    lines.append("{not json")
    lines.append(csv_capture(["1", "2", "red"], "1", "notime", None))
    lines.append(csv_capture(["1", "2", "red"], "1", "late", iso(start + timedelta(hours=5))))
    lines.append(csv_capture(["1", "2", "true"], "1", "bool", when))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"values": values, "colors": colors, "plain": plain}


def _run(spark: Any, spec: InputSpec, tmp: Path, *, wide: bool, **kwargs: Any) -> tuple[ReadCounts, DatasetProfile]:
    original = onepass.peek_shape
    if not wide:
        onepass.peek_shape = lambda *args: None  # type: ignore[assignment]
    try:
        return onepass.profile_input(spark, spec, str(tmp / ("wide" if wide else "general")), **kwargs)
    finally:
        onepass.peek_shape = original


def _same_profiles(a: DatasetProfile, b: DatasetProfile) -> None:
    assert_same_counts_and_moments(a, b)
    assert list(a.by_name()) == list(b.by_name())
    for x, y in zip(a.columns, b.columns, strict=True):
        assert (x.distinct_count, x.position, x.domain_matches) == (y.distinct_count, y.position, y.domain_matches)


def test_wide_plan_counts_and_profiles_as_the_general_reader(spark: Any, tmp_path: Path) -> None:
    built = _mixed_file(tmp_path / "capture.jsonl", np.random.default_rng(3))
    window = Window(start=WINDOW_DAY, end=WINDOW_DAY + timedelta(hours=1))
    spec = InputSpec(path=str(tmp_path / "capture.jsonl"), window=window)
    domains = {"_c3": ["red", "green"]}
    wide_counts, wide_profile = _run(spark, spec, tmp_path, wide=True, domains=domains, categorical={"_c3"})
    general_counts, general_profile = _run(spark, spec, tmp_path, wide=False, domains=domains, categorical={"_c3"})
    # by construction: 400 plain + BASE64 + JSON + quoted + Boolean records in the window
    assert wide_counts.records_valid == built["plain"] + 4
    assert wide_counts.quarantined == {"field_count_mismatch": 1, "malformed_json": 1, "invalid_inference_time": 1}
    assert wide_counts.outside_window == 1 and wide_counts.records_read == built["plain"] + 8
    for field in ("records_read", "records_valid", "outside_window", "quarantined", "fields_dropped",
                  "records_truncated"):
        assert getattr(wide_counts, field) == getattr(general_counts, field), field
    samples = [(tmp_path / d / "samples.jsonl").read_text(encoding="utf-8") for d in ("wide", "general")]
    assert samples[0] == samples[1] and '"short"' in samples[0]
    _same_profiles(wide_profile, general_profile)
    columns = wide_profile.by_name()
    first = np.concatenate([built["values"][:, 0], [1.5, 7.0, 3.0, 1.0]])
    assert columns["_c1"].numeric.mean == pytest.approx(first.mean(), rel=1e-12)
    assert columns["_c1"].numeric.std_dev == pytest.approx(first.std(), rel=1e-12)
    assert columns["_c3"].type_counts["Boolean"] == 1  # "true" among the colours
    colors = [c for c in built["colors"] if c] + ["red", "red", "re,d", "true"]
    assert columns["_c3"].histogram == {c: float(colors.count(c)) for c in set(colors)}
    assert columns["_c3"].num_missing == float(list(built["colors"]).count(""))
    assert columns["_c3"].domain_matches == float(sum(c in ("red", "green") for c in colors))


def test_a_plain_window_never_builds_the_general_plan(spark: Any, tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "plain.jsonl"
    rows = [[f"{i}.5", str(i % 3), "x" if i % 2 else "y"] for i in range(50)]
    path.write_text("\n".join(csv_capture(r, str(i % 2), f"e{i}", iso(WINDOW_DAY)) for i, r in enumerate(rows)) + "\n",
                    encoding="utf-8")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the general reader was built for a plain window")

    monkeypatch.setattr(onepass, "raw_records", refuse)
    counts, profile = onepass.profile_input(spark, InputSpec(path=str(path)), str(tmp_path / "q"))
    assert counts.records_valid == 50 and counts.quarantined == {}
    columns = profile.by_name()
    assert columns["_c1"].numeric.sum == pytest.approx(sum(i + 0.5 for i in range(50)))
    assert columns["_c2"].inferred_type.value == "Integral" and columns["_c2"].histogram == {"0": 17.0, "1": 17.0,
                                                                                             "2": 16.0}
    assert columns["_c3"].inferred_type.value == "String" and columns["_c0"].numeric.max == 1.0
