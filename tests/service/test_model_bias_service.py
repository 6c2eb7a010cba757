"""The ModelBias monitor in the service (SQLite and PostgreSQL): Clarify baselines by upload or job, schedules,
violations by facet and metric, per-facet metric history, Prometheus gauges and webhooks. A fake runner writes
the files the real jobs write; the last test runs the real bias jobs through a baseline job and a schedule."""

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
from monitor_service.monitors.model_bias.requests import ModelBiasAnalyzeRequest, ModelBiasBaselineRequest
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker
from tests.service.conftest import FIXTURES, T0, FakeClock, FakeRunner, Receiver, schedule_body, write_reports

CONFIG: dict[str, Any] = json.loads((FIXTURES / "clarify_bias_analysis_config_example.json").read_text())
ANALYSIS: dict[str, Any] = json.loads((FIXTURES / "clarify_bias_monitor_baseline_analysis_batch_transform.json")
                                      .read_text())
VIOLATIONS: dict[str, Any] = json.loads((FIXTURES / "clarify_bias_drift_constraint_violations_batch_transform.json")
                                        .read_text())
SETTINGS: dict[str, Any] = {"inference_attribute": "0", "drift": {"bootstrap_samples": 100, "confidence_level": 0.9}}
FAIR = {"DPPL": 0.21, "DI": 0.2, "CI": 0.37, "TE": None}
UNFAIR = {"DPPL": 0.45, "DI": 0.05, "CI": 0.37, "TE": None}


@dataclass
class FakeBiasRunner:
    """Writes the bias files; windows starting in `unfair` violate (Clarify's real violation file)."""

    unfair: set[datetime] = field(default_factory=set)
    calls: list[ModelBiasAnalyzeRequest] = field(default_factory=list)
    baseline_calls: list[ModelBiasBaselineRequest] = field(default_factory=list)

    def analyze(self, spark: Any, request: ModelBiasAnalyzeRequest) -> RunSummary:
        self.calls.append(request)
        assert request.input.window is not None
        bad = request.input.window.start in self.unfair
        violations = VIOLATIONS if bad else {"version": "1.0", "violations": []}
        count = len(violations["violations"])
        summary = RunSummary(job="analyze", monitor_type="ModelBias",
                             status="CompletedWithViolations" if bad else "Completed", records_read=500,
                             records_analyzed=450, violations=count,
                             violations_by_check={"bias_drift_check": count} if bad else {},
                             feature_metrics={"Sex=0": UNFAIR if bad else FAIR,
                                              "records": {"usable": 450.0, "unlabelled": 50.0}})
        return write_reports(request.output_dir, summary, {"analysis": ANALYSIS, "constraint_violations": violations})

    def baseline(self, spark: Any, request: ModelBiasBaselineRequest) -> RunSummary:
        self.baseline_calls.append(request)
        assert isinstance(request.analysis_config, dict)
        return write_reports(request.output_dir, RunSummary(job="baseline", monitor_type="ModelBias",
                                                            status="Completed", records_read=300),
                             {"analysis": ANALYSIS, "analysis_config": request.analysis_config})


@pytest.fixture
def bias_runner() -> FakeBiasRunner:
    return FakeBiasRunner()


@pytest.fixture
def monitors(runner: FakeRunner, bias_runner: FakeBiasRunner) -> Registry[MonitorPlugin]:
    return replace_jobs(builtin_monitors(), {"DataQuality": (runner.analyze, runner.baseline),
                                             "ModelBias": (bias_runner.analyze, bias_runner.baseline)})


def upload(client: TestClient, admin: dict[str, str], **body: Any) -> httpx.Response:
    return client.post("/api/v1/baselines", headers=admin, json={
        "name": "bias-baseline", "monitor_type": "ModelBias", "analysis_config": CONFIG, "analysis": ANALYSIS,
        **body})


