"""Generated model-quality data: a labelled baseline and one hour of capture whose labels arrive late.

Used by the model-quality demo and the CLI tests. A binary classifier scores records with a
probability `p`; in the baseline the label is drawn with probability `p` (a calibrated, useful
model). In the capture window (2024-05-01 10:00-11:00) the label is drawn with probability
`0.5 + window_skill * (q - 0.5)`, so `window_skill=0` makes the model useless and values between
0 and 1 make it worse than in the baseline.

Ground truth is written as SageMaker ground-truth JSONL under `gt/yyyy/mm/dd/hh/`, keyed by
inferenceId: the first two thirds of the window's records are labelled in hour folder 11
(available from 12:00), the next sixth in hour folder 13 (available from 14:00, so late for an
execution at 12:00), and the last sixth never. With `superseded=k` the first k ids first get the
wrong label in hour folder 10, which the hour-11 label then replaces (the latest label wins).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

WINDOW_START = "2024-05-01T10:00:00Z"
WINDOW_END = "2024-05-01T11:00:00Z"
EXECUTION_TIME = "2024-05-01T12:00:00Z"


def write_late_label_files(
    root: Path,
    *,
    baseline_records: int = 300,
    window_records: int = 120,
    window_skill: float = 0.0,
    predicted_label: bool = False,
    superseded: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Write `baseline.csv`, `capture/2024/05/01/10/` and `gt/`; return the drawn arrays and id ranges.

    `baseline.csv` has the columns `probability,prediction,label`. A capture record's output is
    CSV `probability` (or `probability,predicted_label` with `predicted_label=True`).
    """
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0, 1, baseline_records), 2)
    y = (rng.uniform(0, 1, baseline_records) < p).astype(int)
    lines = ["probability,prediction,label"] + [f"{a},{int(a >= 0.5)},{b}" for a, b in zip(p, y, strict=True)]
    (root / "baseline.csv").write_text("\n".join(lines) + "\n")

    capture = root / "capture" / "2024" / "05" / "01" / "10"
    capture.mkdir(parents=True)
    q = np.round(rng.uniform(0, 1, window_records), 2)
    truth = (rng.uniform(0, 1, window_records) < 0.5 + window_skill * (q - 0.5)).astype(int)
    outputs = [f"{s},{int(s >= 0.5)}" if predicted_label else str(s) for s in q]
    records = [json.dumps({
        "captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": f"{i},{i % 7}", "encoding": "CSV"},
                        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                           "data": outputs[i], "encoding": "CSV"}},
        "eventMetadata": {"eventId": f"evt-{i}", "inferenceId": f"id-{i}",
                          "inferenceTime": f"2024-05-01T10:{i % 60:02d}:00Z"},
        "eventVersion": "0"}) for i in range(window_records)]
    (capture / "00-00-000-x.jsonl").write_text("\n".join(records) + "\n")

    labelled_now = range(0, window_records * 2 // 3)
    late = range(labelled_now.stop, window_records * 5 // 6)  # the rest never gets a label
    batches = [("10", range(superseded), 1 - truth)] if superseded else []
    batches += [("11", labelled_now, truth), ("13", late, truth)]
    for hour, ids, values in batches:
        folder = root / "gt" / "2024" / "05" / "01" / hour
        folder.mkdir(parents=True)
        (folder / "labels.jsonl").write_text("".join(json.dumps({
            "groundTruthData": {"data": str(values[i]), "encoding": "CSV"},
            "eventMetadata": {"eventId": f"id-{i}"}, "eventVersion": "0"}) + "\n" for i in ids))
    return {"p": p, "y": y, "q": q, "truth": truth, "labelled_now": labelled_now, "late": late}
