"""Request bodies and response parsing for model servers, in Clarify's conventions.

Requests: `text/csv` sends one CSV line per record; `application/jsonlines` one line per record
from `content_template` (`$features` = the record's values as a JSON list, `$record` = a JSON
object by feature name); `application/json` one document from `content_template` in which
`$records` is the list of records built by `record_template` (or, without `$records`, one record).

Responses: `label` / `probability` locate the prediction, as a column index in CSV lines or a
JMESPath expression in JSON (per line for JSON Lines, over the whole body for `application/json`).
Without a locator a record's whole answer is used: a number, or a list of numbers (one per output).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.config import EndpointConfig


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_value(value: Any) -> str:
    value = _json_value(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _fill(template: str, row: np.ndarray, feature_names: list[str] | None) -> str:
    values = [_json_value(v) for v in row]
    text = template.replace("$features", json.dumps(values))
    if "$record" in text.replace("$records", ""):
        if feature_names is None:
            raise ModelError(
                "content_template uses $record but the feature names are unknown",
                hint="give the analysis config headers, or use $features",
            )
        text = text.replace("$record", json.dumps(dict(zip(feature_names, values, strict=True))))
    return text


def records_per_request(config: EndpointConfig) -> int:
    """JSON bodies without `$records` carry one record each."""
    if config.content_type == "application/json" and "$records" not in config.effective_content_template():
        return 1
    return config.max_batch_size


def request_body(config: EndpointConfig, rows: np.ndarray, feature_names: list[str] | None) -> bytes:
    if config.content_type == "text/csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])
        return buffer.getvalue().encode("utf-8")
    template = config.effective_content_template()
    if config.content_type == "application/jsonlines":
        return "\n".join(_fill(template, row, feature_names) for row in rows).encode("utf-8")
    if "$records" in template:
        records = ",".join(_fill(config.record_template, row, feature_names) for row in rows)
        return template.replace("$records", f"[{records}]").encode("utf-8")
    return _fill(template, rows[0], feature_names).encode("utf-8")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ModelError(f"the endpoint's {what} {value!r} is not a number", hint="point predictor.probability at a score")


def _scores(value: Any, what: str) -> list[float]:
    if isinstance(value, list):
        return [_number(v, what) for v in value]
    if isinstance(value, dict):
        raise ModelError(
            f"the endpoint answered an object {list(value)[:5]} where a score was expected",
            hint="set predictor.probability (a JMESPath such as 'score') to pick the score",
        )
    return [_number(value, what)]


def _search(expression: str, document: Any) -> Any:
    import jmespath

    try:
        return jmespath.search(expression, document)
    except jmespath.exceptions.JMESPathError as exc:
        raise ModelError(
            f"JMESPath {expression!r} is invalid: {exc}", hint="fix predictor.label / probability"
        ) from None


def parse_response(config: EndpointConfig, body: bytes, count: int) -> tuple[list[list[float]], list[str] | None]:
    """Scores per record (one list of outputs each) and, when `label` is set, labels per record."""
    kind = config.response_type()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError("the endpoint's answer is not UTF-8 text", hint=f"check accept_type ({kind})") from None
    if kind == "text/csv":
        return _parse_csv(config, text, count)
    if kind == "application/jsonlines":
        documents = [_loads(line) for line in text.splitlines() if line.strip()]
        scored = [(_pick(config.probability, d), _pick(config.label, d) if config.label is not None else None)
                  for d in documents]
        scores = [_scores(s, "score") for s, _ in scored]
        labels = [str(lab) for _, lab in scored] if config.label is not None else None
        return scores, labels
    document = _loads(text)
    values = _per_record(_pick(config.probability, document) if config.probability is not None else _records(document),
                         count)
    scores = [_scores(v, "score") for v in values]
    labels = None
    if config.label is not None:
        labels = [str(v) for v in _per_record(_pick(config.label, document), count)]
    return scores, labels


def _per_record(values: Any, count: int) -> list[Any]:
    """One answer per record; a one-record request may be answered by a bare value or score list."""
    if count == 1 and not (isinstance(values, list) and len(values) == 1):
        return [values]
    if not isinstance(values, list):
        raise ModelError(
            f"the endpoint answered {str(values)[:80]!r} where a list of {count} predictions was expected",
            hint="set predictor.probability to a JMESPath that selects one score per record",
        )
    return values


def _records(document: Any) -> Any:
    """A body without a locator: a list of answers, or SageMaker's {"predictions": [...]}."""
    if isinstance(document, dict) and isinstance(document.get("predictions"), list):
        return document["predictions"]
    return document


def _pick(locator: int | str | None, document: Any) -> Any:
    if locator is None:
        return document
    if isinstance(locator, int):
        if isinstance(document, list) and locator < len(document):
            return document[locator]
        raise ModelError(f"the endpoint's answer {str(document)[:80]} has no element {locator}")
    return _search(locator, document)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"the endpoint's answer is not valid JSON: {exc.msg} (answer starts {text[:80]!r})",
            hint="check predictor.accept_type",
        ) from None


def _parse_csv(config: EndpointConfig, text: str, count: int) -> tuple[list[list[float]], list[str] | None]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    if len(rows) == 1 and count > 1 and len(rows[0]) == count and config.probability is None and config.label is None:
        rows = [[v] for v in rows[0]]  # SageMaker XGBoost's single line of one score per record
    scores: list[list[float]] = []
    labels: list[str] | None = [] if config.label is not None else None
    for row in rows:
        if config.probability is not None:
            scores.append([_number(_pick(config.probability, row), "score")])
        elif config.label is not None:
            scores.append([_number(_pick(config.label, row), "label")])
        else:
            scores.append([_number(v, "score") for v in row])
        if labels is not None:
            labels.append(str(_pick(config.label, row)).strip())
    return scores, labels
