"""Fuzz targets shared by the property tests (bounded examples) and `bench/fuzz_inputs.py` (long runs).

Each target pairs a hypothesis strategy of hostile inputs with the function that reads them
and the errors that function is documented to raise. The property is the same everywhere:
any input yields a value or one of those errors; never another exception, never a crash.
Inputs are mostly *mutations of valid documents* (a value replaced by a huge integer, a NaN,
a deep nest, a wrong type; a key dropped or duplicated), so the readers' deep validators are
reached, not just their first type check.

Native decoding (DataSketches) is exercised in a child process (`python -m tests.fuzz_targets
decode-hll`), so a sketch that got past validation and crashed the decoder would show up as a
failed child, not as a dead test run.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import struct
import subprocess
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from monitor_service.core import hll
from monitor_service.core.kll import KllSketch, from_datasketches
from monitor_service.errors import FormatError, MonitorError

# ----------------------------------------------------------------------------- JSON values

HUGE_INTS = st.sampled_from([2**63, -(2**63) - 1, 2**1024, 10**400, -(10**400), 2**64 + 1])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "", "0", "1e999", "\x00", "\ud800", "a" * 300]),
    st.text(max_size=20),
)


def nested(depth: int) -> Any:
    """A list nested `depth` levels deep (deep enough to exhaust a recursive reader)."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
# Deep nests are built fresh for every example: mutations must never share (and so grow) one object.
HOSTILE = st.one_of(JSON, st.builds(nested, st.sampled_from([70, 200])),
                    st.builds(lambda: {"a": nested(100)}))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if len(prefix) > 12:
        return out
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value[:6]):
            out.extend(_paths(child, (*prefix, i)))
    return out


@st.composite
def mutated(draw: st.DrawFn, document: Any, max_mutations: int = 3) -> Any:
    """`document` with a few values replaced, keys dropped or added, lists emptied or repeated."""
    doc = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "drop", "add", "repeat"]))
        if not path:
            if action == "replace":
                doc = draw(HOSTILE)
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "replace":
            parent[key] = draw(HOSTILE)
        elif action == "drop":
            del parent[key]
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=6))] = draw(HOSTILE)
        elif action == "repeat" and isinstance(parent[key], list) and parent[key]:
            parent[key] = parent[key] * draw(st.integers(2, 3))
    return doc


# ----------------------------------------------------------------------------- sketches


def _valid_hll_images() -> list[bytes]:
    import datasketches

    images = []
    for lg_k in (4, 8, 12):
        for n in (0, 3, 9, 40, 300, 5000):
            blob = hll.sketch_of([str(i) for i in range(n)], lg_k=lg_k)
            images.append(blob)
            images.append(bytes(datasketches.hll_sketch.deserialize(blob).serialize_compact()))
    return images


HLL_IMAGES = _valid_hll_images()
# The LIST image of two values with its coupon count byte set to 12 and 255: datasketches 5.2
# copies that many coupons into 8 slots ("corrupted size vs. prev_size", SIGABRT; or SIGSEGV).
CORRUPTING_HLL = [bytes.fromhex("0201070c03000c082f823b040aff8004" + "00" * 24),
                  bytes.fromhex("0201070c0300ff082f823b040aff8004" + "00" * 24)]


