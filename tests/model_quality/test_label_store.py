"""REST labels stored as SageMaker ground-truth files."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor_service.ground_truth.store import GroundTruthBatch, store_labels


def test_batch_is_written_as_sagemaker_ground_truth(tmp_path: Path, fixtures_dir: Path) -> None:
    batch = GroundTruthBatch.model_validate({"labels": [
        {"inference_id": "a", "label": 1}, {"inference_id": "b", "label": True},
        {"inference_id": "c", "label": {"label": 0}}, {"inference_id": "a", "label": 0}]})
    when = datetime(2024, 5, 1, 13, 7, 9, 123456, tzinfo=UTC)
    stored = store_labels(str(tmp_path / "ground-truth"), batch, when)
    assert re.fullmatch(r".*/ground-truth/2024/05/01/13/07-09-123456-[0-9a-f]{32}\.jsonl", stored.path)
    assert (stored.labels, stored.distinct_ids) == (4, 3)
    records = [json.loads(line) for line in Path(stored.path).read_text().splitlines()]
    reference = json.loads((fixtures_dir / "ground_truth_merge_input_sdk_test.jsonl").read_text().splitlines()[0])
    for record in records:
        assert set(record) == set(reference)
        assert set(record["groundTruthData"]) == set(reference["groundTruthData"])
    assert [r["groundTruthData"] for r in records] == [
        {"data": "1", "encoding": "CSV"}, {"data": "1", "encoding": "CSV"},
        {"data": '{"label":0}', "encoding": "JSON"}, {"data": "0", "encoding": "CSV"}]
    assert [r["eventMetadata"]["eventId"] for r in records] == ["a", "b", "c", "a"]


def test_bare_list_and_validation() -> None:
    assert len(GroundTruthBatch.model_validate([{"inference_id": "x", "label": "cat"}]).labels) == 1
    for bad in ([], [{"inference_id": " ", "label": 1}], [{"inference_id": "x"}],
                [{"inference_id": "x", "label": 1, "extra": 2}]):
        with pytest.raises(ValidationError):
            GroundTruthBatch.model_validate(bad)