@pytest.fixture
def bias_baseline(client: TestClient, admin: dict[str, str]) -> str:
    response = upload(client, admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def bias_schedule_body(baseline: str, **overrides: Any) -> dict[str, Any]:
    return schedule_body(baseline, **{"name": "adult-bias", "monitor_type": "ModelBias", "model_bias": SETTINGS,
                                      "start_offset": "-PT2H", "end_offset": "-PT1H", **overrides})


@pytest.fixture
def bias_schedule(client: TestClient, admin: dict[str, str], bias_baseline: str) -> str:
    response = client.post("/api/v1/schedules", headers=admin, json=bias_schedule_body(bias_baseline))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_clarify_files_upload_as_a_baseline(client: TestClient, admin: dict[str, str], bias_baseline: str) -> None:
    detail = client.get(f"/api/v1/baselines/{bias_baseline}", headers=admin).json()
    assert detail["monitor_type"] == "ModelBias" and detail["features"] == 1
    assert detail["analysis"] == ANALYSIS and detail["analysis_config"] == CONFIG  # kept as uploaded
    assert json.loads(Path(detail["documents"]["analysis"]).read_text()) == ANALYSIS
    edited = json.loads(json.dumps(ANALYSIS))
    edited["post_training_bias_metrics"]["facets"]["Sex"][0]["metrics"][6]["value"] = 0.1
    replaced = client.put(f"/api/v1/baselines/{bias_baseline}/documents/analysis", headers=admin, json=edited)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"analysis_config": {**CONFIG, "facet": []}}, "analysis_config", "facet"),
    ({"analysis_config": {**CONFIG, "label_values_or_threshold": []}}, "analysis_config", "label_values_or_threshold"),
    ({"analysis": {"version": "1.0"}}, "analysis", "not a valid clarify_bias_analysis"),
    ({"analysis": {**ANALYSIS, "post_training_bias_metrics": {"label": "Target", "label_value_or_threshold": "1",
                                                              "facets": {"Race": []}}, "pre_training_bias_metrics":
                   {"label": "Target", "label_value_or_threshold": "1", "facets": {"Race": [
                       {"value_or_threshold": "1", "metrics": []}]}}}}, "analysis", "none of the analysis config"),
    ({"analysis": None}, "analysis", ""),
])
def test_bad_bias_baselines_name_the_document(client: TestClient, admin: dict[str, str], body: dict[str, Any],
                                              field: str, message: str) -> None:
    response = upload(client, admin, **body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field] and message in error["msg"], error


@pytest.mark.parametrize(("overrides", "message"), [
    ({"model_bias": {"analysis_config": CONFIG}}, "uses its baseline's analysis_config"),
    ({"model_bias": {}}, "need the predicted label"),
    ({"model_bias": {"inference_attribute": "0", "drift": {"thresholds": {"XX": 1.0}}}}, "unknown metrics"),
])
def test_bias_schedule_validation(client: TestClient, admin: dict[str, str], bias_baseline: str,
                                  overrides: dict[str, Any], message: str) -> None:
    response = client.post("/api/v1/schedules", headers=admin, json=bias_schedule_body(bias_baseline, **overrides))
    assert response.status_code == 422, response.text
    assert message in response.text


def test_bias_windows(client: TestClient, admin: dict[str, str], reader: dict[str, str], bias_schedule: str,
                      clock: FakeClock, make_scheduler: Any, bias_runner: FakeBiasRunner, settings: Settings,
                      receiver: Receiver) -> None:
    """Three hourly windows, the second unfair: requests, violations by facet/metric, history, gauges, alerts."""
    hook = client.post("/api/v1/webhooks", headers=admin, json={"name": "ops", "url": "https://hooks.example.com/b"})
    assert hook.status_code == 201, hook.text
    bias_runner.unfair.add(T0)
    for _ in range(3):
        clock.advance(hours=1)
        make_scheduler().tick()
    first = bias_runner.calls[0]
    assert first.input.window is not None and first.input.window.end == T0
    assert first.execution_time == T0 + timedelta(hours=1)
    assert first.ground_truth == f"{settings.artifact_root}/ground-truth"
    assert isinstance(first.analysis_config, str) and first.analysis_config.endswith("/v1/analysis_config.json")
    assert first.baseline_constraints is not None and first.baseline_constraints.endswith("/v1/analysis.json")
    assert first.attributes.inference_attribute == "0"
    assert (first.drift.bootstrap_samples, first.drift.confidence_level) == (100, 0.9)

    every = client.get("/api/v1/violations", headers=reader, params={"monitor_type": "ModelBias"}).json()["items"]
    assert len(every) == 8 and {v["constraint_check_type"] for v in every} == {"bias_drift_check"}
    by_facet = client.get("/api/v1/violations", headers=reader, params={"feature": "Sex"}).json()["items"]
    assert len(by_facet) == 8 and by_facet[0]["details"] == {"facet_value": "0"}
    [te] = client.get("/api/v1/violations", headers=reader, params={"metric": "TE"}).json()["items"]
    assert te["feature_name"] == "Sex" and te["description"] == (
        "Metric value Infinity doesn't meet the baseline constraint requirement 2.916666666666667")
    assert client.get("/api/v1/violations", headers=reader, params={"feature": "Race"}).json()["items"] == []
    execution = client.get(f"/api/v1/executions/{te['execution_id']}", headers=reader).json()
    assert execution["status"] == "CompletedWithViolations" and execution["violations_by_check"] == {
        "bias_drift_check": 8}
    assert {"analysis.json", "constraint_violations.json", "summary.json"} <= set(execution["artifacts"])
    downloaded = client.get(execution["artifacts"]["constraint_violations.json"], headers=reader)
    assert downloaded.status_code == 200 and downloaded.json() == VIOLATIONS

    features = client.get(f"/api/v1/schedules/{bias_schedule}/features", headers=reader).json()
    assert features == ["Sex=0", "records"]
    history = client.get(f"/api/v1/schedules/{bias_schedule}/features/Sex=0/history", headers=reader).json()
    assert [p["metrics"]["DPPL"] for p in history["points"]] == [0.21, 0.45, 0.21]
    assert [p["metrics"]["TE"] for p in history["points"]] == [None, None, None]

    lines = set(client.get("/metrics", headers=reader).text.splitlines())
    assert 'model_bias_metric{facet="Sex=0",metric="DPPL",schedule="adult-bias"} 0.21' in lines
    assert 'model_bias_metric{facet="Sex=0",metric="DI",schedule="adult-bias"} 0.2' in lines
    assert not any(line.startswith("model_bias_metric{") and 'metric="TE"' in line for line in lines)
    assert not any('facet="records"' in line for line in lines)

    assert len(receiver.received) == 1
    payload = json.loads(receiver.received[0].content)
    assert payload["execution"]["violation_count"] == 8
    assert payload["violations"][0]["constraint_check_type"] == "bias_drift_check"