@st.composite
def hll_blobs(draw: st.DrawFn) -> bytes:
    """Valid HLL images with header bytes, counts or lengths changed; sometimes just random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64))
    blob = bytearray(draw(st.sampled_from(HLL_IMAGES)))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["byte", "header", "count", "truncate", "extend"]))
        if action == "byte" and blob:
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
        elif action == "header" and blob:
            blob[draw(st.integers(0, min(7, len(blob) - 1)))] = draw(st.integers(0, 255))
        elif action == "count" and len(blob) >= 12:
            struct.pack_into("<I", blob, 8, draw(st.integers(0, 2**32 - 1)))
        elif action == "truncate":
            del blob[draw(st.integers(0, len(blob))):]
        elif action == "extend":
            blob.extend(draw(st.binary(min_size=1, max_size=64)))
    return bytes(blob)


def _kll_image(values: list[float]) -> bytes:
    import datasketches

    sketch = datasketches.kll_doubles_sketch(200)
    for v in values:
        sketch.update(v)
    return bytes(sketch.serialize())


KLL_IMAGES = [_kll_image([float(i) for i in range(n)]) for n in (0, 1, 2, 50, 1000)]


@st.composite
def kll_blobs(draw: st.DrawFn) -> bytes:
    blob = bytearray(draw(st.sampled_from(KLL_IMAGES)))
    for _ in range(draw(st.integers(1, 3))):
        if blob and draw(st.booleans()):
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
        else:
            del blob[draw(st.integers(0, len(blob))):]
    return bytes(blob)


def check_kll(blob: bytes) -> None:
    sketch = from_datasketches(blob)
    sketch.quantile(0.5)
    sketch.merge(KllSketch.from_values([1.0, 2.0]))


def check_hll(blob: bytes) -> bytes | None:
    """Validate only (pure Python); the bytes that pass are decoded natively in a child process."""
    hll.validate(blob)
    return blob


def decode_in_child(blobs: list[bytes], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Decode, estimate and union every blob with DataSketches in ONE child process."""
    payload = "\n".join(base64.b64encode(b).decode() for b in blobs)
    return subprocess.run([sys.executable, "-m", "tests.fuzz_targets", "decode-hll"], input=payload,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _decode_hll_stdin() -> int:
    import datasketches

    done = 0
    for line in sys.stdin:
        if line.strip():
            blob = base64.b64decode(line)
            value = hll.estimate(blob)
            assert math.isfinite(value)
            hll.union(blob, HLL_IMAGES[0])
            hll.union(blob, blob, lg_k=4)
            datasketches.hll_sketch.deserialize(blob).get_upper_bound(2)
            done += 1
    print(f"decoded {done}")
    return 0


# ----------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A reader under fuzz: `read(input)` must return or raise one of `allowed`."""

    name: str
    inputs: st.SearchStrategy[Any]
    read: Callable[[Any], Any]
    allowed: tuple[type[BaseException], ...]


def holds(target: Target, examples: int) -> None:
    """The property, as a test runs it: `examples` inputs, each a value or one of `target.allowed`."""
    import contextlib

    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(target.inputs)
    def check(value: Any) -> None:
        with contextlib.suppress(*target.allowed):
            target.read(value)

    check()


def _statistics_document() -> dict[str, Any]:
    from monitor_service.core.profile import ColumnProfile, DatasetProfile, NumericState
    from monitor_service.core.statistics import to_statistics_json
    from monitor_service.core.types import InferredType

    numbers = [float(i % 17) for i in range(300)]
    kll = KllSketch.from_values(numbers, k=64)
    num = ColumnProfile(name="age", inferred_type=InferredType.INTEGRAL, num_present=300.0, num_missing=2.0,
                        type_counts={"Integral": 300.0, "Unknown": 2.0},
                        numeric=NumericState(count=300.0, sum=sum(numbers), mean=8.0, std_dev=4.9, min=0.0,
                                             max=16.0, kll=kll),
                        distinct_count=17.0, hll=hll.sketch_of(str(int(v)) for v in numbers),
                        histogram={str(v): 17.0 for v in range(17)}, position=0)
    text = ColumnProfile(name="city", inferred_type=InferredType.STRING, num_present=302.0, num_missing=0.0,
                         type_counts={"String": 302.0}, distinct_count=2.0, hll=hll.sketch_of(["Oslo", "Lima"]),
                         histogram={"Oslo": 200.0, "Lima": 102.0}, position=1, domain_matches=300.0)
    document = to_statistics_json(DatasetProfile(item_count=302.0, columns=[num, text]), {"age": {"psi": 0.1}})
    return json.loads(json.dumps(document))


def _read_statistics(document: Any) -> Any:
    from monitor_service.core.merge import merge_profiles
    from monitor_service.core.statistics import from_statistics_json, to_statistics_json

    profile = from_statistics_json(document).profile
    merge_profiles(profile, profile)  # HLL unions and KLL merges of whatever passed validation
    return to_statistics_json(profile)


def _fixture(name: str) -> Any:
    from tests.conftest import FIXTURES

    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seeded(*documents: Any) -> st.SearchStrategy[Any]:
    """Mutations of one of `documents` (real SageMaker files and files of ours)."""
    return st.sampled_from(documents).flatmap(mutated)


def _read_constraints(document: Any) -> Any:
    from monitor_service.core.constraints import Constraints

    constraints = Constraints.from_dict(document)
    for feature in constraints.features:
        constraints.settings_for(feature.name)
    return constraints.to_dict()


def _model_quality_documents() -> list[dict[str, Any]]:
    binary = {"binary_classification_constraints": {
        "auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"},
        "accuracy": {"threshold": 0.6, "comparison_operator": "LessThanThreshold"}}}
    return [
        {"statistics": _fixture("model_quality_statistics_binary_classification_model_card_example.json"),
         "constraints": binary, "calibration": {"x": [0.0, 0.5, 1.0], "y": [0.1, 0.4, 0.9]}},
        {"statistics": _fixture("model_quality_statistics_regression.json"),
         "constraints": _fixture("model_quality_constraints_regression.json")},
    ]


