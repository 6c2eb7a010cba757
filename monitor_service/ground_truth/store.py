"""Storing labels received over REST as SageMaker ground-truth files.

`POST /api/v1/ground-truth` batches are written as SageMaker ground-truth JSONL under
`{root}/yyyy/mm/dd/hh/{MM}-{SS}-{microseconds}-{uuid}.jsonl`, the hour being the UTC time the
labels were *received* (SageMaker's folders are by collection time). The Spark merge then
reads REST labels and files uploaded by users in exactly the same way.

Rule for repeated labels: for one inference id the label with the latest collection time wins
(hour folder, then file name, then line), so a correction is simply sent again. Re-sending a
batch is idempotent: it adds a file with the same labels, which the merge resolves to the same
result. Files are written atomically, so a running merge never reads half a batch.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor_service import io
from monitor_service.security.text import RequestModel

MAX_BATCH = 100_000

Label = str | int | float | bool | dict[str, Any] | list[Any]


class GroundTruthLabel(BaseModel):
    """One label: a scalar is stored CSV-encoded, an object or list JSON-encoded."""

    model_config = ConfigDict(extra="forbid")

    inference_id: str = Field(min_length=1, max_length=1024)
    label: Label

    @field_validator("inference_id")
    @classmethod
    def _no_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("inference_id must not be blank")
        return value


class GroundTruthBatch(RequestModel):
    """The request body: `{"labels": [{"inference_id": ..., "label": ...}, ...]}` or just the list."""

    model_config = ConfigDict(extra="forbid")

    labels: list[GroundTruthLabel] = Field(min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        """A bare JSON array of labels is accepted as the batch too."""
        return {"labels": value} if isinstance(value, list) else value


class StoredBatch(BaseModel):
    """What was written: the file and how many labels (distinct ids) it holds."""

    path: str
    labels: int
    distinct_ids: int
    collected_at: datetime


def ground_truth_record(inference_id: str, label: Label) -> dict[str, Any]:
    """The SageMaker ground-truth record for one label."""
    if isinstance(label, dict | list):
        data, encoding = json.dumps(label, separators=(",", ":")), "JSON"
    elif isinstance(label, bool):
        data, encoding = ("1" if label else "0"), "CSV"
    else:
        data, encoding = str(label), "CSV"
    return {"groundTruthData": {"data": data, "encoding": encoding},
            "eventMetadata": {"eventId": inference_id}, "eventVersion": "0"}


def batch_path(root: str, collected_at: datetime) -> str:
    """Where a batch received at `collected_at` goes (the name sorts by receive time)."""
    t = collected_at.astimezone(UTC)
    name = f"{t:%M}-{t:%S}-{t.microsecond:06d}-{uuid.uuid4().hex}.jsonl"
    return io.join(root, f"{t:%Y}", f"{t:%m}", f"{t:%d}", f"{t:%H}", name)


def store_labels(root: str, batch: GroundTruthBatch, collected_at: datetime | None = None) -> StoredBatch:
    """Write one batch as a ground-truth file under `root` (e.g. `{artifact_root}/ground-truth`).

    Within a batch a later entry for the same id also wins (the merge reads lines in order).
    """
    when = (collected_at or datetime.now(UTC)).astimezone(UTC)
    lines = [json.dumps(ground_truth_record(item.inference_id, item.label), separators=(",", ":"))
             for item in batch.labels]
    path = batch_path(root, when)
    io.write_text_atomic(path, "\n".join(lines) + "\n")
    return StoredBatch(path=path, labels=len(lines), distinct_ids=len({i.inference_id for i in batch.labels}),
                       collected_at=when)
