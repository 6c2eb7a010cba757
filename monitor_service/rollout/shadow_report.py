"""The shadow test's comparison report: the shadow against production on the same requests.

Both variants' capture lines carry the same event id (the gateway mirrors the production request
and captures the shadow's answer with the production line's ids), so they join exactly. The report
gives the agreement rate (answers equal: as numbers within `tolerance` when both are numbers, else
as text), the distribution of the numeric prediction difference (shadow - production, first CSV
field or JSON number), and, when ground truth is given (SageMaker's ground-truth JSONL, joined by
inference id), each variant's accuracy and mean absolute error against the labels. Written as
`comparison.json` and a self-contained `report.html`; a line that does not parse is counted, never
fatal.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor_service import io
from monitor_service.errors import InputError
from monitor_service.reports.html import Section, figure, key_values, paragraph, render_page, table, write_report


@dataclass
class Side:
    answers: dict[str, str] = field(default_factory=dict)  # event id -> answer text
    inference_ids: dict[str, str] = field(default_factory=dict)  # event id -> inference id
    bad_lines: int = 0


def _files(root: str) -> Iterator[str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(root)
    if not fs.exists(path):
        return
    for name in sorted(fs.find(path)):
        if name.endswith(".jsonl"):
            yield name if not io.is_url(root) else fs.unstrip_protocol(name)


def _answer(output: dict[str, Any]) -> str:
    data = output.get("data", "")
    if output.get("encoding") == "BASE64":
        data = base64.b64decode(data).decode("utf-8", "replace")
    return str(data).strip()


def read_side(root: str) -> Side:
    side = Side()
    for path in _files(root):
        for line in io.read_text(path, "capture file").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                meta = record["eventMetadata"]
                side.answers[meta["eventId"]] = _answer(record["captureData"]["endpointOutput"])
                if meta.get("inferenceId"):
                    side.inference_ids[meta["eventId"]] = meta["inferenceId"]
            except (ValueError, KeyError, TypeError):
                side.bad_lines += 1
    return side


def read_labels(root: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for path in _files(root):
        for line in io.read_text(path, "ground-truth file").splitlines():
            try:
                record = json.loads(line)
                labels[record["eventMetadata"]["eventId"]] = str(record["groundTruthData"]["data"]).strip()
            except (ValueError, KeyError, TypeError):
                continue
    return labels


def _number(text: str) -> float | None:
    head = text.split(",")[0].split("\n")[0].strip()
    try:
        value = json.loads(head) if head.startswith("[") else float(head)
    except ValueError:
        return None
    if isinstance(value, list):
        value = value[0] if value and isinstance(value[0], int | float) else None
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _same(a: str, b: str, tolerance: float) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return abs(x - y) <= tolerance
    return a == b


def _quality(side: Side, labels: dict[str, str], ids: list[str]) -> dict[str, Any]:
    hits = total = 0
    errors = []
    for event in ids:
        label = labels.get(side.inference_ids.get(event, event))
        if label is None:
            continue
        total += 1
        answer = side.answers[event]
        hits += _same(answer, label, 0.0)
        x, y = _number(answer), _number(label)
        if x is not None and y is not None:
            errors.append(abs(x - y))
    return {"labelled": total, "accuracy": hits / total if total else None,
            "mae": sum(errors) / len(errors) if errors else None}


def compare(capture: str, endpoint: str, production: str, shadow: str, *, ground_truth: str | None = None,
            tolerance: float = 0.0) -> dict[str, Any]:
    base = io.join(capture, endpoint)
    prod, shad = read_side(io.join(base, production)), read_side(io.join(base, shadow))
    if not prod.answers:
        raise InputError(f"no capture of production variant {production} under {base}",
                         hint="check the capture destination, endpoint and variant names")
    joined = sorted(set(prod.answers) & set(shad.answers))
    agree = sum(1 for e in joined if _same(prod.answers[e], shad.answers[e], tolerance))
    diffs = []
    for e in joined:
        x, y = _number(prod.answers[e]), _number(shad.answers[e])
        if x is not None and y is not None:
            diffs.append(y - x)
    result: dict[str, Any] = {
        "endpoint": endpoint, "production_variant": production, "shadow_variant": shadow,
        "production_answers": len(prod.answers), "shadow_answers": len(shad.answers), "joined": len(joined),
        "unmatched_shadow_answers": len(set(shad.answers) - set(prod.answers)),
        "bad_lines": prod.bad_lines + shad.bad_lines, "agreement_rate": agree / len(joined) if joined else None,
        "tolerance": tolerance, "difference": _summary(diffs), "differences": diffs,
    }
    if ground_truth is not None:
        labels = read_labels(ground_truth)
        result["quality"] = {production: _quality(prod, labels, joined), shadow: _quality(shad, labels, joined)}
    return result


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "max_abs": None}
    ordered = sorted(values)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))]

    return {"count": len(values), "mean": sum(values) / len(values), "p50": q(0.5), "p95": q(0.95),
            "max_abs": max(abs(v) for v in values)}


def write(result: dict[str, Any], output_dir: str) -> str:
    import plotly.graph_objects as go

    io.write_json_atomic(io.join(output_dir, "comparison.json"),
                         {k: v for k, v in result.items() if k != "differences"})
    summary = Section("Comparison").add(key_values([
        ("Endpoint", result["endpoint"]), ("Production", result["production_variant"]),
        ("Shadow", result["shadow_variant"]), ("Requests joined", result["joined"]),
        ("Agreement rate", result["agreement_rate"]), ("Unmatched shadow answers", result["unmatched_shadow_answers"]),
        ("Lines that did not parse", result["bad_lines"])]))
    sections = [summary]
    if result["differences"]:
        fig = go.Figure(go.Histogram(x=result["differences"], nbinsx=50))
        fig.update_layout(xaxis_title="shadow - production", yaxis_title="requests")
        sections.append(Section("Prediction difference").add(figure(fig)).add(
            table(("count", "mean", "p50", "p95", "max |diff|"), [tuple(result["difference"].values())])))
    if "quality" in result:
        rows = [(name, q["labelled"], q["accuracy"], q["mae"]) for name, q in result["quality"].items()]
        sections.append(Section("Quality against ground truth").add(table(("variant", "labelled", "accuracy", "MAE"),
                                                                          rows)))
    else:
        sections.append(Section("Quality against ground truth").add(
            paragraph("No ground truth given (--ground-truth): quality appears once labels arrive.", muted=True)))
    page = render_page(f"Shadow test: {result['shadow_variant']} against {result['production_variant']}",
                       f"endpoint {result['endpoint']}", sections)
    return write_report(output_dir, page)
