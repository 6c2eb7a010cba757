"""Synthetic SageMaker data capture for the demo, the benchmarks and tests.

Writes real capture JSONL (CSV payloads, outputs first as SageMaker lays them out) into the
`{endpoint}/{variant}/yyyy/mm/dd/hh/` folder layout. Values come from a seeded numpy
generator, so every run produces the same bytes; `drift` shifts and widens the numeric
features and skews the categorical one, which is what the demo's drifted window shows.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

CATEGORIES = ("red", "green", "blue", "black")
CATEGORY_P = (0.4, 0.3, 0.2, 0.1)
DRIFTED_CATEGORY_P = (0.1, 0.2, 0.3, 0.4)


@dataclass(frozen=True)
class CaptureShape:
    """What one generated capture record holds: numeric features, one categorical, one output."""

    numeric_features: int = 20
    categorical: bool = True

    def feature_names(self) -> list[str]:
        names = [f"f{i}" for i in range(self.numeric_features)]
        return [*names, "color"] if self.categorical else names


def generate_rows(rng: np.random.Generator, n: int, shape: CaptureShape, drift: float = 0.0) -> list[list[str]]:
    """`n` rows of [output, features...] as CSV strings; `drift` in [0, 1] moves the distribution."""
    means = np.arange(shape.numeric_features, dtype=float) % 5
    scales = 1.0 + (np.arange(shape.numeric_features) % 3)
    values = rng.normal(means + drift * 2.0 * scales, scales * (1.0 + drift), size=(n, shape.numeric_features))
    score = 1.0 / (1.0 + np.exp(-(values[:, 0] - means[0]) / scales[0]))
    columns = [[f"{s:.6f}" for s in score]]
    for j in range(shape.numeric_features):
        columns.append([f"{v:.4f}" for v in values[:, j]] if j % 4 else [str(round(v)) for v in values[:, j]])
    if shape.categorical:
        p = DRIFTED_CATEGORY_P if drift > 0 else CATEGORY_P
        columns.append(list(rng.choice(CATEGORIES, size=n, p=p)))
    return [list(row) for row in zip(*columns, strict=True)]


def capture_line(
    output: str, features: list[str], when: datetime, event_id: str, inference_id: str | None = None
) -> str:
    metadata: dict[str, str] = {"eventId": event_id, "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": ",".join(features),
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": output,
                    "encoding": "CSV",
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def write_capture_hour(
    root: Path,
    hour: datetime,
    n: int,
    shape: CaptureShape,
    seed: int,
    drift: float = 0.0,
    endpoint: str = "demo-endpoint",
    variant: str = "AllTraffic",
) -> Path:
    """Write one hour of capture to `{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/`; returns the file."""
    rng = np.random.default_rng(seed)
    folder = root / endpoint / variant / hour.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hour.strftime('%M-%S')}-000-{uuid.UUID(int=seed).hex[:8]}.jsonl"
    rows = generate_rows(rng, n, shape, drift)
    step = 3600.0 / max(n, 1)
    with path.open("w", encoding="utf-8") as handle:
        for i, row in enumerate(rows):
            when = hour + timedelta(seconds=i * step)
            event = str(uuid.UUID(int=(seed << 32) + i))
            handle.write(capture_line(row[0], row[1:], when, event, inference_id=f"inf-{seed}-{i}") + "\n")
    return path


def write_capture_file(
    path: Path, n: int, shape: CaptureShape, seed: int, start: datetime, drift: float = 0.0, chunk: int = 100_000
) -> int:
    """Write `n` capture lines into one file in chunks (bounded memory); returns bytes written."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for offset in range(0, n, chunk):
            rows = generate_rows(rng, min(chunk, n - offset), shape, drift)
            lines = []
            for i, row in enumerate(rows, start=offset):
                when = start + timedelta(milliseconds=i * 10)
                lines.append(capture_line(row[0], row[1:], when, str(uuid.UUID(int=(seed << 40) + i))))
            handle.write("\n".join(lines) + "\n")
    return path.stat().st_size
