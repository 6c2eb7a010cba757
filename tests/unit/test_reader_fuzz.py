"""Property tests: no statistics, constraints, model-quality or ground-truth document and no sketch
byte string makes a reader raise anything but its documented errors, or crash the process.

`bench/fuzz_inputs.py` runs the same targets with many more examples (BENCHMARKS.md).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor_service.core import hll
from monitor_service.core.constraints import Constraints
from monitor_service.core.kll import from_datasketches
from monitor_service.core.statistics import from_statistics_json
from monitor_service.errors import FormatError
from tests.fuzz_targets import CORRUPTING_HLL, decode_in_child, hll_blobs, holds, reader_targets

REPO = Path(__file__).resolve().parents[2]
TARGETS = {t.name: t for t in reader_targets()}


@pytest.mark.parametrize("name", [n for n in TARGETS if n != "HLL sketch bytes"])
def test_any_input_gives_a_value_or_a_documented_error(name: str) -> None:
    holds(TARGETS[name], examples=120)


def test_hll_bytes_that_pass_validation_never_crash_the_native_decoder() -> None:
    """Validation is pure Python; whatever it lets through is decoded by DataSketches in a child
    process, which must finish normally (an abort there would be a crash of any reader)."""
    accepted: list[bytes] = []
    refused = 0

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hll_blobs())
    def collect(blob: bytes) -> None:
        nonlocal refused
        try:
            hll.validate(blob)
        except FormatError:
            refused += 1
        else:
            accepted.append(blob)

    collect()
    assert refused > 100 and accepted, (refused, len(accepted))
    child = decode_in_child(accepted)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == f"decoded {len(accepted)}"


# ----------------------------------------------------------------------------- regressions (issue 7, items 1 and 3)

def _statistics_with_hll(blob: bytes) -> dict[str, Any]:
    return {"features": [{"name": "city", "inferred_type": "String",
                          "string_statistics": {"common": {"num_present": 2, "num_missing": 0}}}],
            "monitor_service": {"features": {"city": {"hll": base64.b64encode(blob).decode()}}}}


@pytest.mark.parametrize("blob", CORRUPTING_HLL, ids=["count-12", "count-255"])
def test_a_corrupting_hll_value_is_a_format_error_not_an_abort(blob: bytes) -> None:
    """Run in a child so that on the old code the abort fails this test instead of ending pytest."""
    code = ("import json, sys\nfrom monitor_service.core.statistics import from_statistics_json\n"
            "from monitor_service.errors import FormatError\n"
            "try:\n    from_statistics_json(json.loads(sys.stdin.read()), 'statistics.json')\n"
            "except FormatError as exc:\n    print(exc)\n")
    child = subprocess.run([sys.executable, "-c", code], input=json.dumps(_statistics_with_hll(blob)),
                           capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert child.returncode == 0, (child.returncode, child.stderr[-500:])
    assert "monitor_service feature 'city' field 'hll' does not hold an HLL sketch" in child.stdout


@pytest.mark.parametrize("blob", [b"", b"\x05\x01\x0f\x00", bytes.fromhex("0501 0f00 c800 0800") + b"\x01" * 12,
                                  bytes.fromhex("0501 0f00 c800 0800") + b"\x00" * 10 + b"\xff" + b"\x00" * 40])
def test_kll_bytes_too_short_or_inconsistent_are_format_errors(blob: bytes) -> None:
    with pytest.raises(FormatError, match="KLL sketch"):
        from_datasketches(blob)


def _numeric(**kll: Any) -> dict[str, Any]:
    sketch = {"parameters": {"c": 0.64, "k": 2048}, "data": [[1.0, 2.0]], **kll}
    return {"features": [{"name": "x", "inferred_type": "Fractional", "numerical_statistics": {
        "common": {"num_present": 2, "num_missing": 0}, "mean": 1.5,
        "distribution": {"kll": {"sketch": sketch}}}}]}


@pytest.mark.parametrize(("document", "message"), [
    (_numeric(parameters={"c": 0.64, "k": "NaN"}), "field 'numerical_statistics.distribution.kll.sketch.parameters.k'"
                                                   " must be an integer between 2 and 65535, got nan"),
    (_numeric(parameters={"c": 0.64, "k": 10**30}), "must be an integer between 2 and 65535"),
    (_numeric(parameters={"c": 0.64, "k": 10**400}), "must be a number that fits a 64-bit float"),
    (_numeric(data=[[10**400]]), "kll.sketch.data.0' element 0 must be a number that fits a 64-bit float"),
    (_numeric(data=[[1.0]] * 65), "has 65 levels; a KLL sketch has at most 64"),
    ({"features": [], "dataset": {"item_count": 10**400}}, "field 'dataset.item_count' must be a number that fits"),
    ({"features": [], "dataset": {"item_count": -3}}, "must be a count between 0 and 2^63"),
    ({"features": [], "deep": json.loads("[" * 100 + "]" * 100)}, "nests deeper than 64 levels"),
])
def test_statistics_bounds_are_format_errors_naming_the_field(document: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError) as caught:
        from_statistics_json(document)
    assert message in str(caught.value)


@pytest.mark.parametrize(("document", "message"), [
    ({"features": [{"name": "x", "inferred_type": "Integral", "completeness": 10**400}]},
     "features[0] ('x').completeness: must be a number that fits a 64-bit float"),
    ({"features": [], "monitoring_config": {"distribution_constraints": {"comparison_threshold": -(10**400)}}},
     "comparison_threshold: must be a number that fits a 64-bit float"),
    ({"version": 2**1024}, "version: must be a number that fits"),
    ({"features": [{"name": "x", "inferred_type": "Integral", "num_constraints": json.loads("[" * 80 + "]" * 80)}]},
     "nests deeper than 64 levels"),
])
def test_constraints_bounds_are_format_errors(document: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError) as caught:
        Constraints.from_dict(document)
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ('{"features": [' + "1" * 5000 + "]}", "is not usable JSON"),
    ("[" * 5000 + "]" * 5000, "nests deeper than 64 levels"),
    ("[" * 100 + "]" * 100, "nests deeper than 64 levels"),
])
def test_json_files_that_python_cannot_parse_sanely_are_format_errors(tmp_path: Path, text: str,
                                                                      message: str) -> None:
    from monitor_service.core.statistics import read_statistics

    path = tmp_path / "statistics.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=message):
        read_statistics(str(path))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_statistics_files_of_random_bytes_are_format_errors(tmp_path_factory: pytest.TempPathFactory,
                                                            raw: bytes) -> None:
    from monitor_service.core.statistics import read_statistics

    path = tmp_path_factory.mktemp("raw") / "statistics.json"
    path.write_bytes(raw)
    with pytest.raises(FormatError):
        read_statistics(str(path))
