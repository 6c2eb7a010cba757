"""Merging captures with late, duplicate, missing and malformed ground truth; SageMaker shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from monitor_service.monitors.model_quality.problem import ModelQualityAttributes
from monitor_service.monitors.model_quality.spark_metrics import aggregate, prepare
from monitor_service.monitors.model_quality.statistics import metric_block
from monitor_service.spark.ground_truth import read_ground_truth
from monitor_service.spark.merge import merge_with_ground_truth, write_merged

pytestmark = pytest.mark.spark
EXECUTION = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def gt(event_id: str, data: str, encoding: str = "CSV") -> str:
    return json.dumps({"groundTruthData": {"data": data, "encoding": encoding},
                       "eventMetadata": {"eventId": event_id}, "eventVersion": "0"})


def write(root: Path, hour: str, name: str, lines: list[str]) -> None:
    folder = root / "2024" / "05" / "01" / hour
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def test_merge_rules_and_merged_output(spark: Any, records: Callable[..., Any], tmp_path: Path,
                                       fixtures_dir: Path) -> None:
    root = tmp_path / "gt"
    write(root, "10", "00-01-000000-a.jsonl", [gt("e1", "0"), gt("e2", "0"), gt("e2", "1"), gt("e3", "1"),
                                               "not json", gt("e4", "0")])
    write(root, "11", "30-00-000000-b.jsonl", [gt("e1", "1"), gt("inf-6", '{"label": 1}', "JSON"),
                                               gt("e7", "1\n0")])
    write(root, "14", "00-00-000000-c.jsonl", [gt("e5", "1")])  # collected after the execution time
    captures = records(
        [{"_c0": p} for p in ("0.9", "0.8", "0.2", "0.1", "0.7", "0.6", "0.95", "0.05", "0.3")],
        event_ids=["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e7", "e8"],
        inference_ids=[None, None, None, None, None, "inf-6", None, None, None],
        record_indexes=[0, 0, 0, 0, 0, 0, 0, 1, 0])
    ground_truth = read_ground_truth(spark, str(root), EXECUTION)
    stats = ground_truth.stats()
    assert (stats.lines, stats.malformed, stats.late_files, stats.usable) == (9, 1, 1, 8)
    assert stats.superseded == 2  # e1 (later hour wins) and e2 (later line wins)
    merged = merge_with_ground_truth(captures, ground_truth.labels)
    merged = merged.cache()
    rows = {(r["event_id"], r["record_index"]): r for r in merged.collect()}
    truth = {k: (r["gt_fields"][0]["value"] if r["has_label"] else None) for k, r in rows.items()}
    assert truth == {("e1", 0): "1", ("e2", 0): "1", ("e3", 0): "1", ("e4", 0): "0", ("e5", 0): None,
                     ("e6", 0): "1", ("e7", 0): "1", ("e7", 1): "0", ("e8", 0): None}
    assert rows[("e6", 0)]["gt_fields"][0]["name"] == "label"
    # Without a ground-truth locator the label is each ground-truth record's first value.
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", probability_attribute="0")
    agg = aggregate(prepare(merged, attrs, "gt_fields"), attrs)
    assert agg.states == {"labelled": 7, "unlabelled": 2}
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    y = np.array([1, 1, 1, 0, 1, 1, 0])
    s = np.array([0.9, 0.8, 0.2, 0.1, 0.6, 0.95, 0.05])
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-9)
    assert sorted(r[0] for r in agg.unlabelled_scores[0]) == [0.3, 0.7]

    folder = write_merged(merged, str(tmp_path / "out"), EXECUTION)
    assert folder.endswith("/merge/2024/05/01/12")
    parts = sorted(Path(folder).glob("part-*.jsonl"))
    assert parts and not list(Path(folder).glob("part-*.txt"))
    lines = [json.loads(line) for p in parts for line in p.read_text().splitlines()]
    assert len(lines) == 7
    reference = json.loads((fixtures_dir / "model_monitor_merged_record_batch_transform.json").read_text())
    for line in lines:
        assert set(line) == set(reference)
        assert set(line["groundTruthData"]) == set(reference["groundTruthData"])
        assert "eventId" in line["eventMetadata"]
    by_id = {(m["eventMetadata"]["eventId"], m["eventMetadata"]["recordIndex"]): m for m in lines}
    assert by_id[("inf-6", 0)]["groundTruthData"] == {"data": '{"label": 1}', "encoding": "JSON"}
    assert json.loads(by_id[("e1", 0)]["captureData"]["flattenedRecord"]["data"]) == {"_c0": "0.9"}
    merged.unpersist()
    ground_truth.release()


def test_sagemaker_capture_and_ground_truth_fixtures(spark: Any, fixtures_dir: Path, tmp_path: Path) -> None:
    """The SDK's capture test data joined with its ground truth by eventId, via the real reader."""
    from monitor_service.spark.reader import read_input
    from monitor_service.specs import InputSpec

    folder = tmp_path / "gt" / "2024" / "05" / "01" / "09"
    folder.mkdir(parents=True)
    (folder / "actuals.jsonl").write_text((fixtures_dir / "ground_truth_merge_input_sdk_test.jsonl").read_text())
    capture_file = fixtures_dir / "capture_endpoint_csv_with_inferencetime_placeholder_sdk_test.jsonl"
    read = read_input(spark, InputSpec(path=str(capture_file), format="capture"), None)
    merged = merge_with_ground_truth(read.df, read_ground_truth(spark, str(tmp_path / "gt"), EXECUTION).labels)
    attrs = ModelQualityAttributes(problem_type="BinaryClassification", probability_attribute="0",
                                   probability_threshold=0.5)
    agg = aggregate(prepare(merged, attrs, "gt_fields"), attrs)
    block = metric_block(attrs.problem_type, agg.full, agg.subsamples, agg.labelled)
    read.release()
    labels = {}
    for line in (fixtures_dir / "ground_truth_merge_input_sdk_test.jsonl").read_text().splitlines():
        record = json.loads(line)
        labels[record["eventMetadata"]["eventId"]] = int(record["groundTruthData"]["data"])
    pairs = []
    for line in capture_file.read_text().splitlines():
        record = json.loads(line)
        event = record["eventMetadata"]["eventId"]
        if event in labels:
            pairs.append((labels[event], float(record["captureData"]["endpointOutput"]["data"])))
    y, s = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    captured = len(capture_file.read_text().splitlines())
    assert agg.labelled == len(pairs) and agg.unlabelled == captured - len(pairs)
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-9)
    assert block["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y, s >= 0.5), abs=1e-9)


def test_label_files_collected_after_the_execution_time_are_not_read(spark: Any, tmp_path: Path) -> None:
    root = tmp_path / "gt"
    write(root, "10", "a.jsonl", [gt("e1", "1"), gt("e2", "0")])
    write(root, "11", "b.jsonl", [gt("e1", "0")])  # available from 12:00: counts
    write(root, "12", "c.jsonl", [gt("e2", "1"), "not json"])  # available from 13:00: not read
    write(root, "15", "d.jsonl", [gt("e3", "1")])
    read = read_ground_truth(spark, str(root), EXECUTION)
    try:
        stats = read.stats()
        assert read.lines.is_cached  # one read and parse for the statistics and the merge
        assert (stats.lines, stats.late, stats.malformed, stats.late_files) == (3, 0, 0, 2)
        assert stats.as_metrics()["label_files_late"] == 2
        labels = {r["key"]: r["gt_fields"][0]["value"] for r in read.labels.collect()}
        assert labels == {"e1": "0", "e2": "0"}
    finally:
        read.release()
    assert not read.lines.is_cached


def test_staged_label_files_keep_their_hour_folders(spark: Any) -> None:
    """memory:// (like s3:// or gs:// without Hadoop jars) is copied to a local folder first."""
    import fsspec

    fs = fsspec.filesystem("memory")
    base = "/mq-ground-truth"
    fs.pipe({f"{base}/2024/05/01/10/a b+1.jsonl": (gt("e1", "1") + "\n" + gt("e2", "1") + "\n").encode(),
             f"{base}/2024/05/01/11/b.jsonl": (gt("e1", "0") + "\n").encode(),
             f"{base}/2024/05/01/13/c.jsonl": (gt("e2", "0") + "\n").encode(),
             f"{base}/manual.jsonl": (gt("e3", "1") + "\n").encode(),
             f"{base}/manual-late.jsonl": (gt("e4", "1") + "\n").encode()})
    fs.store[f"{base}/manual.jsonl"].modified = datetime(2024, 5, 1, 9, tzinfo=UTC)
    fs.store[f"{base}/manual-late.jsonl"].modified = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    try:
        read = read_ground_truth(spark, f"memory://{base}", EXECUTION)
        assert read.source is not None and read.source.staging_dir is not None
        staging = Path(read.source.staging_dir)
        try:
            stats = read.stats()
            assert (stats.lines, stats.late, stats.usable, stats.late_files) == (5, 1, 4, 1)
            rows = read.labels.selectExpr("key", "gt_fields[0].value AS label",
                                          "hour(gt_available_at) AS available_hour").collect()
            assert {r["key"]: (r["label"], r["available_hour"]) for r in rows} == {
                "e1": ("0", 12), "e2": ("1", 11), "e3": ("1", 9)}
            paths = {r["file_path"] for r in read.lines.collect()}
            assert f"memory://{base}/2024/05/01/10/a b+1.jsonl" in paths
        finally:
            read.release()
        assert not staging.exists()
    finally:
        fs.rm(base, recursive=True)