def _read_model_quality(documents: Any) -> None:
    from monitor_service.monitors.model_quality.settings import check_files

    if not isinstance(documents, dict):
        raise FormatError("not an object")
    check_files(statistics=documents.get("statistics"), constraints=documents.get("constraints"),
                calibration=documents.get("calibration"))


def _ground_truth_batch() -> dict[str, Any]:
    return {"labels": [{"inference_id": "a-1", "label": 1}, {"inference_id": "a-2", "label": {"y": [1, 0]}},
                       {"inference_id": "a-3", "label": "cat"}]}


def _read_ground_truth(body: Any) -> Any:
    from monitor_service.ground_truth.store import GroundTruthBatch, ground_truth_record

    batch = GroundTruthBatch.model_validate(body)
    return [json.dumps(ground_truth_record(item.inference_id, item.label)) for item in batch.labels]


_CRON_TOKEN = st.one_of(
    st.sampled_from(["*", "?", "0", "1", "7", "13", "31", "59", "60", "L", "W", "#", "MON", "sun", "JAN", "-1", ""]),
    st.integers(0, 10**30).map(str),
    st.builds(lambda a, b: f"{a}-{b}", st.integers(0, 70), st.integers(0, 70)),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(["*", "0", "1", "5"]), st.integers(0, 10**25)),
    st.builds(lambda a, b: f"{a},{b}", st.integers(0, 9), st.integers(0, 99)),
    st.sampled_from(["1970", "2000", "2026", "2099", "9999", "10000", "2026-2027", "1970-2100"]),
)
SCHEDULE_EXPRESSIONS = st.one_of(
    st.sampled_from(["cron(0 * ? * * *)", "cron(0 0/6 ? * * *)", "cron(15 8 ? * MON-FRI *)", "*/15 * * * *",
                     "0 9 * * 1-5", "rate(1 hour)", "rate(30 minutes)", "rate(2 days)", "cron(0 0 1 * ? *)"]),
    st.lists(_CRON_TOKEN, min_size=6, max_size=6).map(lambda f: f"cron({' '.join(f)})"),
    st.lists(_CRON_TOKEN, min_size=5, max_size=5).map(" ".join),
    st.builds(lambda n, u: f"rate({n} {u})", st.one_of(st.integers(-5, 10**6), st.integers(0, 10**40)),
              st.sampled_from(["minute", "minutes", "hour", "hours", "day", "days", "weeks", "second"])),
    st.text(max_size=40),
)
OFFSETS = st.one_of(
    st.sampled_from(["-PT1H", "-PT2H", "-P1D", "-PT30M", "-P1W", "PT0S", "-PT1H30M", "-P366D", "-P367D"]),
    st.builds(lambda sign, amounts: sign + "P" + amounts, st.sampled_from(["", "-", "+"]),
              st.lists(st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10**24), st.sampled_from("WDYM")),
                       max_size=2).map("".join)
              .flatmap(lambda date: st.builds(lambda t: date + t, st.sampled_from(
                  ["", "T1H", "T30M", "T0.5S", "T99999999999999999999H", "T", "T1H2M3S"])))),
    st.text(max_size=20),
)


def _schedule(expression: str) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor_service.scheduler.expressions import check_fires, parse_schedule_expression, window_for

    parsed = parse_schedule_expression(expression)
    now = datetime(2026, 5, 1, 13, 7, tzinfo=UTC)
    check_fires(parsed, now, None)
    for fire in parsed.fire_times(now, now + timedelta(days=400), limit=3):
        window_for(parsed, fire, None, None)
        window_for(parsed, fire, timedelta(days=-366), timedelta(0))


