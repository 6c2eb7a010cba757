"""The capture record type: SageMaker's line, valid against the schema, lossless for any bytes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from monitor_service import schemas
from monitor_service.capture.record import CapturePayload, CaptureRecord, choose_encoding
from monitor_service.gateway.capture import sampled

TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(request=st.binary(max_size=300), response=st.text(max_size=200), when=TIMES,
       inference_id=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=64),
       custom=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=50),
       request_type=st.sampled_from(["text/csv", "application/json", "image/png", "text/csv; charset=utf-8"]))
def test_any_payload_round_trips_and_validates(request: bytes, response: str, when: datetime,
                                               inference_id: str | None, custom: str | None,
                                               request_type: str) -> None:
    encoding = choose_encoding(request_type, ["text/csv"], ["application/json"])
    record = CaptureRecord(event_id="e-1", inference_time=when, inference_id=inference_id,
                           endpoint_input=CapturePayload.of(request, request_type, "INPUT", encoding),
                           endpoint_output=CapturePayload.of(response.encode(), "text/csv", "OUTPUT", "CSV"),
                           custom_attributes=(custom,) if custom else ())
    line = record.to_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # one JSONL line, whatever the payload holds
    parsed = json.loads(line)
    schemas.validate("capture_record", parsed)
    side = parsed["captureData"]["endpointInput"]
    raw = base64.b64decode(side["data"]) if side["encoding"] == "BASE64" else side["data"].encode()
    assert raw == request
    assert parsed["eventMetadata"]["inferenceTime"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    back = CaptureRecord.from_line(line)
    assert back.endpoint_input is not None and back.endpoint_input.raw() == request
    assert back.inference_id == inference_id and back.endpoint_output == record.endpoint_output


def test_encoding_follows_the_content_type_lists() -> None:
    assert choose_encoding("text/csv; charset=utf-8", ["text/csv"], []) == "CSV"
    assert choose_encoding("Application/JSON", [], ["application/json"]) == "JSON"
    assert choose_encoding("text/html", ["text/csv"], ["application/json"]) == "BASE64"
    assert choose_encoding("text/csv", [], []) == "BASE64"  # no header configured: SageMaker's default
    assert CapturePayload.of(b"\xff\xfe", "text/csv", "INPUT", "CSV").encoding == "BASE64"  # not UTF-8


def test_sampling_is_a_pure_function_of_the_id() -> None:
    import hashlib

    ids = [f"id-{i}" for i in range(20_000)]
    picked = [i for i in ids if sampled(i, 10)]
    # Independent reference: the first 8 bytes of BLAKE2b below 10 % of 2^64.
    assert picked == [i for i in ids if int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "big")
                      < (1 << 64) // 10]
    assert all(sampled(i, 100) for i in ids[:100]) and not any(sampled(i, 0) for i in ids[:100])
    assert set(picked) <= {i for i in ids if sampled(i, 20)}  # a larger percentage keeps every sampled id
