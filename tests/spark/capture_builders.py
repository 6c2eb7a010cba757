"""Builders for capture lines and small datasets used by the Spark tests.

Everything here is written with the standard library only, so expected values in the tests
never come from the code under test.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WINDOW_DAY = datetime(2024, 5, 1, tzinfo=UTC)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def side(data: str | None, content_type: str = "text/csv", encoding: str = "CSV",
         mode: str = "INPUT") -> dict[str, Any]:
    out: dict[str, Any] = {"observedContentType": content_type, "mode": mode, "encoding": encoding}
    if data is not None:
        out["data"] = data
    return out


def capture_dict(in_side: dict[str, Any] | None, out_side: dict[str, Any] | None, event_id: str,
                 inference_time: str | None) -> dict[str, Any]:
    capture: dict[str, Any] = {}
    if in_side is not None:
        capture["endpointInput"] = in_side
    if out_side is not None:
        capture["endpointOutput"] = {**out_side, "mode": "OUTPUT"}
    metadata: dict[str, Any] = {"eventId": event_id}
    if inference_time is not None:
        metadata["inferenceTime"] = inference_time
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def csv_capture(features: list[str], output: str, event_id: str, inference_time: str | None) -> str:
    """One capture line with a CSV request and a CSV response (SageMaker's common case)."""
    return json.dumps(capture_dict(side(",".join(features)), side(output, "text/csv; charset=utf-8"),
                                   event_id, inference_time))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def fields_of(row: Any) -> list[tuple[str, str | None]]:
    """A record row's fields as (name, value) pairs, in order."""
    return [(f["name"], f["value"]) for f in row["fields"]]
