"""Ground truth: labels of captured inferences, posted in batches for the monitors that merge labels."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from monitor_service.api.deps import AdminAccess, ResourcesDep
from monitor_service.ground_truth.folder import available_from, store_ground_truth
from monitor_service.ground_truth.store import GroundTruthBatch

router = APIRouter(prefix="/api/v1", tags=["ground truth"], dependencies=[AdminAccess])

DESCRIPTION = """Store a batch of labels, `{"labels": [{"inference_id": "...", "label": 1}, ...]}` or just
the list, as a SageMaker ground-truth file under `{artifact_root}/ground-truth/yyyy/mm/dd/hh/` (the hour
the batch was received, UTC). `inference_id` is the capture record's `inferenceId` (or `eventId`); a
scalar label is stored CSV-encoded (`true`/`false` as `1`/`0`), an object or list JSON-encoded.

**Which label counts.** Every schedule reading this folder (ModelQuality, ModelBias) merges the labels into its
windows. A batch counts for executions whose execution time (the window's scheduled time) is at or
after `available_from`, the end of the hour it was received in, so re-running an execution always
sees the same labels. For one inference id the label received last wins (a later label replaces an
earlier one; within a batch, the later entry wins), so a correction is simply sent again.

**Idempotent.** Re-sending a batch (e.g. after a timeout) stores another file with the same labels,
which the merge resolves to the same result; it never counts a label twice."""


class GroundTruthStored(BaseModel):
    path: str = Field(description="The ground-truth file written")
    labels: int = Field(description="Labels in the batch")
    distinct_ids: int = Field(description="Distinct inference ids in the batch")
    collected_at: datetime = Field(description="When the batch was received")
    available_from: datetime = Field(description="Executions at or after this time use these labels")


@router.post("/ground-truth", status_code=status.HTTP_202_ACCEPTED, description=DESCRIPTION,
             summary="Store labels for the monitors that merge ground truth (a later label for an id wins)")
def post_ground_truth(body: GroundTruthBatch, resources: ResourcesDep) -> GroundTruthStored:
    stored = store_ground_truth(resources.artifacts, body, now=resources.clock.now())
    return GroundTruthStored(path=stored.path, labels=stored.labels, distinct_ids=stored.distinct_ids,
                             collected_at=stored.collected_at, available_from=available_from(stored.collected_at))
