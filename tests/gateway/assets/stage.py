"""A pipeline stage for the gateway tests: appends its name (from `stage.txt` in its model folder) to a trace.

The first stage turns CSV into `{"rows": [...], "trace": [name]}`; later ones add their name.
"""

import json
from pathlib import Path


def model_fn(model_dir):
    return (Path(model_dir) / "stage.txt").read_text().strip()


def transform_fn(model, body, content_type, accept):
    if content_type.startswith("text/csv"):
        doc = {"rows": [line.split(",") for line in body.decode().splitlines() if line], "trace": []}
    else:
        doc = json.loads(body)
    doc["trace"].append(model)
    return json.dumps(doc), "application/json"
