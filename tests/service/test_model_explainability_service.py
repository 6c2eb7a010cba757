"""The ModelExplainability monitor in the service: baselines (SageMaker's analysis.json uploaded as it is, or a
baseline job), schedules, executions, violations, per-feature attribution and nDCG history, Prometheus gauges.
A fake runner writes the files the real job writes; the last test runs the real job through the scheduler on a
model trained in the test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from monitor_service.api import create_app
from monitor_service.core.registry import Registry
from monitor_service.monitors import MONITORS, builtin_monitors, replace_jobs
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.monitors.model_explainability.requests import (
    ModelExplainabilityAnalyzeRequest,
    ModelExplainabilityBaselineRequest,
)
from monitor_service.runner.summary import RunSummary
from monitor_service.scheduler.service import MonitorScheduler
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore
from monitor_service.store.db import make_sessionmaker
from tests.service.conftest import FIXTURES, T0, FakeClock, FakeRunner, schedule_body, write_reports

ANALYSIS: dict[str, Any] = json.loads(
    (FIXTURES / "clarify_explainability_monitor_baseline_analysis_endpoint.json").read_text())
BASE_VALUES: dict[str, float] = ANALYSIS["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
FEATURES = list(BASE_VALUES)
CONFIG: dict[str, Any] = {"version": "1.0", "headers": FEATURES, "methods": {"shap": {"max_records": 500}},
                          "predictor": {"model_uri": "/data/models/adult.json", "framework": "xgboost"}}
DRIFT = "Feature attribution drift 0.7639720923277322 exceeds threshold 0.9"


@dataclass
class FakeExplainabilityRunner:
    """Writes the explainability files; windows starting in `drifted` reverse the baseline's ranking."""

    drifted: set[datetime] = field(default_factory=set)
    calls: list[ModelExplainabilityAnalyzeRequest] = field(default_factory=list)
    baseline_calls: list[ModelExplainabilityBaselineRequest] = field(default_factory=list)

    def analyze(self, spark: Any, request: ModelExplainabilityAnalyzeRequest) -> RunSummary:
        self.calls.append(request)
        assert request.input.window is not None
        drift = request.input.window.start in self.drifted
        order = sorted(FEATURES, key=lambda f: BASE_VALUES[f])
        window = {f: (order.index(f) + 1) / 100 if drift else BASE_VALUES[f] for f in FEATURES}
        ndcg = 0.7639720923277322 if drift else 1.0
        violations = [{"label": "label0", "metric_name": "shap", "constraint_check_type":
                       "feature_attribution_drift_check", "description": DRIFT}] if drift else []
        metrics: dict[str, dict[str, float | None]] = {
            "label0": {"ndcg": ndcg, "ndcg_threshold": 0.9, "expected_value": 0.25},
            "records": {"available": 900.0, "explained": 500.0}}
        for f in FEATURES:
            metrics[f] = {"attribution": window[f], "baseline_attribution": BASE_VALUES[f],
                          "attribution_change": window[f] - BASE_VALUES[f]}
        summary = RunSummary(job="analyze", monitor_type="ModelExplainability",
                             status="CompletedWithViolations" if drift else "Completed", records_read=900,
                             records_analyzed=500, violations=len(violations), feature_metrics=metrics,
                             violations_by_check={"feature_attribution_drift_check": 1} if drift else {})
        out = write_reports(request.output_dir, summary, {
            "analysis": {"version": "1.0", "explanations": {"tree_shap": {"label0": {
                "global_shap_values": window, "expected_value": 0.25}}}},
            "constraint_violations": {"version": "1.0", "violations": violations}})
        (Path(request.output_dir) / "report.html").write_text("<!DOCTYPE html><html></html>")
        out.artifacts["report"] = str(Path(request.output_dir) / "report.html")
        (Path(request.output_dir) / "summary.json").write_text(out.model_dump_json())
        return out

    def baseline(self, spark: Any, request: ModelExplainabilityBaselineRequest) -> RunSummary:
        self.baseline_calls.append(request)
        assert isinstance(request.analysis_config, dict)
        return write_reports(request.output_dir, RunSummary(job="baseline", monitor_type="ModelExplainability",
                                                            status="Completed", records_read=300),
                             {"analysis": ANALYSIS, "analysis_config": request.analysis_config})