def _offsets(pair: tuple[str, str]) -> None:
    from datetime import UTC, datetime

    from monitor_service.scheduler.expressions import check_offsets, parse_offset, parse_schedule_expression, window_for

    start, end = (parse_offset(text) for text in pair)
    check_offsets(start, end)
    window_for(parse_schedule_expression("rate(1 hour)"), datetime(2026, 5, 1, tzinfo=UTC), start, end)


def schedule_targets() -> list[Target]:
    from monitor_service.scheduler.expressions import ExpressionError

    return [Target("schedule expressions", SCHEDULE_EXPRESSIONS, _schedule, (ExpressionError,)),
            Target("window offsets", st.tuples(OFFSETS, OFFSETS), _offsets, (ExpressionError,))]


def _validation_errors() -> tuple[type[BaseException], ...]:
    from pydantic import ValidationError

    return (ValidationError, MonitorError)


def reader_targets() -> list[Target]:
    """The file and document readers (statistics, constraints, model quality, ground truth, sketches)."""
    validation = _validation_errors()
    return [
        Target("statistics.json", seeded(_statistics_document(),
                                         _fixture("data_quality_statistics_numeric_6features.json"),
                                         _fixture("data_quality_statistics_string_feature_sdk_test.json")),
               _read_statistics, (FormatError,)),
        Target("constraints.json", seeded(_fixture("data_quality_constraints_numeric_6features.json"),
                                          _fixture("data_quality_constraints_legacy_fields_sdk_test.json"),
                                          _fixture("data_quality_constraints_numeric_6features_bad_case.json")),
               _read_constraints, (FormatError,)),
        Target("model-quality files", seeded(*_model_quality_documents()), _read_model_quality, (MonitorError,)),
        Target("ground-truth batch", seeded(_ground_truth_batch()), _read_ground_truth, validation),
        Target("HLL sketch bytes", hll_blobs(), check_hll, (FormatError,)),
        Target("KLL sketch bytes", kll_blobs(), check_kll, (FormatError,)),
    ]


# ----------------------------------------------------------------------------- capture lines


def _capture_seeds() -> list[bytes]:
    from tests.conftest import FIXTURES

    lines: list[bytes] = []
    for name in ("capture_endpoint_csv_xgb_churn.jsonl", "capture_endpoint_json_sdk_test.jsonl",
                 "capture_endpoint_json_in_base64_out_with_inference_id_issue2629.jsonl",
                 "capture_endpoint_jsonlines_multirecord_adult.jsonl"):
        lines.extend(line for line in (FIXTURES / name).read_bytes().splitlines()[:3] if line.strip())
    return lines


CAPTURE_SEEDS = _capture_seeds()


@st.composite
def capture_lines(draw: st.DrawFn) -> bytes:
    """Fixture capture lines, mutated as JSON (a field replaced, dropped, re-encoded) or as bytes."""
    line = draw(st.sampled_from(CAPTURE_SEEDS))
    kind = draw(st.sampled_from(["json", "json", "bytes", "raw"]))
    if kind == "raw":
        return draw(st.binary(max_size=300))
    if kind == "bytes":
        data = bytearray(line)
        for _ in range(draw(st.integers(1, 3))):
            if data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    return json.dumps(draw(mutated(json.loads(line)))).encode()


def _capture_line(raw: bytes) -> Any:
    """The parsed envelope (and each side's record names), or the line's quarantine reason."""
    from monitor_service.core.capture_line import CaptureLine, parse_capture_line, record_names

    parsed = parse_capture_line(raw, max_line_bytes=4096)
    if isinstance(parsed, CaptureLine):
        for side in (parsed.input, parsed.output):
            if side is not None:
                record_names(side.text)
    return parsed


def capture_targets() -> list[Target]:
    return [Target("capture lines (pure-Python envelope)", capture_lines(), _capture_line, ())]


# ----------------------------------------------------------------------------- API request bodies


