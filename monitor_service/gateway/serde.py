"""SageMaker's default serialisation for the built-in frameworks: request bytes in, predictions out.

In: `text/csv` (one record per line, no header), `application/json` (`{"instances": [...]}`,
`{"inputs": [...]}`, a list of records or one record; a record is a list of values, `{"features":
[...]}` or an object of named values), `application/jsonlines` (one such record per line).
Out, by `Accept` (default: the request's type): `text/csv` one line per record, `application/json`
`{"predictions": [...]}` (a number per record for one output, a list for several), and
`application/jsonlines` one value per line. A payload that does not parse is the model's 400 with
the line and the reason; an unknown type is 415, as SageMaker's containers answer.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from monitor_service.capture.record import media_type
from monitor_service.errors import ModelInvocationError

CSV, JSON, JSONLINES = "text/csv", "application/json", "application/jsonlines"
_JSONLINES_ALIASES = {"application/jsonlines", "application/jsonl", "application/x-jsonlines", "application/json-lines"}


def kind_of(content_type: str | None) -> str | None:
    """`csv`, `json` or `jsonlines` for a content type, None when it is none of them."""
    kind = media_type(content_type)
    if kind == CSV:
        return "csv"
    if kind in _JSONLINES_ALIASES:
        return "jsonlines"
    if kind == JSON:
        return "json"
    return None


def decode(body: bytes, content_type: str | None) -> Any:
    """Request bytes -> a 2-D float array (or a DataFrame for records of named values)."""
    kind = kind_of(content_type)
    if kind is None:
        raise ModelInvocationError(415, f"content type {content_type!r} is not supported; send text/csv, "
                                   "application/json or application/jsonlines")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelInvocationError(400, f"the {kind} payload is not UTF-8 (byte {exc.start})") from exc
    if kind == "csv":
        return _csv_rows(text)
    if kind == "json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelInvocationError(400, f"the JSON payload does not parse: {exc.msg} at line {exc.lineno} "
                                       f"column {exc.colno}") from exc
        return _records(_json_records(obj), "JSON payload")
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ModelInvocationError(400, f"JSON Lines line {number} does not parse: {exc.msg}") from exc
    return _records(records, "JSON Lines payload")


def _csv_rows(text: str) -> np.ndarray:
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if not rows:
        raise ModelInvocationError(400, "the CSV payload holds no record")
    width = len(rows[0])
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise ModelInvocationError(400, f"CSV line {number} has {len(row)} values; line 1 has {width}")
    return _matrix(rows, "CSV")


def _matrix(rows: list[list[Any]], what: str) -> np.ndarray:
    try:
        return np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    for number, row in enumerate(rows, 1):
        for column, value in enumerate(row):
            try:
                float(value if value not in ("", None) else "nan")
            except (TypeError, ValueError):
                raise ModelInvocationError(400, f"{what} record {number} value {column + 1} ({value!r}) is not a "
                                           "number") from None
    return np.asarray([[float(v) if v not in ("", None) else math.nan for v in row] for row in rows])


def _json_records(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        for key in ("instances", "inputs"):
            if key in obj:
                value = obj[key]
                return value if isinstance(value, list) else [value]
        return [obj]
    if isinstance(obj, list):
        if obj and all(not isinstance(v, list | dict) for v in obj):
            return [obj]  # one record given as a flat list
        return obj
    raise ModelInvocationError(400, "the JSON payload must be an object or a list of records")


def _records(records: list[Any], what: str) -> Any:
    if not records:
        raise ModelInvocationError(400, f"the {what} holds no record")
    if all(isinstance(r, dict) and "features" in r for r in records):
        records = [r["features"] for r in records]
    if all(isinstance(r, dict) for r in records):
        import pandas as pd

        return pd.DataFrame.from_records(records)
    rows = [r if isinstance(r, list) else [r] for r in records]
    if any(isinstance(v, list | dict) for r in rows for v in r):
        raise ModelInvocationError(400, f"the {what}'s records must be flat lists of values")
    width = len(rows[0])
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise ModelInvocationError(400, f"{what} record {number} has {len(row)} values; record 1 has {width}")
    return _matrix(rows, what)


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text(value: Any) -> str:
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def response_type(accept: str | None, content_type: str | None) -> str:
    """The response type: Accept if usable, else the request's type if tabular, else JSON."""
    for candidate in (accept, content_type):
        kind = kind_of(candidate) if candidate and media_type(candidate) != "*/*" else None
        if kind is not None:
            return {"csv": CSV, "json": JSON, "jsonlines": JSONLINES}[kind]
    if accept and media_type(accept) not in ("", "*/*"):
        raise ModelInvocationError(406, f"Accept {accept!r} is not supported; ask for text/csv, application/json "
                                   "or application/jsonlines")
    return JSON


def encode(predictions: Any, accept: str | None, content_type: str | None) -> tuple[bytes, str]:
    """Predictions (n records x outputs) -> response bytes and their content type."""
    out_type = response_type(accept, content_type)
    rows = np.asarray(predictions)
    if rows.ndim == 0:
        rows = rows.reshape(1, 1)
    elif rows.ndim == 1:
        rows = rows.reshape(-1, 1)
    elif rows.ndim > 2:
        rows = rows.reshape(rows.shape[0], -1)
    if out_type == CSV:
        return "".join(",".join(_text(v) for v in row) + "\n" for row in rows).encode(), CSV
    values = [_scalar(row[0]) if len(row) == 1 else [_scalar(v) for v in row] for row in rows]
    if out_type == JSONLINES:
        return "".join(json.dumps(v) + "\n" for v in values).encode(), JSONLINES
    return json.dumps({"predictions": values}).encode(), JSON


def split_records(body: bytes, content_type: str | None) -> list[bytes]:
    """A payload's records as separate payloads of the same type (batch transform's SingleRecord)."""
    kind = kind_of(content_type)
    if kind == "json":
        return [json.dumps(r).encode() for r in _json_records(json.loads(body))]
    return [line + b"\n" for line in body.splitlines() if line.strip()]