@pytest.fixture
def me_runner() -> FakeExplainabilityRunner:
    return FakeExplainabilityRunner()


@pytest.fixture
def monitors(runner: FakeRunner, me_runner: FakeExplainabilityRunner) -> Registry[MonitorPlugin]:
    return replace_jobs(builtin_monitors(), {"DataQuality": (runner.analyze, runner.baseline),
                                             "ModelExplainability": (me_runner.analyze, me_runner.baseline)})


def upload(client: TestClient, admin: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/baselines", headers=admin, json={
        "name": "adult-shap", "monitor_type": "ModelExplainability", "analysis": ANALYSIS, **body})


@pytest.fixture
def me_baseline(client: TestClient, admin: dict[str, str]) -> str:
    response = upload(client, admin, analysis_config=CONFIG)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def me_schedule_body(baseline: str, **overrides: Any) -> dict[str, Any]:
    return schedule_body(baseline, **{"name": "adult-attribution", "monitor_type": "ModelExplainability",
                                      "model_explainability": {}, **overrides})


def test_sagemaker_analysis_uploaded_as_baseline(client: TestClient, admin: dict[str, str], me_baseline: str) -> None:
    detail = client.get(f"/api/v1/baselines/{me_baseline}", headers=admin).json()
    assert detail["monitor_type"] == "ModelExplainability" and detail["features"] == 14
    assert detail["analysis"] == ANALYSIS and detail["analysis_config"] == CONFIG
    assert json.loads(Path(detail["analysis_path"]).read_text()) == ANALYSIS
    edited = {**CONFIG, "attribution_drift_check": {"threshold": 0.8}}
    replaced = client.put(f"/api/v1/baselines/{me_baseline}/documents/analysis_config", headers=admin, json=edited)
    assert replaced.status_code == 200 and replaced.json()["version"] == 2, replaced.text
    bad = client.put(f"/api/v1/baselines/{me_baseline}/documents/analysis_config", headers=admin, json={"methods": {}})
    assert bad.status_code == 422 and "no methods.shap section" in bad.text


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"analysis": None}, "analysis", "a ModelExplainability baseline needs analysis"),
    ({"analysis": {"explanations": {}}}, "analysis", "has no explanations section"),
    ({"analysis": {"explanations": {"kernel_shap": {"label0": {"global_shap_values": {"Age": "high"}}}}}},
     "analysis", "must be a number"),
    ({"analysis_config": {"methods": {"shap": {}}}}, "analysis_config", "has no predictor"),
    ({"analysis_config": {**CONFIG, "methods": {"shap": {"agg_method": "max"}}}}, "analysis_config", "agg_method"),
    ({"statistics": {"features": []}}, "statistics", "have no statistics document"),
])
def test_baseline_validation(client: TestClient, admin: dict[str, str], body: dict[str, Any], field: str,
                             message: str) -> None:
    response = upload(client, admin, **body)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", field] and message in error["msg"], error


def test_schedule_validation(client: TestClient, admin: dict[str, str], me_baseline: str) -> None:
    missing = client.post("/api/v1/schedules", headers=admin, json=me_schedule_body(me_baseline,
                                                                                     model_explainability=None))
    assert missing.status_code == 422
    assert "ModelExplainability monitors need model_explainability" in missing.json()["detail"][0]["msg"]
    bare = upload(client, admin, name="no-config").json()["id"]
    refused = client.post("/api/v1/schedules", headers=admin, json=me_schedule_body(bare, name="x"))
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "model_explainability"]
    assert "keeps no analysis_config" in refused.text
    wrong = client.post("/api/v1/schedules", headers=admin, json=me_schedule_body(
        bare, name="y", model_explainability={"analysis_config": {"methods": {"shap": {}}}}))
    assert wrong.status_code == 422 and "has no predictor" in wrong.text
    good = client.post("/api/v1/schedules", headers=admin, json=me_schedule_body(
        bare, name="z", model_explainability={"analysis_config": CONFIG, "max_records": 100}))
    assert good.status_code == 201, good.text