def request_seeds() -> dict[tuple[str, str], list[Any]]:
    """Valid bodies of every route that takes one, by (method, path): what mutations start from."""
    statistics = _fixture("data_quality_statistics_numeric_6features.json")
    constraints = _fixture("data_quality_constraints_numeric_6features.json")
    window = {"start": "2024-05-01T00:00:00Z", "end": "2024-05-01T02:00:00+01:00"}
    dq_input = {"path": "/data/capture", "format": "capture",
                "dataset_config": {"input": {"names": ["a", "b"]}, "output": {"names": ["score"]},
                                   "csv_delimiter": ";", "max_line_bytes": 4096}}
    mq = {"problem_type": "BinaryClassification", "probability_attribute": "0", "ground_truth": "/data/labels"}
    return {
        ("POST", "/api/v1/baselines"): [
            {"name": "b", "statistics": statistics, "constraints": constraints},
            {"name": "m", "monitor_type": "ModelQuality", **_model_quality_documents()[0]}],
        ("POST", "/api/v1/baseline-jobs"): [
            {"name": "j", "input": dq_input},
            {"name": "k", "monitor_type": "ModelQuality", "input": {"path": "/data/t.csv", "format": "csv"},
             "model_quality": mq}],
        ("PUT", "/api/v1/baselines/{baseline_id}/constraints"): [constraints],
        ("PUT", "/api/v1/baselines/{baseline_id}/documents/{name}"): [constraints, statistics],
        ("PATCH", "/api/v1/baselines/{baseline_id}/constraints"): [
            {"datatype_check_threshold": 0.9, "drift": {"method": "psi", "threshold": 0.2},
             "checks": {"all": True}, "features": {"_c0": {"completeness": 0.5, "checks": {"all": False}}}}],
        ("POST", "/api/v1/schedules"): [
            {"name": "s", "input": dq_input, "baseline_id": "b", "schedule_expression": "cron(0 * ? * * *)",
             "start_offset": "-PT2H", "end_offset": "-PT1H"},
            {"name": "t", "monitor_type": "ModelQuality", "input": dq_input, "baseline_id": "b",
             "schedule_expression": "rate(1 hour)", "model_quality": mq}],
        ("PATCH", "/api/v1/schedules/{schedule_id}"): [{"status": "Stopped", "schedule_expression": "0 * * * *",
                                                         "input": dq_input}],
        ("POST", "/api/v1/schedules/{schedule_id}/executions"): [window],
        ("POST", "/api/v1/schedules/{schedule_id}/backfill"): [window],
        ("POST", "/api/v1/ground-truth"): [_ground_truth_batch(), _ground_truth_batch()["labels"]],
        ("POST", "/api/v1/webhooks"): [{"name": "w", "url": "https://hooks.example.com/x", "secret": "s" * 16,
                                        "events": ["execution.failed"], "schedule_id": None}],
        ("POST", "/api/v1/apikeys"): [{"role": "read", "name": "ci"}],
        ("PUT", "/api/v1/gateway/config"): [{
            "Models": [{"ModelName": "a", "PrimaryContainer": {"Image": "sklearn", "ModelDataUrl": "/models/a.skops"}}],
            "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
                {"VariantName": "Blue", "ModelName": "a", "InitialVariantWeight": 1.0}]}]}],
        ("POST", "/api/v1/gateway/endpoints/{endpoint_name}/weights"): [
            {"DesiredWeightsAndCapacities": [{"VariantName": "Blue", "DesiredWeight": 3.0,
                                              "DesiredInstanceCount": 2}]}],
    }


def body_type(route: Any) -> Any:
    """The body annotation of a FastAPI route as it validates it (its validators included)."""
    info = route.body_field.field_info
    return typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


def request_targets() -> list[Target]:
    """Every request body of the API, validated as FastAPI validates it (the route's body type)."""
    from pydantic import TypeAdapter

    from monitor_service.api import create_app
    from monitor_service.api.responses import api_routes
    from monitor_service.errors import ConfigError
    from monitor_service.settings import Settings

    seeds = request_seeds()
    targets = []
    for route in api_routes(create_app(Settings()).routes):
        if route.body_field is None:
            continue
        for method in sorted(route.methods):
            adapter = TypeAdapter(body_type(route))
            targets.append(Target(f"{method} {route.path}", seeded(*seeds[(method, route.path)]),
                                  adapter.validate_python, (*_validation_errors(), ConfigError)))
    return targets


if __name__ == "__main__":
    if sys.argv[1:] == ["decode-hll"]:
        sys.exit(_decode_hll_stdin())
    sys.exit(f"usage: python -m tests.fuzz_targets decode-hll < base64 lines ({sys.argv[1:]})")
