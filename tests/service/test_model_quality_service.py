"""The ModelQuality monitor in the service: ground truth over REST, baselines, schedules, violations,
metric history and Prometheus gauges. A fake runner writes the files the real one writes; the last
test runs the real model-quality runner through a schedule window on generated data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor_service.api import create_app
from monitor_service.core.registry import Registry
from monitor_service.monitors import MONITORS, builtin_monitors, replace_jobs
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.monitors.model_quality.jobs import ModelQualityAnalyzeRequest, ModelQualityBaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker
from tests.service.conftest import (
    CONSTRAINTS,
    STATISTICS,
    T0,
    FakeClock,
    FakeRunner,
    schedule_body,
    write_reports,
)

MQ_CONSTRAINTS: dict[str, Any] = {"version": 0.0, "binary_classification_constraints": {
    "auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"},
    "f2": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}}}
CALIBRATION: dict[str, Any] = {"version": 0.0, "method": "isotonic", "x": [0.1, 0.9], "y": [0.2, 0.8]}
SETTINGS: dict[str, Any] = {"problem_type": "BinaryClassification", "probability_attribute": "0"}
GOOD, BAD = {"auc": 0.81, "f2": 0.7, "accuracy": 0.75}, {"auc": 0.52, "f2": 0.3, "accuracy": 0.5}


@dataclass
class FakeModelQualityRunner:
    """Writes the model-quality files; windows starting in `degraded` violate the auc constraint."""

    degraded: set[datetime] = field(default_factory=set)
    calls: list[ModelQualityAnalyzeRequest] = field(default_factory=list)
    baseline_calls: list[ModelQualityBaselineRequest] = field(default_factory=list)

    def analyze(self, spark: Any, request: ModelQualityAnalyzeRequest) -> RunSummary:
        self.calls.append(request)
        assert request.input.window is not None
        metrics = BAD if request.input.window.start in self.degraded else GOOD
        violations = [{"metric_name": "auc", "constraint_check_type": "LessThanThreshold",
                       "description": f"Metric auc with {metrics['auc']} +/- NaN was LessThanThreshold '0.7'"}
                      ] if metrics is BAD else []
        block = {name: {"value": value, "standard_deviation": "NaN"} for name, value in metrics.items()}
        summary = RunSummary(
            job="analyze", monitor_type="ModelQuality", status="CompletedWithViolations" if violations else "Completed",
            records_read=120, records_analyzed=80, violations=len(violations),
            violations_by_check={"LessThanThreshold": len(violations)} if violations else {},
            feature_metrics={"model_quality": {**metrics, "recall": None},
                             "model_quality_estimated": {"auc": 0.78, "f2": 0.65, "accuracy": 0.7},
                             "records": {"labelled": 80.0, "unlabelled": 40.0},
                             "ground_truth": {"label_lines": 100.0, "labels_late": 20.0}})
        return write_reports(request.output_dir, summary, {
            "statistics": {"version": 0.0, "dataset": {"item_count": 80}, "binary_classification_metrics": block},
            "constraint_violations": {"violations": violations}, "estimated_statistics": {"estimated": True}})

    def baseline(self, spark: Any, request: ModelQualityBaselineRequest) -> RunSummary:
        self.baseline_calls.append(request)
        return write_reports(request.output_dir, RunSummary(job="baseline", monitor_type="ModelQuality",
                                                            status="Completed", records_read=300), {
            "statistics": {"version": 0.0, "dataset": {"item_count": 300}, "binary_classification_metrics": {}},
            "constraints": MQ_CONSTRAINTS, "calibration": CALIBRATION})


@pytest.fixture
def mq_runner() -> FakeModelQualityRunner:
    return FakeModelQualityRunner()


@pytest.fixture
def monitors(runner: FakeRunner, mq_runner: FakeModelQualityRunner) -> Registry[MonitorPlugin]:
    """The real monitor types, DataQuality and ModelQuality running fake runners."""
    return replace_jobs(builtin_monitors(), {"DataQuality": (runner.analyze, runner.baseline),
                                             "ModelQuality": (mq_runner.analyze, mq_runner.baseline)})


def upload(client: TestClient, admin: dict[str, str], **body: Any) -> httpx.Response:
    return client.post("/api/v1/baselines", headers=admin, json={
        "name": "mq-baseline", "monitor_type": "ModelQuality", "constraints": MQ_CONSTRAINTS, **body})


@pytest.fixture
def mq_baseline(client: TestClient, admin: dict[str, str]) -> str:
    response = upload(client, admin, calibration=CALIBRATION)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def mq_schedule_body(baseline: str, **overrides: Any) -> dict[str, Any]:
    return schedule_body(baseline, **{"name": "churn-mq", "monitor_type": "ModelQuality", "model_quality": SETTINGS,
                                      "start_offset": "-PT2H", "end_offset": "-PT1H", **overrides})


@pytest.fixture
def mq_schedule(client: TestClient, admin: dict[str, str], mq_baseline: str) -> str:
    response = client.post("/api/v1/schedules", headers=admin, json=mq_schedule_body(mq_baseline))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def ground_truth_lines(path: str) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [(r["eventMetadata"]["eventId"], r["groundTruthData"]["data"]) for r in records]


def test_ground_truth_batches(client: TestClient, admin: dict[str, str], reader: dict[str, str], clock: FakeClock,
                              settings: Settings) -> None:
    clock.set(T0 + timedelta(minutes=30))
    batch = {"labels": [{"inference_id": "id-1", "label": 1}, {"inference_id": "id-2", "label": False},
                        {"inference_id": "id-1", "label": 0}]}
    first = client.post("/api/v1/ground-truth", headers=admin, json=batch)
    assert first.status_code == 202, first.text
    stored = first.json()
    assert (stored["labels"], stored["distinct_ids"]) == (3, 2)
    assert stored["collected_at"] == "2024-05-01T00:30:00Z" and stored["available_from"] == "2024-05-01T01:00:00Z"
    assert stored["path"].startswith(f"{settings.artifact_root}/ground-truth/2024/05/01/00/")
    assert ground_truth_lines(stored["path"]) == [("id-1", "1"), ("id-2", "0"), ("id-1", "0")]
    again = client.post("/api/v1/ground-truth", headers=admin, json=batch)  # a re-send: same labels, new file
    assert again.status_code == 202 and again.json()["path"] != stored["path"]
    assert ground_truth_lines(again.json()["path"]) == ground_truth_lines(stored["path"])
    bare = client.post("/api/v1/ground-truth", headers=admin, json=[{"inference_id": "id-3", "label": {"y": [1]}}])
    assert bare.status_code == 202 and ground_truth_lines(bare.json()["path"]) == [("id-3", '{"y":[1]}')]
    assert client.post("/api/v1/ground-truth", headers=reader, json=batch).status_code == 403
    description = " ".join(client.get("/openapi.json").json()["paths"]["/api/v1/ground-truth"]["post"][
        "description"].split())
    assert "later label replaces an earlier one" in description and "Idempotent" in description


@pytest.mark.parametrize(("body", "loc", "message"), [
    ({"labels": []}, ["body", "labels"], "at least 1"),
    ([], ["body", "labels"], "at least 1"),
    ({"labels": [{"inference_id": "a"}]}, ["body", "labels", 0, "label"], "Field required"),
    ({"labels": [{"inference_id": " ", "label": 1}]}, ["body", "labels", 0, "inference_id"], "blank"),
    ({"labels": [{"inference_id": "a", "label": 1, "extra": 2}]}, ["body", "labels", 0, "extra"], "Extra inputs"),
])
def test_ground_truth_validation(client: TestClient, admin: dict[str, str], body: Any, loc: list[Any],
                                 message: str) -> None:
    response = client.post("/api/v1/ground-truth", headers=admin, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"], error


def test_model_quality_baselines(client: TestClient, admin: dict[str, str], mq_baseline: str) -> None:
    detail = client.get(f"/api/v1/baselines/{mq_baseline}", headers=admin).json()
    assert detail["monitor_type"] == "ModelQuality" and detail["statistics_path"] is None
    assert detail["constraints"] == MQ_CONSTRAINTS and detail["calibration"] == CALIBRATION
    assert json.loads(Path(detail["calibration_path"]).read_text()) == CALIBRATION
    patched = client.patch(f"/api/v1/baselines/{mq_baseline}/constraints", headers=admin, json={"checks": {}})
    assert patched.status_code == 422 and patched.json()["detail"][0]["loc"] == ["body", "checks"]
    edited = {"version": 0.0, "binary_classification_constraints": {
        "auc": {"threshold": 0.6, "comparison_operator": "LessThanThreshold"}}}
    replaced = client.put(f"/api/v1/baselines/{mq_baseline}/constraints", headers=admin, json=edited)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2 and "/v2/" in replaced.json()["calibration_path"]
    bad = client.put(f"/api/v1/baselines/{mq_baseline}/constraints", headers=admin, json=CONSTRAINTS)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "constraints"]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"constraints": CONSTRAINTS}, "constraints", "exactly one of"),
    ({"constraints": {"binary_classification_constraints": {"speed": {
        "threshold": 1, "comparison_operator": "LessThanThreshold"}}}}, "constraints", "unknown BinaryClassification"),
    ({"constraints": {"binary_classification_constraints": {"auc": {
        "threshold": 1, "comparison_operator": "Below"}}}}, "constraints", "comparison_operator"),
    ({"statistics": {"regression_metrics": {"mae": {"value": 1.0}}}}, "statistics", "Regression metrics"),
    ({"calibration": {"x": [0.5, 0.1], "y": [0.1, 0.2]}}, "calibration", "sorted"),
    ({"constraints": {"regression_constraints": {}}, "calibration": CALIBRATION}, "calibration",
     "only used for BinaryClassification"),
    ({"monitor_type": "DataQuality", "statistics": STATISTICS, "constraints": CONSTRAINTS,
      "calibration": CALIBRATION}, "calibration", "only ModelQuality"),
    ({"monitor_type": "DataQuality", "constraints": CONSTRAINTS}, "statistics", "needs statistics"),
    ({"monitor_type": "Bias"}, "monitor_type", "unknown monitor type"),
])
def test_model_quality_baseline_validation(client: TestClient, admin: dict[str, str], body: dict[str, Any],
                                           field: str, message: str) -> None:
    response = upload(client, admin, **body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field] and message in error["msg"], error


@pytest.mark.parametrize(("overrides", "loc", "message"), [
    ({"model_quality": None}, ["body", "model_quality"], "ModelQuality monitors need model_quality"),
    ({"monitor_type": "DataQuality", "model_quality": None}, ["body", "baseline_id"], "is a ModelQuality baseline"),
    ({"model_quality": {"problem_type": "Ranking"}}, ["body", "model_quality", "problem_type"], "Input should be"),
    ({"model_quality": {"problem_type": "BinaryClassification"}}, ["body", "model_quality"],
     "needs inference_attribute or probability_attribute"),
    ({"model_quality": {**SETTINGS, "probability_threshold": 1.5}},
     ["body", "model_quality", "probability_threshold"], "less than or equal"),
    ({"model_quality": {**SETTINGS, "label": "y"}}, ["body", "model_quality", "label"], "Extra inputs"),
    ({"model_quality": {"problem_type": "Regression", "inference_attribute": "0"}}, ["body", "model_quality"],
     "does not match baseline"),
])
def test_model_quality_schedule_validation(client: TestClient, admin: dict[str, str], mq_baseline: str,
                                           overrides: dict[str, Any], loc: list[str], message: str) -> None:
    response = client.post("/api/v1/schedules", headers=admin, json=mq_schedule_body(mq_baseline, **overrides))
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"], error


def test_model_quality_settings_belong_to_model_quality(client: TestClient, admin: dict[str, str],
                                                        baseline_id: str, mq_baseline: str) -> None:
    dq_with_settings = client.post("/api/v1/schedules", headers=admin,
                                   json=schedule_body(baseline_id, model_quality=SETTINGS))
    assert dq_with_settings.status_code == 422
    assert dq_with_settings.json()["detail"][0]["loc"] == ["body", "model_quality"]
    assert "DataQuality monitors take no model_quality" in dq_with_settings.json()["detail"][0]["msg"]
    dq_baseline = client.post("/api/v1/schedules", headers=admin, json=mq_schedule_body(baseline_id))
    assert dq_baseline.status_code == 422 and "is a DataQuality baseline" in dq_baseline.text


def test_model_quality_schedule_edits(client: TestClient, admin: dict[str, str], mq_schedule: str,
                                      baseline_id: str) -> None:
    created = client.get(f"/api/v1/schedules/{mq_schedule}", headers=admin).json()
    assert created["monitor_type"] == "ModelQuality" and created["model_quality"]["probability_attribute"] == "0"
    assert created["model_quality"]["ground_truth"] is None
    changed = {**SETTINGS, "probability_threshold": 0.7, "ground_truth": "s3://labels/churn"}
    response = client.patch(f"/api/v1/schedules/{mq_schedule}", headers=admin, json={"model_quality": changed})
    assert response.status_code == 200, response.text
    assert response.json()["model_quality"]["probability_threshold"] == 0.7
    assert response.json()["model_quality"]["ground_truth"] == "s3://labels/churn"
    for patch, loc in (({"model_quality": None}, ["body", "model_quality"]),
                       ({"baseline_id": baseline_id}, ["body", "baseline_id"]),
                       ({"model_quality": {"problem_type": "Regression", "inference_attribute": "0"}},
                        ["body", "model_quality"])):
        refused = client.patch(f"/api/v1/schedules/{mq_schedule}", headers=admin, json=patch)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == loc, refused.text
    assert client.get(f"/api/v1/schedules/{mq_schedule}", headers=admin).json()["model_quality"] == {
        **changed, "inference_attribute": None, "ground_truth_attribute": None}


def test_model_quality_windows(client: TestClient, admin: dict[str, str], reader: dict[str, str], mq_schedule: str,
                               clock: FakeClock, make_scheduler: Any, mq_runner: FakeModelQualityRunner,
                               settings: Settings) -> None:
    """Three hourly windows, the second degraded: requests, violations, history, gauges, downloads."""
    mq_runner.degraded.add(T0)
    for _ in range(3):
        clock.advance(hours=1)
        make_scheduler().tick()
    first = mq_runner.calls[0]
    assert isinstance(first, ModelQualityAnalyzeRequest) and first.input.window is not None
    assert (first.input.window.start, first.input.window.end) == (T0 - timedelta(hours=1), T0)
    assert first.execution_time == T0 + timedelta(hours=1)  # the scheduled time, not the window end
    assert first.ground_truth == f"{settings.artifact_root}/ground-truth"
    assert Path(first.ground_truth).is_dir()  # exists before the first label, so the run finds it empty
    assert first.baseline_constraints is not None and first.baseline_constraints.endswith("/v1/constraints.json")
    assert first.calibration is not None and first.calibration.endswith("/v1/calibration.json")
    assert first.attributes.problem_type == "BinaryClassification" and first.attributes.probability_attribute == "0"

    violations = client.get("/api/v1/violations", headers=reader, params={"monitor_type": "ModelQuality"}).json()
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations["items"]] == [
        ("auc", "LessThanThreshold")]
    assert violations["items"][0]["window_end"] == "2024-05-01T01:00:00Z"
    assert client.get("/api/v1/violations", headers=reader, params={"monitor_type": "DataQuality"}).json()[
        "items"] == []
    execution = client.get(f"/api/v1/executions/{violations['items'][0]['execution_id']}", headers=reader).json()
    assert execution["status"] == "CompletedWithViolations"
    assert execution["violations_by_check"] == {"LessThanThreshold": 1}
    estimated = client.get(execution["artifacts"]["estimated_statistics.json"], headers=reader)
    assert estimated.status_code == 200 and estimated.json() == {"estimated": True}

    assert client.get(f"/api/v1/schedules/{mq_schedule}/model-metrics", headers=reader).json() == [
        "accuracy", "auc", "f2", "recall"]
    history = client.get(f"/api/v1/schedules/{mq_schedule}/model-metrics/auc/history", headers=reader).json()
    assert [(p["value"], p["estimated"]) for p in history["points"]] == [(0.81, 0.78), (0.52, 0.78), (0.81, 0.78)]
    assert history["points"][0]["window_end"] == "2024-05-01T00:00:00Z"
    recent = client.get(f"/api/v1/schedules/{mq_schedule}/model-metrics/f2/history", headers=reader,
                        params={"limit": "2", "since": "2024-05-01T01:00:00Z"}).json()["points"]
    assert [p["value"] for p in recent] == [0.3, 0.7]
    recall = client.get(f"/api/v1/schedules/{mq_schedule}/model-metrics/recall/history", headers=reader).json()
    assert [(p["value"], p["estimated"]) for p in recall["points"]] == [(None, None)] * 3
    assert client.get(f"/api/v1/schedules/{mq_schedule}/model-metrics/mae/history", headers=reader).json()[
        "points"] == []
    assert client.get("/api/v1/schedules/missing/model-metrics/auc/history", headers=reader).status_code == 404
    records = client.get(f"/api/v1/schedules/{mq_schedule}/features/records/history", headers=reader).json()
    assert records["points"][0]["metrics"] == {"labelled": 80.0, "unlabelled": 40.0}

    lines = set(client.get("/metrics", headers=reader).text.splitlines())
    assert 'model_metrics_auc{estimated="false",schedule="churn-mq"} 0.81' in lines
    assert 'model_metrics_auc{estimated="true",schedule="churn-mq"} 0.78' in lines
    assert 'model_metrics_f2{estimated="false",schedule="churn-mq"} 0.7' in lines
    assert not any(line.startswith("model_metrics_recall{") for line in lines)  # NaN: no sample
    assert not any(line.startswith("feature_baseline_drift{") for line in lines)

    clock.advance(minutes=20)
    manual = client.post(f"/api/v1/schedules/{mq_schedule}/executions", headers=admin,
                         json={"start": "2024-04-30T20:00:00Z", "end": "2024-04-30T21:00:00Z"})
    assert manual.status_code == 202, manual.text
    make_scheduler().tick()
    assert mq_runner.calls[-1].execution_time == clock.current  # a manual run: labels up to when it was asked


def test_model_quality_baseline_job(client: TestClient, admin: dict[str, str], make_scheduler: Any,
                                    mq_runner: FakeModelQualityRunner) -> None:
    body = {"name": "mq-job", "monitor_type": "ModelQuality", "input": {"path": "/data/train.csv", "format": "csv"},
            "model_quality": {**SETTINGS, "ground_truth_attribute": "label"}}
    missing = client.post("/api/v1/baseline-jobs", headers=admin, json={**body, "model_quality": None})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "model_quality"]
    started = client.post("/api/v1/baseline-jobs", headers=admin, json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert make_scheduler().tick() == {job["execution_id"]: "Completed"}
    request = mq_runner.baseline_calls[0]
    assert isinstance(request, ModelQualityBaselineRequest) and request.ground_truth is None
    assert request.attributes.ground_truth_attribute == "label"
    ready = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert ready["status"] == "Ready" and ready["monitor_type"] == "ModelQuality", ready["failure_reason"]
    assert ready["constraints"] == MQ_CONSTRAINTS and ready["calibration"] == CALIBRATION
    execution = client.get(f"/api/v1/executions/{job['execution_id']}", headers=admin).json()
    assert "calibration.json" in execution["artifacts"]


@pytest.mark.spark
def test_real_model_quality_runner_through_a_schedule(spark: Any, settings: Settings, engine: Engine,
                                                      clock: FakeClock, admin: dict[str, str],
                                                      tmp_path: Path) -> None:
    """Baseline job, labels over REST (a correction, a re-send, late labels), one scheduled window."""
    from sklearn.metrics import roc_auc_score

    from demo.model_quality_data import write_late_label_files

    data = write_late_label_files(tmp_path)  # capture 10:00-11:00; 80 labelled by 12:00, 20 late, 20 never
    truth, hour = data["truth"], datetime(2024, 5, 1, tzinfo=UTC)

    def labels(ids: range, values: Any) -> list[dict[str, Any]]:
        return [{"inference_id": f"id-{i}", "label": int(values[i])} for i in ids]

    with TestClient(create_app(settings, clock=clock)) as client, httpx.Client() as http:
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(
            settings.artifact_root), settings=settings, monitors=MONITORS, clock=clock, spark=lambda: spark, http=http)
        clock.set(hour.replace(hour=9))
        job = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "mq", "monitor_type": "ModelQuality",
            "input": {"path": str(tmp_path / "baseline.csv"), "format": "csv", "dataset_config": {"header": True}},
            "model_quality": {"problem_type": "BinaryClassification", "inference_attribute": "prediction",
                              "probability_attribute": "probability", "ground_truth_attribute": "label"}}).json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        baseline = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
        assert baseline["status"] == "Ready" and baseline["calibration_path"], baseline["failure_reason"]

        def post(at: datetime, batch: list[dict[str, Any]]) -> None:
            clock.set(at)
            assert client.post("/api/v1/ground-truth", headers=admin, json=batch).status_code == 202

        post(hour.replace(hour=10, minute=30), labels(range(10), 1 - truth))  # wrong, corrected at 11:30
        post(hour.replace(hour=11, minute=30), labels(data["labelled_now"], truth))
        post(hour.replace(hour=11, minute=31), labels(data["labelled_now"], truth))  # a re-send
        clock.set(hour.replace(hour=11, minute=45))
        schedule = client.post("/api/v1/schedules", headers=admin, json={
            "name": "mq", "monitor_type": "ModelQuality", "baseline_id": job["id"],
            "input": {"path": str(tmp_path / "capture"), "format": "capture"},
            "model_quality": {"problem_type": "BinaryClassification", "probability_attribute": "0"},
            "schedule_expression": "cron(0 * ? * * *)", "start_offset": "-PT2H", "end_offset": "-PT1H"}).json()
        post(hour.replace(hour=12, minute=10), labels(data["late"], truth))  # after the 12:00 execution time
        statuses = scheduler.tick()
        assert list(statuses.values()) == ["CompletedWithViolations"], statuses

        violations = client.get("/api/v1/violations", headers=admin, params={
            "monitor_type": "ModelQuality", "schedule_id": schedule["id"]}).json()["items"]
        auc = next(v for v in violations if v["feature_name"] == "auc")
        assert auc["constraint_check_type"] == "LessThanThreshold" and auc["description"].startswith("Metric auc")
        assert auc["window_start"] == "2024-05-01T10:00:00Z" and auc["window_end"] == "2024-05-01T11:00:00Z"
        point = client.get(f"/api/v1/schedules/{schedule['id']}/model-metrics/auc/history",
                           headers=admin).json()["points"][0]
        labelled = list(data["labelled_now"])
        assert point["value"] == pytest.approx(roc_auc_score(truth[labelled], data["q"][labelled]), abs=1e-9)
        assert point["estimated"] is not None  # 40 records without a label, estimated by CBPE
        features = f"/api/v1/schedules/{schedule['id']}/features"
        records = client.get(f"{features}/records/history", headers=admin).json()["points"][0]["metrics"]
        assert records == {"labelled": 80.0, "unlabelled": 40.0}
        gt = client.get(f"{features}/ground_truth/history", headers=admin).json()["points"][0]["metrics"]
        # the late labels sit in one hour folder past the execution time: that file is not read at all
        counts = (gt["label_files_late"], gt["labels_late"], gt["labelled_ids"], gt["labels_superseded"])
        assert counts == (1, 0, 80, 90)
        assert f'model_metrics_auc{{estimated="false",schedule="mq"}} {point["value"]}' in client.get(
            "/metrics", headers=admin).text


def test_model_quality_constraints_patch(client: TestClient, admin: dict[str, str], mq_baseline: str) -> None:
    path = f"/api/v1/baselines/{mq_baseline}/constraints"
    block = "binary_classification_constraints"
    before = client.get(path, headers=admin).json()[block]
    patched = client.patch(path, headers=admin, json={"metrics": {
        "auc": {"threshold": 0.65}, "f1": {"threshold": 0.5, "comparison_operator": "LessThanOrEqualToThreshold"}}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    after = client.get(path, headers=admin).json()[block]
    assert after["auc"] == {**before["auc"], "threshold": 0.65}
    assert after["f1"] == {"threshold": 0.5, "comparison_operator": "LessThanOrEqualToThreshold"}
    dropped = client.patch(path, headers=admin, json={"metrics": {"f1": {"enabled": False}}})
    assert dropped.status_code == 200 and "f1" not in client.get(path, headers=admin).json()[block]
    for body, message in (({"metrics": {"speed": {"threshold": 1, "comparison_operator": "LessThanThreshold"}}},
                           "unknown BinaryClassification metric 'speed'"),
                          ({"metrics": {"recall": {"threshold": 0.5}}}, "give both threshold and comparison_operator"),
                          ({"metrics": {"auc": {"comparison_operator": "Sideways"}}}, "unknown comparison_operator")):
        refused = client.patch(path, headers=admin, json=body)
        assert refused.status_code == 422 and message in refused.text, refused.text
    assert client.get(f"/api/v1/baselines/{mq_baseline}", headers=admin).json()["version"] == 3