def test_windows_violations_history_and_gauges(client: TestClient, admin: dict[str, str], reader: dict[str, str],
                                               me_baseline: str, clock: FakeClock, make_scheduler: Any,
                                               me_runner: FakeExplainabilityRunner) -> None:
    schedule = client.post("/api/v1/schedules", headers=admin, json=me_schedule_body(me_baseline)).json()
    me_runner.drifted.add(T0 + timedelta(hours=1))  # the second of three windows
    for _ in range(3):
        clock.advance(hours=1)
        make_scheduler().tick()
    first = me_runner.calls[0]
    assert isinstance(first, ModelExplainabilityAnalyzeRequest) and first.input.window is not None
    assert isinstance(first.analysis_config, str) and first.analysis_config.endswith("/v1/analysis_config.json")
    assert first.baseline_constraints is not None and first.baseline_constraints.endswith("/v1/analysis.json")
    assert first.execution_time == T0 + timedelta(hours=1)

    violations = client.get("/api/v1/violations", headers=reader,
                            params={"monitor_type": "ModelExplainability"}).json()["items"]
    assert [(v["feature_name"], v["metric_name"], v["constraint_check_type"], v["description"])
            for v in violations] == [("label0", "shap", "feature_attribution_drift_check", DRIFT)]
    execution = client.get(f"/api/v1/executions/{violations[0]['execution_id']}", headers=reader).json()
    assert execution["status"] == "CompletedWithViolations"
    assert execution["violations_by_check"] == {"feature_attribution_drift_check": 1}
    assert {"analysis.json", "constraint_violations.json", "report.html"} <= set(execution["artifacts"])
    analysis = client.get(execution["artifacts"]["analysis.json"], headers=reader)
    assert analysis.status_code == 200 and "tree_shap" in analysis.json()["explanations"]

    features = f"/api/v1/schedules/{schedule['id']}/features"
    ndcg = client.get(f"{features}/label0/history", headers=reader).json()["points"]
    assert [p["metrics"]["ndcg"] for p in ndcg] == [1.0, 0.7639720923277322, 1.0]
    age = client.get(f"{features}/Age/history", headers=reader).json()["points"]
    assert age[0]["metrics"]["attribution"] == BASE_VALUES["Age"]
    assert age[1]["metrics"]["attribution_change"] == pytest.approx(0.12 - BASE_VALUES["Age"])

    lines = set(client.get("/metrics", headers=reader).text.splitlines())
    assert 'feature_attribution_ndcg{label="label0",schedule="adult-attribution"} 1.0' in lines
    assert f'feature_attribution{{feature="Age",label="label0",schedule="adult-attribution"}} ' \
           f'{BASE_VALUES["Age"]}' in lines
    assert 'feature_attribution_change{feature="Age",label="label0",schedule="adult-attribution"} 0.0' in lines
    assert not any(line.startswith("feature_attribution{feature=\"records\"") for line in lines)


