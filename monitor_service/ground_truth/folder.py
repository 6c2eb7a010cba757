"""The service's own ground-truth folder, `{artifact_root}/ground-truth`, and when its labels count.

Labels posted over REST land here (one SageMaker ground-truth file per batch, in the hour folder
of its arrival); every monitor that merges labels (model quality, bias) reads this folder unless
its settings name another one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor_service.ground_truth.store import GroundTruthBatch, StoredBatch, store_labels
from monitor_service.store.artifacts import ArtifactStore

GROUND_TRUTH_FOLDER = "ground-truth"


def ground_truth_folder(artifacts: ArtifactStore) -> str:
    """`{artifact_root}/ground-truth`, created if missing (a run before the first label finds it empty)."""
    folder = artifacts.path(GROUND_TRUTH_FOLDER)
    artifacts.ensure_folder(folder)
    return folder


def store_ground_truth(artifacts: ArtifactStore, batch: GroundTruthBatch, *, now: datetime) -> StoredBatch:
    """Write one REST batch of labels as a ground-truth file received at `now`."""
    return store_labels(ground_truth_folder(artifacts), batch, collected_at=now)


def available_from(collected_at: datetime) -> datetime:
    """When labels received at `collected_at` start to count: the end of their hour folder
    (the availability rule of `spark.ground_truth.read_ground_truth`)."""
    return collected_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