def test_bias_baseline_job(client: TestClient, admin: dict[str, str], make_scheduler: Any,
                           bias_runner: FakeBiasRunner) -> None:
    body = {"name": "bias-job", "monitor_type": "ModelBias", "input": {"path": "/data/train.csv", "format": "csv"},
            "model_bias": {"inference_attribute": "prediction", "analysis_config": CONFIG}}
    missing = client.post("/api/v1/baseline-jobs", headers=admin, json={**body, "model_bias": {}})
    assert missing.status_code == 422 and "needs model_bias.analysis_config" in missing.text
    broken = client.post("/api/v1/baseline-jobs", headers=admin, json={
        **body, "model_bias": {"analysis_config": {"label": "y"}}})
    assert broken.status_code == 422 and "label_values_or_threshold" in broken.text
    started = client.post("/api/v1/baseline-jobs", headers=admin, json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert make_scheduler().tick() == {job["execution_id"]: "Completed"}
    request = bias_runner.baseline_calls[0]
    assert request.analysis_config == CONFIG and request.attributes.inference_attribute == "prediction"
    ready = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert ready["status"] == "Ready", ready["failure_reason"]
    assert ready["analysis"] == ANALYSIS and ready["analysis_config"] == CONFIG


@pytest.mark.spark
def test_real_bias_jobs_through_the_service(spark: Any, settings: Settings, engine: Engine, clock: FakeClock,
                                            admin: dict[str, str], tmp_path: Path) -> None:
    """A baseline job on a fair dataset, labels over REST, one scheduled window of a model favouring one group."""
    from demo.model_bias_data import write_bias_data

    data = write_bias_data(tmp_path, records=1500, seed=3)
    hour = datetime(2024, 5, 1, tzinfo=UTC)
    with TestClient(create_app(settings, clock=clock)) as client, httpx.Client() as http:
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(
            settings.artifact_root), settings=settings, monitors=MONITORS, clock=clock, spark=lambda: spark, http=http)
        clock.set(hour.replace(hour=9))
        job = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "bias", "monitor_type": "ModelBias",
            "input": {"path": data["baseline"], "format": "csv", "dataset_config": {"header": True}},
            "model_bias": {"inference_attribute": "prediction", "analysis_config": data["config"]}}).json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        baseline = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
        assert baseline["status"] == "Ready", baseline["failure_reason"]
        clock.set(hour.replace(hour=11, minute=30))
        labels = [{"inference_id": key, "label": value} for key, value in data["unfair_labels"].items()]
        assert client.post("/api/v1/ground-truth", headers=admin, json=labels).status_code == 202
        schedule = client.post("/api/v1/schedules", headers=admin, json={
            "name": "bias", "monitor_type": "ModelBias", "baseline_id": job["id"],
            "input": {"path": data["unfair_capture"], "format": "capture",
                      "dataset_config": data["dataset_config"]},
            "model_bias": {"inference_attribute": "prediction"},
            "schedule_expression": "cron(0 * ? * * *)", "start_offset": "-PT2H", "end_offset": "-PT1H"}).json()
        clock.set(hour.replace(hour=12, minute=5))
        statuses = scheduler.tick()
        assert list(statuses.values()) == ["CompletedWithViolations"], statuses
        violations = client.get("/api/v1/violations", headers=admin, params={
            "schedule_id": schedule["id"], "feature": "sex"}).json()["items"]
        assert {"DPPL", "DI"} <= {v["metric_name"] for v in violations}
        history = client.get(f"/api/v1/schedules/{schedule['id']}/features/sex=0/history", headers=admin).json()
        assert history["points"][0]["metrics"]["DPPL"] > 0.1