def test_baseline_job(client: TestClient, admin: dict[str, str], make_scheduler: Any,
                      me_runner: FakeExplainabilityRunner) -> None:
    body = {"name": "shap-job", "monitor_type": "ModelExplainability",
            "input": {"path": "/data/train.csv", "format": "csv"}, "model_explainability": {"analysis_config": CONFIG}}
    missing = client.post("/api/v1/baseline-jobs", headers=admin, json={**body, "model_explainability": {}})
    assert missing.status_code == 422 and "needs model_explainability.analysis_config" in missing.text
    started = client.post("/api/v1/baseline-jobs", headers=admin, json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    assert make_scheduler().tick() == {job["execution_id"]: "Completed"}
    assert me_runner.baseline_calls[0].analysis_config == CONFIG
    ready = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert ready["status"] == "Ready", ready["failure_reason"]
    assert ready["analysis"] == ANALYSIS and ready["analysis_config"] == CONFIG


@pytest.mark.parametrize(("config", "field"), [
    ({**CONFIG, "predictor": {"model_uri": "/etc/passwd", "framework": "sklearn", "trusted": True}},
     "analysis_config.predictor.model_uri"),
    ({**CONFIG, "methods": {"shap": {"baseline": "/root/background.csv"}}}, "analysis_config.methods.shap.baseline"),
])
def test_files_an_analysis_config_names_must_lie_under_an_input_root(
        client: TestClient, admin: dict[str, str], make_scheduler: Any, me_runner: FakeExplainabilityRunner,
        config: dict[str, Any], field: str) -> None:
    """A model file (a trusted one runs code when loaded) or a background file outside the roots fails the run."""
    body = {"name": "shap-job", "monitor_type": "ModelExplainability",
            "input": {"path": "/data/train.csv", "format": "csv"}, "model_explainability": {"analysis_config": config}}
    job = client.post("/api/v1/baseline-jobs", headers=admin, json=body).json()
    assert make_scheduler().tick() == {job["execution_id"]: "Failed"}
    assert me_runner.baseline_calls == []
    failed = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
    assert f"{field}: file" in failed["failure_reason"] and "is not under an input root" in (
        failed["failure_reason"])


@pytest.mark.spark
def test_real_job_through_a_schedule(spark: Any, settings: Settings, engine: Engine, clock: FakeClock,
                                     admin: dict[str, str], tmp_path: Path) -> None:
    """A baseline job on a model trained here, then two scheduled hours of capture: the second one drifts."""
    import httpx

    from demo.model_explainability import FEATURES as LOAN_FEATURES
    from demo.model_explainability import WINDOW_START, prepare

    files = prepare(tmp_path)
    config = json.loads(files["config"].read_text())
    with TestClient(create_app(settings, clock=clock)) as client, httpx.Client() as http:
        scheduler = MonitorScheduler(factory=make_sessionmaker(engine), artifacts=ArtifactStore(
            settings.artifact_root), settings=settings, monitors=MONITORS, clock=clock, spark=lambda: spark, http=http)
        clock.set(WINDOW_START)
        job = client.post("/api/v1/baseline-jobs", headers=admin, json={
            "name": "loans", "monitor_type": "ModelExplainability",
            "input": {"path": str(files["train"]), "format": "csv", "dataset_config": {"header": True}},
            "model_explainability": {"analysis_config": config}}).json()
        assert scheduler.tick()[job["execution_id"]] == "Completed"
        baseline = client.get(f"/api/v1/baselines/{job['id']}", headers=admin).json()
        assert baseline["status"] == "Ready" and baseline["features"] == len(LOAN_FEATURES), baseline["failure_reason"]
        schedule = client.post("/api/v1/schedules", headers=admin, json={
            "name": "loans", "monitor_type": "ModelExplainability", "baseline_id": job["id"],
            "input": {"path": str(files["capture"]), "format": "capture"}, "model_explainability": {},
            "schedule_expression": "cron(0 * ? * * *)", "start_offset": "-PT1H", "end_offset": "PT0H"}).json()
        assert "id" in schedule, schedule
        statuses = []
        for hours in (1, 2):
            clock.set(WINDOW_START + timedelta(hours=hours))
            statuses.extend(scheduler.tick().values())
        assert statuses == ["Completed", "CompletedWithViolations"], statuses
        violations = client.get("/api/v1/violations", headers=admin, params={
            "monitor_type": "ModelExplainability", "schedule_id": schedule["id"]}).json()["items"]
        assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
            ("label0", "feature_attribution_drift_check")]
        assert violations[0]["window_start"] == (WINDOW_START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        points = client.get(f"/api/v1/schedules/{schedule['id']}/features/label0/history",
                            headers=admin).json()["points"]
        assert points[0]["metrics"]["ndcg"] > 0.9 > points[1]["metrics"]["ndcg"]
        execution = client.get(f"/api/v1/executions/{violations[0]['execution_id']}", headers=admin).json()
        written = client.get(execution["artifacts"]["analysis.json"], headers=admin).json()
        ndcg = written["monitor_service"]["feature_attribution_drift"]["label0"]["ndcg"]
        assert points[1]["metrics"]["ndcg"] == ndcg
        assert f'feature_attribution_ndcg{{label="label0",schedule="loans"}} {ndcg}' in client.get(
            "/metrics", headers=admin).text
